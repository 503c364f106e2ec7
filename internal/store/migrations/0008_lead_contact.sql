-- When a lead was first contacted (left "new"), for the funnel's time to
-- first contact.
ALTER TABLE leads ADD COLUMN contacted_at BIGINT;
