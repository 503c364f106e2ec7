-- Every message written updates every index on messages, and the ingest
-- of a busy hub pays for each. messages_unit (unit_id, id) served a unit's
-- list newest first, which the list now gets otherwise: the page's ids
-- come from messages_unit_triage (unit_id, status, intent, lang), which
-- covers a unit's messages and their triage fields. (SQLite drops
-- messages_triage as well; PostgreSQL keeps it for unscoped filters.)
DROP INDEX IF EXISTS messages_unit;
