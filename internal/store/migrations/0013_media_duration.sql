-- A video's length as its container states it (MP4, QuickTime, 3GP:
-- the movie header), for the platforms' duration rules; 0 = unknown.
ALTER TABLE media ADD COLUMN duration_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX media_sha256 ON media(sha256);
