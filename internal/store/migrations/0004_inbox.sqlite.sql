-- The inbox and leads: what the classifier and the router made of every
-- inbound message, conversations and their handling, notes, and leads.
-- (Written twice, .sqlite.sql and .postgres.sql, for full-text search.)

-- The unit a message is routed to: the channel's, or a dealer under it
-- that the text names. NULL for messages stored before this migration.
ALTER TABLE messages ADD COLUMN unit_id BIGINT REFERENCES units(id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN intent TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN lang TEXT NOT NULL DEFAULT '';
-- Vehicle models named, joined with '|'.
ALTER TABLE messages ADD COLUMN models TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN score REAL NOT NULL DEFAULT 0;
-- open | pending | closed
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
-- Thread and author: the messages an agent answers together.
ALTER TABLE messages ADD COLUMN conversation TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN assigned_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN queue TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN lead_id BIGINT;
ALTER TABLE messages ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET unit_id = (SELECT c.unit_id FROM channels c WHERE c.id = messages.channel_id);

-- Lists and counts by unit (scope, subtree) and by status first.
CREATE INDEX messages_unit ON messages(unit_id, id);
CREATE INDEX messages_unit_triage ON messages(unit_id, status, intent, lang);
CREATE INDEX messages_triage ON messages(status, intent, lang, unit_id);
CREATE INDEX messages_conversation ON messages(channel_id, conversation);

-- Internal notes on a message's conversation, never sent to the platform.
CREATE TABLE message_notes (
    id          AUTO_ID,
    message_id  BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX message_notes_message ON message_notes(message_id, id);

-- A prospect: one per person (platform and author id) per unit.
CREATE TABLE leads (
    id               AUTO_ID,
    unit_id          BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    person           TEXT NOT NULL,
    platform         TEXT NOT NULL DEFAULT '',
    author_name      TEXT NOT NULL DEFAULT '',
    author_handle    TEXT NOT NULL DEFAULT '',
    channel_id       BIGINT REFERENCES channels(id) ON DELETE SET NULL,
    -- new | contacted | qualified | won | lost
    state            TEXT NOT NULL DEFAULT 'new',
    outcome          TEXT NOT NULL DEFAULT '',
    score            REAL NOT NULL DEFAULT 0,
    confidence       REAL NOT NULL DEFAULT 0,
    interest         INTEGER NOT NULL DEFAULT 0,
    models           TEXT NOT NULL DEFAULT '',
    last_message_id  BIGINT,
    last_text        TEXT NOT NULL DEFAULT '',
    last_seen_at     BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    -- the updated_at last delivered to the CRM webhook (0: never)
    exported_at      BIGINT NOT NULL DEFAULT 0,
    UNIQUE (unit_id, person)
);
CREATE INDEX leads_unit ON leads(unit_id, state);
CREATE INDEX leads_updated ON leads(updated_at);

-- Full-text search over the messages' text: FTS5, kept by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
