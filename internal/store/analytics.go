package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics"
)

var _ analytics.Store = (*Store)(nil)

// AudiencePoints returns the follower readings of a subtree's channels
// between two days (inclusive), by channel and day.
func (s *Store) AudiencePoints(ctx context.Context, unitPath, fromDay, toDay string) ([]analytics.AudiencePoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.platform, a.day, a.followers
		FROM channel_audience a JOIN channels c ON c.id = a.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND a.day >= $2 AND a.day <= $3
		ORDER BY c.id, a.day`, escapeLike(unitPath)+"%", fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("store: audience points: %w", err)
	}
	defer rows.Close()
	var out []analytics.AudiencePoint
	for rows.Next() {
		var p analytics.AudiencePoint
		if err := rows.Scan(&p.ChannelID, &p.Platform, &p.Day, &p.Followers); err != nil {
			return nil, fmt.Errorf("store: audience points: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) countBy(ctx context.Context, what, query string, args ...any) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		m[k] = n
	}
	return m, rows.Err()
}

// PublishedByPlatform counts a subtree's deliveries published in [from, to).
func (s *Store) PublishedByPlatform(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error) {
	return s.countBy(ctx, "published by platform", `SELECT c.platform, COUNT(*)
		FROM deliveries d JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND d.status = 'published' AND d.published_at >= $2 AND d.published_at < $3
		GROUP BY c.platform`, escapeLike(unitPath)+"%", ms(from), ms(to))
}

// InboundByIntent counts a subtree's inbound messages written in [from, to).
func (s *Store) InboundByIntent(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error) {
	return s.countBy(ctx, "inbound by intent", `SELECT m.intent, COUNT(*)
		FROM messages m JOIN channels c ON c.id = m.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND m.created_at >= $2 AND m.created_at < $3
		GROUP BY m.intent`, escapeLike(unitPath)+"%", ms(from), ms(to))
}

// LeadsByState counts the leads routed into a subtree that were created in
// [from, to), by their state now.
func (s *Store) LeadsByState(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error) {
	return s.countBy(ctx, "leads by state", `SELECT l.state, COUNT(*)
		FROM leads l JOIN units u ON u.id = l.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND l.created_at >= $2 AND l.created_at < $3
		GROUP BY l.state`, escapeLike(unitPath)+"%", ms(from), ms(to))
}
