-- Channels connected to their platforms, inbound messages, notices.

-- A channel's link to its platform account. Credentials are sealed with
-- AES-256-GCM (internal/secret) and never stored in the clear.
CREATE TABLE channel_connections (
    channel_id      BIGINT PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    platform        TEXT NOT NULL,
    base_url        TEXT NOT NULL DEFAULT '',
    external_id     TEXT NOT NULL DEFAULT '',
    account_handle  TEXT NOT NULL DEFAULT '',
    credentials     TEXT NOT NULL,
    -- connected | reconnect_needed | error
    state           TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    inbound_cursor  TEXT NOT NULL DEFAULT '',
    poll_failures   INTEGER NOT NULL DEFAULT 0,
    last_polled_at  BIGINT,
    connected_at    BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX channel_connections_account ON channel_connections(platform, external_id);

-- The hub's registration with a platform (or with one Mastodon instance):
-- client id, and sealed client secret, webhook secret and verify token.
CREATE TABLE platform_apps (
    platform    TEXT NOT NULL,
    instance    TEXT NOT NULL DEFAULT '',
    client_id   TEXT NOT NULL DEFAULT '',
    sealed      TEXT NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (platform, instance)
);

-- OAuth connect flows under way: the state parameter (hashed) names the
-- channel and the user, and keeps the PKCE verifier (sealed).
CREATE TABLE oauth_states (
    hash          TEXT PRIMARY KEY,
    channel_id    BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    instance      TEXT NOT NULL DEFAULT '',
    verifier      TEXT NOT NULL,
    expires_at    BIGINT NOT NULL
);

-- Inbound messages: comments, mentions, replies, direct messages and feed
-- entries, one row per (channel, platform id) however often it arrives.
CREATE TABLE messages (
    id                  AUTO_ID,
    channel_id          BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id         TEXT NOT NULL,
    kind                TEXT NOT NULL,
    author_external_id  TEXT NOT NULL DEFAULT '',
    author_name         TEXT NOT NULL DEFAULT '',
    author_handle       TEXT NOT NULL DEFAULT '',
    text                TEXT NOT NULL DEFAULT '',
    url                 TEXT NOT NULL DEFAULT '',
    in_reply_to         TEXT NOT NULL DEFAULT '',
    thread_id           TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    received_at         BIGINT NOT NULL,
    UNIQUE (channel_id, external_id)
);
CREATE INDEX messages_received ON messages(received_at);

-- Things a user should know ("channel X needs reconnecting").
CREATE TABLE notices (
    id          AUTO_ID,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel_id  BIGINT REFERENCES channels(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notices_user ON notices(user_id, read_at);
