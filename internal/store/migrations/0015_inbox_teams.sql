-- Teams: people of a unit who answer conversations together. A
-- conversation may be assigned to a team besides a person.

-- A unit's team; names are unique within the unit regardless of case
-- (name_key is the name lower-cased).
CREATE TABLE teams (
    id          AUTO_ID,
    unit_id     BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (unit_id, name_key)
);

-- A team's members: people who may answer its unit's inbox.
CREATE TABLE team_members (
    team_id  BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id, team_id);

-- A conversation's team, keyed like its tags (channel and conversation):
-- messages that arrive later in the conversation are the team's too.
-- Deleting a team is refused while open conversations are assigned to
-- it; the rows of closed ones go with it.
CREATE TABLE conversation_teams (
    channel_id    BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    conversation  TEXT NOT NULL,
    team_id       BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    assigned_at   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, conversation)
);
CREATE INDEX conversation_teams_team ON conversation_teams(team_id);

-- The team filter finds a team's messages from its conversations, then
-- checks their unit (the caller's scope) and status: with those columns in
-- the conversation index it need not read the messages' rows (a team of
-- 23,543 messages among 1,000,000: exact total 77 → 35 ms p95, see
-- BENCHMARKS.md). It replaces the index on (channel_id, conversation),
-- whose lookups it serves as well.
DROP INDEX IF EXISTS messages_conversation;
CREATE INDEX messages_conversation_scope ON messages(channel_id, conversation, unit_id, status);
