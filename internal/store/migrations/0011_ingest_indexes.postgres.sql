-- Every message written updates every index on messages; the ingest
-- of a busy hub pays for each. messages_unit (unit_id, id) served a unit's
-- list newest first, which the list now gets otherwise: the page's ids
-- come from messages_unit_triage (unit_id, status, intent, lang), which
-- covers a unit's messages and their triage fields, and a unit with many
-- messages is listed by walking the primary key newest first.
DROP INDEX IF EXISTS messages_unit;
