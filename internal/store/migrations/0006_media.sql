-- The media library: files uploaded to a unit, stored in the data
-- directory under their SHA-256 (the same bytes once on disk, once per
-- unit here), and the media a post (or one of its variants) carries.

CREATE TABLE media (
    id            AUTO_ID,
    unit_id       BIGINT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    filename      TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL,
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    alt_text      TEXT NOT NULL DEFAULT '',
    has_thumb     INTEGER NOT NULL DEFAULT 0,
    uploaded_by   TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    UNIQUE (unit_id, sha256)
);

-- target is '' for the post's own media, else a variant key ("mastodon",
-- "channel:42").
CREATE TABLE post_media (
    post_id   BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    target    TEXT NOT NULL DEFAULT '',
    position  INTEGER NOT NULL,
    media_id  BIGINT NOT NULL REFERENCES media(id),
    PRIMARY KEY (post_id, target, position)
);
CREATE INDEX post_media_media ON post_media(media_id);
