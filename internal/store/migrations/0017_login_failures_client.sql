-- Failed logins are counted per address and client (the caller's IP), so
-- that nobody can lock an address by failing at it from elsewhere; the
-- per-address and per-client totals still stop wide guessing.
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_client ON login_failures(client, at);
