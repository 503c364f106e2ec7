-- Every message written updates every index on messages, and the ingest
-- of a busy hub pays for each. Two of them go:
--
-- messages_unit (unit_id, id) served a unit's list newest first, which the
-- list now gets otherwise: the page's ids come from messages_unit_triage
-- (unit_id, status, intent, lang), which covers a unit's messages and
-- their triage fields, and a unit with many messages is listed by walking
-- the primary key newest first.
--
-- messages_triage (status, intent, lang, unit_id) served filters without a
-- unit, which only the system makes (every user's list is scoped to their
-- units): it now names every unit and uses messages_unit_triage too. New
-- messages land at the end of each (status, intent, lang, unit) group, so
-- this index alone dirtied about one page per message written.
DROP INDEX IF EXISTS messages_unit;
DROP INDEX IF EXISTS messages_triage;
