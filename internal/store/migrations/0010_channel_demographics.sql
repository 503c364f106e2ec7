-- Who a channel's audience is, as its platform reports it: one reading per
-- channel and day (UTC), the latest of the day kept, history kept like
-- channel_audience's. Values are shares (0..1) of the audience in each
-- breakdown; a breakdown the platform did not report is NULL throughout
-- (not zero), so "not reported" stays distinguishable from "nobody".
CREATE TABLE channel_demographics (
    channel_id    BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
    -- what the platform describes: followers (Instagram, simulator) or
    -- viewers (YouTube Analytics)
    basis         TEXT NOT NULL,
    age_13_17     DOUBLE PRECISION,
    age_18_24     DOUBLE PRECISION,
    age_25_34     DOUBLE PRECISION,
    age_35_44     DOUBLE PRECISION,
    age_45_54     DOUBLE PRECISION,
    age_55_64     DOUBLE PRECISION,
    age_65_plus   DOUBLE PRECISION,
    gender_female DOUBLE PRECISION,
    gender_male   DOUBLE PRECISION,
    gender_other  DOUBLE PRECISION,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, day)
);
