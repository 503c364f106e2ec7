-- The inbox's settings pages: an SLA's own time zone, routing rules into
-- queues, and the per-brand vehicle model catalogue.

-- A unit's SLA clock may run in a zone of its own ('' = the unit's zone).
-- A row with days = 0 sets only the zone (the clock runs around the clock
-- unless a unit above sets hours).
ALTER TABLE inbox_business_hours ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- Routing rules put a message of a unit's subtree that matches every set
-- condition into a queue. The nearest unit's rules come first, then by
-- position; the first match wins, and without one the intent decides.
CREATE TABLE inbox_routing_rules (
    id          AUTO_ID,
    unit_id     BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    channel_id  BIGINT REFERENCES channels(id) ON DELETE CASCADE,
    lang        TEXT NOT NULL DEFAULT '',
    intent      TEXT NOT NULL DEFAULT '',
    keywords    TEXT NOT NULL DEFAULT '', -- one per line; any of them matches
    queue       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX inbox_routing_rules_unit ON inbox_routing_rules(unit_id, position);

-- A brand unit's vehicle model catalogue as the classifier takes it (JSON
-- of classify.Brand). A brand unit without a row uses the built-in
-- catalogue of the brand its name names; version guards against two
-- editors overwriting each other.
CREATE TABLE vehicle_catalogues (
    unit_id     BIGINT PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
    brand       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
