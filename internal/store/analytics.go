package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/errs"
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

// metricSteps are the delays after publication at which a post's
// engagement is read; a delivery with step readings taken waits for
// metricSteps[step].
var metricSteps = []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 28 * 24 * time.Hour}

// MetricSteps is how many readings a post gets.
func MetricSteps() int { return len(metricSteps) }

// DueMetrics lists published deliveries whose next engagement reading is
// due at now, oldest due first.
func (s *Store) DueMetrics(ctx context.Context, now time.Time, limit int) ([]analytics.DueDelivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.id, d.channel_id, d.platform_post_id, d.published_at, COALESCE(pm.step, 0)
		FROM deliveries d LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
		WHERE d.status = 'published' AND d.platform_post_id <> '' AND d.published_at IS NOT NULL
		AND COALESCE(pm.step, 0) < CAST($1 AS INTEGER)
		AND d.published_at + CASE COALESCE(pm.step, 0) WHEN 0 THEN CAST($2 AS BIGINT) WHEN 1 THEN CAST($3 AS BIGINT) WHEN 2 THEN CAST($4 AS BIGINT)
			WHEN 3 THEN CAST($5 AS BIGINT) ELSE CAST($6 AS BIGINT) END <= $7
		ORDER BY d.published_at LIMIT $8`,
		len(metricSteps), metricSteps[0].Milliseconds(), metricSteps[1].Milliseconds(), metricSteps[2].Milliseconds(),
		metricSteps[3].Milliseconds(), metricSteps[4].Milliseconds(), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due metrics: %w", err)
	}
	defer rows.Close()
	var out []analytics.DueDelivery
	for rows.Next() {
		var d analytics.DueDelivery
		var at int64
		if err := rows.Scan(&d.DeliveryID, &d.ChannelID, &d.PlatformPostID, &at, &d.Step); err != nil {
			return nil, fmt.Errorf("store: due metrics: %w", err)
		}
		d.PublishedAt = fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SavePostMetrics records a reading of a delivery's engagement as its
// step-th.
func (s *Store) SavePostMetrics(ctx context.Context, deliveryID int64, step int, m analytics.PostMetrics, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO post_metrics (delivery_id, step, polled_at, likes, shares, replies, impressions)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (delivery_id) DO UPDATE SET step = excluded.step, polled_at = excluded.polled_at, likes = excluded.likes,
			shares = excluded.shares, replies = excluded.replies, impressions = excluded.impressions`,
		deliveryID, step, ms(at), m.Likes, m.Shares, m.Replies, m.Impressions)
	if err != nil {
		return fmt.Errorf("store: save metrics of delivery %d: %w", deliveryID, err)
	}
	return nil
}

// EngagementByPlatform sums the latest readings of a subtree's deliveries
// published in [from, to).
func (s *Store) EngagementByPlatform(ctx context.Context, unitPath string, from, to time.Time) ([]analytics.Engagement, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.platform, COUNT(*), SUM(pm.likes), SUM(pm.shares), SUM(pm.replies),
		SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END)
		FROM post_metrics pm JOIN deliveries d ON d.id = pm.delivery_id JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND d.published_at >= $2 AND d.published_at < $3
		GROUP BY c.platform ORDER BY c.platform`, escapeLike(unitPath)+"%", ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: engagement: %w", err)
	}
	defer rows.Close()
	var out []analytics.Engagement
	for rows.Next() {
		var e analytics.Engagement
		if err := rows.Scan(&e.Platform, &e.Posts, &e.Likes, &e.Shares, &e.Replies, &e.Impressions); err != nil {
			return nil, fmt.Errorf("store: engagement: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// TopPosts lists a subtree's most engaging deliveries published in
// [from, to).
func (s *Store) TopPosts(ctx context.Context, unitPath string, from, to time.Time, n int) ([]analytics.TopPost, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.post_id, c.name, c.platform, d.url, p.text, d.published_at, pm.likes + pm.shares + pm.replies AS eng
		FROM post_metrics pm JOIN deliveries d ON d.id = pm.delivery_id JOIN posts p ON p.id = d.post_id
		JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND d.published_at >= $2 AND d.published_at < $3
		ORDER BY eng DESC, d.published_at DESC LIMIT $4`, escapeLike(unitPath)+"%", ms(from), ms(to), n)
	if err != nil {
		return nil, fmt.Errorf("store: top posts: %w", err)
	}
	defer rows.Close()
	var out []analytics.TopPost
	for rows.Next() {
		var t analytics.TopPost
		var at int64
		if err := rows.Scan(&t.PostID, &t.Channel, &t.Platform, &t.URL, &t.Text, &at, &t.Engagements); err != nil {
			return nil, fmt.Errorf("store: top posts: %w", err)
		}
		t.PublishedAt = fromMS(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// AdvancePostMetrics moves a delivery's readings to the given step,
// keeping its last reading (zeros when there was none).
func (s *Store) AdvancePostMetrics(ctx context.Context, deliveryID int64, step int, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO post_metrics (delivery_id, step, polled_at) VALUES ($1, $2, $3)
		ON CONFLICT (delivery_id) DO UPDATE SET step = excluded.step, polled_at = excluded.polled_at`, deliveryID, step, ms(at))
	if err != nil {
		return fmt.Errorf("store: advance metrics of delivery %d: %w", deliveryID, err)
	}
	return nil
}

var _ analytics.CollectStore = (*Store)(nil)

// FunnelLeads lists the leads routed into a subtree and created in
// [from, to), with their unit, state and first contact.
func (s *Store) FunnelLeads(ctx context.Context, unitPath string, from, to time.Time) ([]analytics.FunnelLead, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT u.key, u.name, u.kind, u.path, l.state, l.created_at, l.contacted_at
		FROM leads l JOIN units u ON u.id = l.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND l.created_at >= $2 AND l.created_at < $3
		ORDER BY u.path`, escapeLike(unitPath)+"%", ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: funnel leads: %w", err)
	}
	defer rows.Close()
	var out []analytics.FunnelLead
	for rows.Next() {
		var l analytics.FunnelLead
		var created int64
		var contacted sql.NullInt64
		if err := rows.Scan(&l.Unit, &l.UnitName, &l.Kind, &l.UnitPath, &l.State, &created, &contacted); err != nil {
			return nil, fmt.Errorf("store: funnel leads: %w", err)
		}
		l.CreatedAt = fromMS(created)
		if contacted.Valid {
			t := fromMS(contacted.Int64)
			l.ContactedAt = &t
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

var _ analytics.CampaignStore = (*Store)(nil)

// campaignPosts is the set of a campaign's posts: those in it and those
// that took them up.
const campaignPosts = `(SELECT id FROM posts WHERE campaign_id = $1 OR origin_post_id IN (SELECT id FROM posts WHERE campaign_id = $1))`

// CampaignInfo returns a campaign's name and unit.
func (s *Store) CampaignInfo(ctx context.Context, id int64) (analytics.CampaignInfo, error) {
	var c analytics.CampaignInfo
	err := s.r.QueryRowContext(ctx, `SELECT c.id, c.name, u.key, u.path FROM campaigns c JOIN units u ON u.id = c.unit_id WHERE c.id = $1`, id).
		Scan(&c.ID, &c.Name, &c.UnitKey, &c.UnitPath)
	if isNoRows(err) {
		return c, errs.E(errs.NotFound, "campaign %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return c, nil
}

// CampaignReach sums a campaign's published deliveries and their latest
// engagement readings by platform, or by the channel's unit.
func (s *Store) CampaignReach(ctx context.Context, id int64, byUnit bool) ([]analytics.Reach, error) {
	// PostgreSQL refuses a constant in GROUP BY, so a platform's "name"
	// is the platform again; the service ignores it.
	key, name := "c.platform", "c.platform"
	if byUnit {
		key, name = "u.key", "u.name"
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+key+`, `+name+`, COUNT(*), COALESCE(SUM(pm.likes), 0), COALESCE(SUM(pm.shares), 0),
		COALESCE(SUM(pm.replies), 0), COALESCE(SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END), 0)
		FROM deliveries d JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
		WHERE d.status = 'published' AND d.post_id IN `+campaignPosts+`
		GROUP BY `+key+`, `+name+` ORDER BY COUNT(*) DESC, `+key, id)
	if err != nil {
		return nil, fmt.Errorf("store: campaign reach: %w", err)
	}
	defer rows.Close()
	var out []analytics.Reach
	for rows.Next() {
		var r analytics.Reach
		if err := rows.Scan(&r.Key, &r.Name, &r.Posts, &r.Likes, &r.Shares, &r.Replies, &r.Impressions); err != nil {
			return nil, fmt.Errorf("store: campaign reach: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CampaignTakeUp lists the posts that took up the campaign's offered
// posts, with their unit and first publication.
func (s *Store) CampaignTakeUp(ctx context.Context, id int64) ([]analytics.TakeUp, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT u.key, u.name, p.id, MIN(d.published_at)
		FROM posts p JOIN units u ON u.id = p.unit_id
		LEFT JOIN deliveries d ON d.post_id = p.id AND d.status = 'published'
		WHERE p.origin_post_id IN (SELECT id FROM posts WHERE campaign_id = $1)
		GROUP BY u.key, u.name, p.id ORDER BY u.key, p.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: campaign take-up: %w", err)
	}
	defer rows.Close()
	var out []analytics.TakeUp
	for rows.Next() {
		var t analytics.TakeUp
		var at sql.NullInt64
		if err := rows.Scan(&t.Unit, &t.UnitName, &t.PostID, &at); err != nil {
			return nil, fmt.Errorf("store: campaign take-up: %w", err)
		}
		t.PublishedAt = fromNullMS(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// campaignReplyJoin and campaignReplyWhere select the messages that
// answer a campaign's published posts on their channel.
const (
	campaignReplyJoin  = ` FROM messages m JOIN deliveries d ON d.channel_id = m.channel_id AND d.platform_post_id = m.in_reply_to`
	campaignReplyWhere = ` WHERE d.platform_post_id <> '' AND d.post_id IN ` + campaignPosts
)

// CampaignInbound counts the messages answering the campaign's posts, by
// intent.
func (s *Store) CampaignInbound(ctx context.Context, id int64) (map[string]int, error) {
	return s.countBy(ctx, "campaign inbound", `SELECT m.intent, COUNT(*)`+campaignReplyJoin+campaignReplyWhere+` GROUP BY m.intent`, id)
}

// CampaignLeads counts the leads those messages made or fed, by state.
func (s *Store) CampaignLeads(ctx context.Context, id int64) (map[string]int, error) {
	return s.countBy(ctx, "campaign leads", `SELECT l.state, COUNT(DISTINCT l.id)`+campaignReplyJoin+
		` JOIN leads l ON l.id = m.lead_id`+campaignReplyWhere+` GROUP BY l.state`, id)
}

var _ analytics.TopicStore = (*Store)(nil)

// TopicReach sums, per campaign topic and platform, the subtree's
// deliveries published in the period (posts in a campaign with a topic,
// and the posts that took them up) and their latest engagement.
func (s *Store) TopicReach(ctx context.Context, unitPath string, p analytics.Period) ([]analytics.TopicReach, error) {
	from, to := p.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT cm.topic, c.platform, COUNT(*),
		COALESCE(SUM(pm.likes + pm.shares + pm.replies), 0), COALESCE(SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END), 0)
		FROM deliveries d JOIN posts po ON po.id = d.post_id
		LEFT JOIN posts origin ON origin.id = po.origin_post_id
		JOIN campaigns cm ON cm.id = COALESCE(po.campaign_id, origin.campaign_id)
		JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
		WHERE cm.topic <> '' AND d.status = 'published' AND d.published_at >= $1 AND d.published_at < $2 AND u.path LIKE $3 ESCAPE '\'
		GROUP BY cm.topic, c.platform ORDER BY cm.topic, c.platform`, ms(from), ms(to), escapeLike(unitPath)+"%")
	if err != nil {
		return nil, fmt.Errorf("store: topic reach: %w", err)
	}
	defer rows.Close()
	var out []analytics.TopicReach
	for rows.Next() {
		var r analytics.TopicReach
		if err := rows.Scan(&r.Topic, &r.Platform, &r.Posts, &r.Engagements, &r.Impressions); err != nil {
			return nil, fmt.Errorf("store: topic reach: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var _ analytics.CareStore = (*Store)(nil)

// CareMessages lists a subtree's messages that arrived in [from, to),
// with their queue, unit, first reply and SLA.
func (s *Store) CareMessages(ctx context.Context, unitPath string, from, to time.Time) ([]analytics.CareMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.queue, u.key, u.name, u.path, m.received_at, m.first_response_at, m.sla_due_at
		FROM messages m JOIN units u ON u.id = m.unit_id
		WHERE u.path LIKE $1 ESCAPE '\' AND m.received_at >= $2 AND m.received_at < $3`, escapeLike(unitPath)+"%", ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: care messages: %w", err)
	}
	defer rows.Close()
	var out []analytics.CareMessage
	for rows.Next() {
		var m analytics.CareMessage
		var received int64
		var responded, due sql.NullInt64
		if err := rows.Scan(&m.Queue, &m.Unit, &m.UnitName, &m.UnitPath, &received, &responded, &due); err != nil {
			return nil, fmt.Errorf("store: care messages: %w", err)
		}
		m.ReceivedAt, m.RespondedAt, m.SLADueAt = fromMS(received), fromNullMS(responded), fromNullMS(due)
		out = append(out, m)
	}
	return out, rows.Err()
}
