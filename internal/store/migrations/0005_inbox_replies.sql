-- Replies sent back through a channel's connector, each with a delivery
-- like a post's (see deliveries), and a conversation's first response.

CREATE TABLE message_replies (
    id                AUTO_ID,
    -- the message answered; the conversation is its channel and key
    message_id        BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    channel_id        BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    conversation      TEXT NOT NULL,
    user_id           BIGINT REFERENCES users(id) ON DELETE SET NULL,
    text              TEXT NOT NULL,
    -- random per reply, the same for every attempt
    idem_key          TEXT NOT NULL UNIQUE,
    -- scheduled | publishing | published | failed | unknown
    status            TEXT NOT NULL DEFAULT 'scheduled',
    attempts          INTEGER NOT NULL DEFAULT 0,
    failures          INTEGER NOT NULL DEFAULT 0,
    platform_post_id  TEXT NOT NULL DEFAULT '',
    url               TEXT NOT NULL DEFAULT '',
    error             TEXT NOT NULL DEFAULT '',
    error_kind        TEXT NOT NULL DEFAULT '',
    first_attempt_at  BIGINT,
    last_attempt_at   BIGINT,
    not_before        BIGINT,
    published_at      BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX message_replies_conversation ON message_replies(channel_id, conversation, id);
CREATE INDEX message_replies_status ON message_replies(status);

-- When a reply first answered the message's conversation (NULL: not yet).
ALTER TABLE messages ADD COLUMN first_response_at BIGINT;

-- SLAs: when a message's first response is due (by its queue's target and
-- its unit's business hours, fixed on arrival) and when it is due soon.
ALTER TABLE messages ADD COLUMN sla_due_at BIGINT;
ALTER TABLE messages ADD COLUMN sla_warn_at BIGINT;
CREATE INDEX messages_sla_waiting ON messages(sla_due_at) WHERE first_response_at IS NULL;

-- A unit's first-response targets by queue ('' = every queue without its
-- own), inherited by its subtree.
CREATE TABLE inbox_sla_targets (
    unit_id  BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    queue    TEXT NOT NULL DEFAULT '',
    minutes  INTEGER NOT NULL,
    PRIMARY KEY (unit_id, queue)
);

-- A unit's business hours (in its time zone), inherited by its subtree:
-- days is a bit set, bit 0 Sunday … bit 6 Saturday; minutes after midnight.
CREATE TABLE inbox_business_hours (
    unit_id       BIGINT PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
    days          INTEGER NOT NULL,
    start_minute  INTEGER NOT NULL,
    end_minute    INTEGER NOT NULL
);

-- Tags on conversations (a conversation is its channel and key).
CREATE TABLE conversation_tags (
    channel_id    BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    conversation  TEXT NOT NULL,
    tag           TEXT NOT NULL,
    PRIMARY KEY (channel_id, conversation, tag)
);
CREATE INDEX conversation_tags_tag ON conversation_tags(tag);

-- A unit's saved replies, offered for its subtree's messages.
CREATE TABLE saved_replies (
    id          AUTO_ID,
    unit_id     BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (unit_id, name)
);
