-- The processes (nodes) working the database, each with its heartbeat, so
-- that an attempt marked by a node that has died can be reconciled as soon
-- as its heartbeat stops, instead of after the attempt's whole lease.
CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    host        TEXT NOT NULL DEFAULT '',
    started_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);

-- Which node marked the latest attempt ('' before this migration).
ALTER TABLE deliveries ADD COLUMN attempt_node TEXT NOT NULL DEFAULT '';
ALTER TABLE message_replies ADD COLUMN attempt_node TEXT NOT NULL DEFAULT '';
