package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connector"
)

var _ analytics.DemographicsStore = (*Store)(nil)

// demographicColumns are channel_demographics' breakdown columns in
// connector.AgeGroups then connector.Genders order.
var demographicColumns = []string{"age_13_17", "age_18_24", "age_25_34", "age_35_44", "age_45_54", "age_55_64", "age_65_plus",
	"gender_female", "gender_male", "gender_other"}

const demographicSelect = `d.day, d.basis, d.age_13_17, d.age_18_24, d.age_25_34, d.age_35_44, d.age_45_54, d.age_55_64, d.age_65_plus,
	d.gender_female, d.gender_male, d.gender_other`

// SaveDemographics records a channel's reading for its day; a later
// reading of the same day replaces the earlier one, so the daily job may
// run any number of times.
func (s *Store) SaveDemographics(ctx context.Context, channelID int64, r analytics.DemographicReading, at time.Time) error {
	vals := make([]any, 0, len(demographicColumns))
	for _, k := range connector.AgeGroups {
		vals = append(vals, nullShare(r.Age, k))
	}
	for _, k := range connector.Genders {
		vals = append(vals, nullShare(r.Gender, k))
	}
	args := append([]any{channelID, r.Day, r.Basis, ms(at)}, vals...)
	_, err := s.w.ExecContext(ctx, `INSERT INTO channel_demographics (channel_id, day, basis, recorded_at,
		age_13_17, age_18_24, age_25_34, age_35_44, age_45_54, age_55_64, age_65_plus, gender_female, gender_male, gender_other)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (channel_id, day) DO UPDATE SET basis = excluded.basis, recorded_at = excluded.recorded_at,
		age_13_17 = excluded.age_13_17, age_18_24 = excluded.age_18_24, age_25_34 = excluded.age_25_34, age_35_44 = excluded.age_35_44,
		age_45_54 = excluded.age_45_54, age_55_64 = excluded.age_55_64, age_65_plus = excluded.age_65_plus,
		gender_female = excluded.gender_female, gender_male = excluded.gender_male, gender_other = excluded.gender_other`, args...)
	if err != nil {
		return fmt.Errorf("store: save demographics of channel %d on %s: %w", channelID, r.Day, err)
	}
	return nil
}

// nullShare is a breakdown's value for a column: NULL when the breakdown
// was not reported at all.
func nullShare(m map[string]float64, k string) any {
	if m == nil {
		return nil
	}
	return m[k]
}

// scanReading reads demographicSelect's columns.
func scanReading(scan func(...any) error) (analytics.DemographicReading, error) {
	var r analytics.DemographicReading
	cols := make([]sql.NullFloat64, len(demographicColumns))
	dest := []any{&r.Day, &r.Basis}
	for i := range cols {
		dest = append(dest, &cols[i])
	}
	if err := scan(dest...); err != nil {
		return r, err
	}
	r.Age = breakdown(cols[:len(connector.AgeGroups)], connector.AgeGroups)
	r.Gender = breakdown(cols[len(connector.AgeGroups):], connector.Genders)
	return r, nil
}

// breakdown is nil when every column is NULL (not reported).
func breakdown(cols []sql.NullFloat64, keys []string) map[string]float64 {
	var m map[string]float64
	for i, c := range cols {
		if c.Valid {
			if m == nil {
				m = make(map[string]float64, len(keys))
			}
			m[keys[i]] = c.Float64
		}
	}
	return m
}

// DemographicsHistory returns a channel's readings, oldest first.
func (s *Store) DemographicsHistory(ctx context.Context, channelID int64) ([]analytics.DemographicReading, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+demographicSelect+` FROM channel_demographics d WHERE d.channel_id = $1 ORDER BY d.day`, channelID)
	if err != nil {
		return nil, fmt.Errorf("store: demographics of channel %d: %w", channelID, err)
	}
	defer rows.Close()
	var out []analytics.DemographicReading
	for rows.Next() {
		r, err := scanReading(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("store: demographics of channel %d: %w", channelID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ChannelDemographics lists the subtree's channels with their latest
// reading between two days (inclusive) and their latest follower count on
// or before the last day. Retired channels appear only with a reading, so
// a channel that is gone is not shown as "not reported".
func (s *Store) ChannelDemographics(ctx context.Context, unitPath, fromDay, toDay string) ([]analytics.ChannelDemographics, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.platform,
		(SELECT a.followers FROM channel_audience a WHERE a.channel_id = c.id AND a.day <= $3 ORDER BY a.day DESC LIMIT 1),
		d.channel_id, `+demographicSelect+`
		FROM channels c JOIN units u ON u.id = c.unit_id
		LEFT JOIN channel_demographics d ON d.channel_id = c.id AND d.day = (SELECT MAX(d2.day) FROM channel_demographics d2
			WHERE d2.channel_id = c.id AND d2.day >= $2 AND d2.day <= $3)
		WHERE u.path LIKE $1 ESCAPE '\' AND (c.status <> 'retired' OR d.channel_id IS NOT NULL)
		ORDER BY c.id`, escapeLike(unitPath)+"%", fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("store: channel demographics: %w", err)
	}
	defer rows.Close()
	var out []analytics.ChannelDemographics
	for rows.Next() {
		var c analytics.ChannelDemographics
		var followers, readingOf sql.NullInt64
		var day, basis sql.NullString
		cols := make([]sql.NullFloat64, len(demographicColumns))
		dest := []any{&c.ChannelID, &c.Platform, &followers, &readingOf, &day, &basis}
		for i := range cols {
			dest = append(dest, &cols[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: channel demographics: %w", err)
		}
		if followers.Valid {
			f := followers.Int64
			c.Followers = &f
		}
		if readingOf.Valid {
			c.Reading = &analytics.DemographicReading{Day: day.String, Basis: basis.String,
				Age:    breakdown(cols[:len(connector.AgeGroups)], connector.AgeGroups),
				Gender: breakdown(cols[len(connector.AgeGroups):], connector.Genders)}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TopicChannels lists, once per topic, the subtree's channels that
// published a delivery of a campaign with a topic (or of a post taking
// one up) in the period.
func (s *Store) TopicChannels(ctx context.Context, unitPath string, p analytics.Period) ([]analytics.TopicChannel, error) {
	from, to := p.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT cm.topic, c.id
		FROM deliveries d JOIN posts po ON po.id = d.post_id
		LEFT JOIN posts origin ON origin.id = po.origin_post_id
		JOIN campaigns cm ON cm.id = COALESCE(po.campaign_id, origin.campaign_id)
		JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		WHERE cm.topic <> '' AND d.status = 'published' AND d.published_at >= $1 AND d.published_at < $2 AND u.path LIKE $3 ESCAPE '\'
		ORDER BY cm.topic, c.id`, ms(from), ms(to), escapeLike(unitPath)+"%")
	if err != nil {
		return nil, fmt.Errorf("store: topic channels: %w", err)
	}
	defer rows.Close()
	var out []analytics.TopicChannel
	for rows.Next() {
		var tc analytics.TopicChannel
		if err := rows.Scan(&tc.Topic, &tc.ChannelID); err != nil {
			return nil, fmt.Errorf("store: topic channels: %w", err)
		}
		out = append(out, tc)
	}
	return out, rows.Err()
}
