-- Publishing: campaigns, posts with per-platform variants, approvals and
-- deliveries (one per post and channel, published exactly once).

CREATE TABLE campaigns (
    id          AUTO_ID,
    unit_id     BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    topic       TEXT NOT NULL DEFAULT '',
    goal        TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '',
    starts_at   BIGINT,
    ends_at     BIGINT,
    created_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX campaigns_unit ON campaigns(unit_id);

-- A unit that requires approval of posts by roles below manager; the
-- policy covers the unit's subtree.
CREATE TABLE approval_policies (
    unit_id     BIGINT PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
    required    INTEGER NOT NULL DEFAULT 1,
    updated_at  BIGINT NOT NULL
);

-- status: pending_approval | rejected | scheduled | cancelled
CREATE TABLE posts (
    id            AUTO_ID,
    unit_id       BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    campaign_id   BIGINT REFERENCES campaigns(id) ON DELETE SET NULL,
    -- the offered post this one takes up (syndication)
    origin_post_id BIGINT REFERENCES posts(id) ON DELETE SET NULL,
    author_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author        TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL,
    status        TEXT NOT NULL,
    scheduled_at  BIGINT NOT NULL,
    time_zone     TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX posts_scheduled ON posts(scheduled_at);
CREATE INDEX posts_unit ON posts(unit_id, scheduled_at);
CREATE INDEX posts_campaign ON posts(campaign_id);
CREATE INDEX posts_origin ON posts(origin_post_id);

-- Syndication: a post offered to a descendant unit (and its subtree),
-- which may take it up as a post of its own (posts.origin_post_id).
CREATE TABLE post_offers (
    id          AUTO_ID,
    post_id     BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    unit_id     BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    offered_by  TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (post_id, unit_id)
);
CREATE INDEX post_offers_unit ON post_offers(unit_id);

-- A variant replaces the post's text for a platform ("mastodon") or one
-- channel ("channel:42"); the channel's beats the platform's.
CREATE TABLE post_variants (
    post_id  BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    target   TEXT NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (post_id, target)
);

-- One delivery per (post, channel). status: held (awaiting approval) |
-- scheduled | publishing | published | failed | unknown | cancelled.
-- idem_key is the idempotency key every attempt sends.
CREATE TABLE deliveries (
    id                AUTO_ID,
    post_id           BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id        BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    idem_key          TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    failures          INTEGER NOT NULL DEFAULT 0,
    first_attempt_at  BIGINT,
    last_attempt_at   BIGINT,
    -- no attempt before this (a rate limit's reset, a backoff)
    not_before        BIGINT,
    platform_post_id  TEXT NOT NULL DEFAULT '',
    url               TEXT NOT NULL DEFAULT '',
    published_at      BIGINT,
    error             TEXT NOT NULL DEFAULT '',
    error_kind        TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL,
    UNIQUE (post_id, channel_id)
);
CREATE INDEX deliveries_channel ON deliveries(channel_id);
CREATE INDEX deliveries_status ON deliveries(status);

-- The approval audit trail: submitted, approved, rejected, edited.
CREATE TABLE post_approvals (
    id          AUTO_ID,
    post_id     BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    who         TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX post_approvals_post ON post_approvals(post_id);
