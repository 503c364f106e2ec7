-- Engagement of published posts, read from the platforms on a decaying
-- schedule after publication (about 1 h, 6 h, 24 h, 7 d, 28 d). One row per
-- delivery holds the latest reading; step counts the readings taken.
CREATE TABLE post_metrics (
    delivery_id  BIGINT PRIMARY KEY REFERENCES deliveries(id) ON DELETE CASCADE,
    step         INTEGER NOT NULL,
    polled_at    BIGINT NOT NULL,
    likes        BIGINT NOT NULL DEFAULT 0,
    shares       BIGINT NOT NULL DEFAULT 0,
    replies      BIGINT NOT NULL DEFAULT 0,
    -- -1 where the platform does not report it
    impressions  BIGINT NOT NULL DEFAULT -1
);
CREATE INDEX deliveries_published ON deliveries(published_at);
