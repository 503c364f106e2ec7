-- The organisation and its channel directory, users and access.
-- AUTO_ID is the engine's auto-increment primary key (see migrate.go).

CREATE TABLE units (
    id          AUTO_ID,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   BIGINT REFERENCES units(id),
    -- materialised path of ids from the root, "/1/4/9/": a subtree is one
    -- prefix match and a move is one UPDATE
    path        TEXT NOT NULL UNIQUE,
    depth       INTEGER NOT NULL,
    country     TEXT NOT NULL DEFAULT '',
    languages   TEXT NOT NULL DEFAULT '',
    time_zone   TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);

CREATE TABLE platforms (
    key     TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    status  TEXT NOT NULL
);

CREATE TABLE channels (
    id          AUTO_ID,
    unit_id     BIGINT NOT NULL REFERENCES units(id),
    platform    TEXT NOT NULL REFERENCES platforms(key),
    handle      TEXT NOT NULL DEFAULT '',
    -- what makes the account unique on its platform (lower-case handle or URL)
    account_key TEXT NOT NULL,
    url         TEXT NOT NULL DEFAULT '',
    given_url   TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    followers   BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (platform, account_key)
);
CREATE INDEX channels_unit ON channels(unit_id);

CREATE TABLE channel_audience (
    channel_id  BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    day         TEXT NOT NULL, -- YYYY-MM-DD, UTC
    followers   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, day)
);

CREATE TABLE users (
    id             AUTO_ID,
    email          TEXT NOT NULL UNIQUE, -- lower-case
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE grants (
    id          AUTO_ID,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    unit_id     BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (user_id, unit_id, role)
);
CREATE INDEX grants_unit ON grants(unit_id);

CREATE TABLE api_tokens (
    id            AUTO_ID,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE, -- SHA-256 of the token
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE sessions (
    hash        TEXT PRIMARY KEY, -- SHA-256 of the cookie's value
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed logins, per e-mail address, so that throttling holds across
-- restarts and across the nodes sharing one database.
CREATE TABLE login_failures (
    email   TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, at);

-- Small organisation-wide settings (the organisation's name, …).
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
