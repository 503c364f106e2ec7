-- Rollups the analytics dashboard reads instead of raw readings, kept
-- current by the store in the same transaction as every write they depend
-- on (see rollups.go) and rebuilt from the raw tables when this migration
-- runs. Each row holds a unit's whole subtree: a channel counts in the
-- row of its own unit and of every ancestor, so a subtree's figure is one
-- row per platform and day, and no channel is counted twice.

-- Followers per subtree, platform and day (YYYY-MM-DD, as channel_audience)
-- with each channel's last reading carried forward up to seven days;
-- channels is how many channels are known that day (0: a gap); growth is
-- the change since the day before of the channels known on both days, so
-- that a span's growth is a sum of days (corrected for the channels
-- that start or stop being known within it, see audience_runs).
CREATE TABLE audience_rollup (
    unit_id    BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    platform   TEXT NOT NULL,
    followers  BIGINT NOT NULL,
    channels   INTEGER NOT NULL,
    growth     BIGINT NOT NULL,
    PRIMARY KEY (unit_id, day, platform)
);

-- The spans of days each channel's followers are known on: from a
-- reading to seven days after the last reading that follows within eight
-- days of the one before.
CREATE TABLE audience_runs (
    channel_id  BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    PRIMARY KEY (channel_id, first_day)
);
CREATE INDEX audience_runs_first ON audience_runs(first_day);
CREATE INDEX audience_runs_last ON audience_runs(last_day);

-- Deliveries per subtree, platform and UTC day of publication (days since
-- 1970-01-01): how many are published, and the sum of their latest
-- engagement readings (metric_posts: deliveries with a reading;
-- impressions: where reported).
CREATE TABLE delivery_rollup (
    unit_id       BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    day           BIGINT NOT NULL,
    platform      TEXT NOT NULL,
    published     BIGINT NOT NULL,
    metric_posts  BIGINT NOT NULL,
    likes         BIGINT NOT NULL,
    shares        BIGINT NOT NULL,
    replies       BIGINT NOT NULL,
    impressions   BIGINT NOT NULL,
    PRIMARY KEY (unit_id, day, platform)
);

-- The five most engaging deliveries per subtree and UTC day of
-- publication: a period's top posts are among its days' top five.
CREATE TABLE top_posts_daily (
    unit_id       BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    day           BIGINT NOT NULL,
    delivery_id   BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    engagements   BIGINT NOT NULL,
    published_at  BIGINT NOT NULL,
    PRIMARY KEY (unit_id, day, delivery_id)
);

-- A campaign's published deliveries and their latest engagement per unit
-- (the channel's own unit, not its ancestors) and platform.
CREATE TABLE campaign_reach (
    campaign_id  BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    unit_id      BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    platform     TEXT NOT NULL,
    posts        BIGINT NOT NULL,
    likes        BIGINT NOT NULL,
    shares       BIGINT NOT NULL,
    replies      BIGINT NOT NULL,
    impressions  BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, unit_id, platform)
);

-- The campaign report finds the messages answering a campaign's posts
-- from the posts' deliveries: this answers that from the index alone.
CREATE INDEX deliveries_post_reply ON deliveries(post_id, channel_id, platform_post_id);
