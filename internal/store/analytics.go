package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/errs"
)

var _ analytics.Store = (*Store)(nil)

// AudienceSeries returns a subtree's followers per platform and day of
// [fromDay, toDay] from the audience rollup, leaving out the gaps (days no
// channel of the platform is known on).
func (s *Store) AudienceSeries(ctx context.Context, unitPath, fromDay, toDay string) ([]analytics.AudienceTotal, error) {
	ids, err := pathIDs(unitPath)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT platform, day, followers FROM audience_rollup
		WHERE unit_id = $1 AND day >= $2 AND day <= $3 AND channels > 0 ORDER BY day, platform`, ids[len(ids)-1], fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("store: audience series: %w", err)
	}
	defer rows.Close()
	var out []analytics.AudienceTotal
	for rows.Next() {
		var t analytics.AudienceTotal
		if err := rows.Scan(&t.Platform, &t.Day, &t.Followers); err != nil {
			return nil, fmt.Errorf("store: audience series: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// AudiencePlatforms lists the platforms with a channel of the subtree
// known on some day of [fromDay, toDay].
func (s *Store) AudiencePlatforms(ctx context.Context, unitPath, fromDay, toDay string) ([]string, error) {
	ids, err := pathIDs(unitPath)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT platform FROM audience_rollup
		WHERE unit_id = $1 AND day >= $2 AND day <= $3 AND channels > 0`, ids[len(ids)-1], fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("store: audience platforms: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("store: audience platforms: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AudienceGrowth sums, per platform, the growth from fromDay to toDay of
// the subtree's channels known on both days. The rollup's daily growth
// summed over the span is exactly that for every channel known throughout
// it; the few channels that start or stop being known within the span
// (their runs of known days begin or end in it) are put right one by one.
func (s *Store) AudienceGrowth(ctx context.Context, unitPath, fromDay, toDay string) (map[string]int64, error) {
	ids, err := pathIDs(unitPath)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT platform, SUM(CASE WHEN day = $2 THEN channels ELSE 0 END), SUM(CASE WHEN day > $2 THEN growth ELSE 0 END)
		FROM audience_rollup WHERE unit_id = $1 AND day >= $2 AND day <= $3 GROUP BY platform`, ids[len(ids)-1], fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("store: audience growth: %w", err)
	}
	known, growth := map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var p string
		var n, g int64
		if err := rows.Scan(&p, &n, &g); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: audience growth: %w", err)
		}
		known[p], growth[p] = n, g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audience growth: %w", err)
	}
	lo, hi := subtreeBounds(unitPath)
	rows, err = s.r.QueryContext(ctx, `SELECT c.id, c.platform FROM audience_runs r JOIN channels c ON c.id = r.channel_id JOIN units u ON u.id = c.unit_id
			WHERE r.first_day > $1 AND r.first_day <= $2 AND `+s.subtreeRange("u.path", 3)+`
		UNION
		SELECT c.id, c.platform FROM audience_runs r JOIN channels c ON c.id = r.channel_id JOIN units u ON u.id = c.unit_id
			WHERE r.last_day >= $1 AND r.last_day < $2 AND `+s.subtreeRange("u.path", 3), fromDay, toDay, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("store: audience growth: %w", err)
	}
	type channel struct {
		id       int64
		platform string
	}
	var changing []channel
	for rows.Next() {
		var c channel
		if err := rows.Scan(&c.id, &c.platform); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: audience growth: %w", err)
		}
		changing = append(changing, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audience growth: %w", err)
	}
	for _, c := range changing {
		series, err := s.carriedAudience(ctx, s.r, c.id, fromDay, toDay)
		if err != nil {
			return nil, err
		}
		// Take out what the daily growth counted of this channel, and
		// put in its growth if it is known on both days.
		first, _ := time.Parse("2006-01-02", fromDay)
		last, _ := time.Parse("2006-01-02", toDay)
		for d := first.AddDate(0, 0, 1); !d.After(last); d = d.AddDate(0, 0, 1) {
			v, ok1 := series[d.Format("2006-01-02")]
			b, ok2 := series[d.AddDate(0, 0, -1).Format("2006-01-02")]
			if ok1 && ok2 {
				growth[c.platform] -= v - b
			}
		}
		a, okA := series[fromDay]
		b, okB := series[toDay]
		if okA && okB {
			growth[c.platform] += b - a
		}
		if okA && !okB {
			known[c.platform]--
		}
	}
	out := map[string]int64{}
	for p, n := range known {
		if n > 0 {
			out[p] = growth[p]
		}
	}
	return out, nil
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
	sums, err := s.deliverySums(ctx, unitPath, from, to)
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for p, v := range sums {
		if v.published > 0 {
			m[p] = int(v.published)
		}
	}
	return m, nil
}

// periodParts splits [from, to) into the whole UTC days inside,
// [firstDay, endDay) in days since the epoch, which the rollups answer, and
// the parts of days at either end (a period in a time zone other than
// UTC), which only the deliveries themselves can: edges is a condition
// on deliveries d in parameters $1…, with args (empty: no such parts).
func periodParts(from, to time.Time) (firstDay, endDay int64, edges string, args []any) {
	f, t := ms(from), ms(to)
	firstDay, endDay = (f+dayMS-1)/dayMS, t/dayMS
	var parts [][2]int64
	if firstDay >= endDay {
		parts = append(parts, [2]int64{f, t})
	} else {
		parts = append(parts, [2]int64{f, firstDay * dayMS}, [2]int64{endDay * dayMS, t})
	}
	var conds []string
	for _, p := range parts {
		if p[0] < p[1] {
			args = append(args, p[0], p[1])
			conds = append(conds, fmt.Sprintf("(d.published_at >= $%d AND d.published_at < $%d)", len(args)-1, len(args)))
		}
	}
	return firstDay, endDay, strings.Join(conds, " OR "), args
}

// deliverySum is a platform's deliveries in a period: how many were
// published, and the latest engagement readings of those with one.
type deliverySum struct {
	published, posts, likes, shares, replies, impressions int64
}

// deliverySums sums a subtree's deliveries published in [from, to) by
// platform: the whole UTC days inside from the delivery rollup, the parts
// of days at either end (a period in another time zone) from the
// deliveries themselves.
func (s *Store) deliverySums(ctx context.Context, unitPath string, from, to time.Time) (map[string]*deliverySum, error) {
	ids, err := pathIDs(unitPath)
	if err != nil {
		return nil, err
	}
	out := map[string]*deliverySum{}
	add := func(rows *sql.Rows, err error) error {
		if err != nil {
			return fmt.Errorf("store: delivery sums: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			var v deliverySum
			if err := rows.Scan(&p, &v.published, &v.posts, &v.likes, &v.shares, &v.replies, &v.impressions); err != nil {
				return fmt.Errorf("store: delivery sums: %w", err)
			}
			sum := out[p]
			if sum == nil {
				sum = &deliverySum{}
				out[p] = sum
			}
			sum.published += v.published
			sum.posts += v.posts
			sum.likes += v.likes
			sum.shares += v.shares
			sum.replies += v.replies
			sum.impressions += v.impressions
		}
		return rows.Err()
	}
	firstDay, endDay, edges, args := periodParts(from, to)
	if edges != "" {
		lo, hi := subtreeBounds(unitPath)
		err := add(s.r.QueryContext(ctx, `WITH e AS MATERIALIZED (SELECT id, channel_id, status FROM deliveries d WHERE `+edges+`)
			SELECT c.platform, SUM(CASE WHEN d.status = 'published' THEN 1 ELSE 0 END), COUNT(pm.delivery_id),
				COALESCE(SUM(pm.likes), 0), COALESCE(SUM(pm.shares), 0), COALESCE(SUM(pm.replies), 0),
				COALESCE(SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END), 0)
			FROM e d JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
			LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
			WHERE `+s.subtreeRange("u.path", len(args)+1)+`
			GROUP BY c.platform`, append(args, lo, hi)...))
		if err != nil {
			return nil, err
		}
	}
	if firstDay >= endDay {
		return out, nil
	}
	err = add(s.r.QueryContext(ctx, `SELECT platform, SUM(published), SUM(metric_posts), SUM(likes), SUM(shares), SUM(replies), SUM(impressions)
		FROM delivery_rollup WHERE unit_id = $1 AND day >= $2 AND day < $3 GROUP BY platform`, ids[len(ids)-1], firstDay, endDay))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InboundByIntent counts a subtree's inbound messages written in [from, to).
func (s *Store) InboundByIntent(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error) {
	lo, hi := subtreeBounds(unitPath)
	return s.countBy(ctx, "inbound by intent", `SELECT m.intent, COUNT(*)
		FROM messages m JOIN channels c ON c.id = m.channel_id JOIN units u ON u.id = c.unit_id
		WHERE `+s.subtreeRange("u.path", 1)+` AND m.created_at >= $3 AND m.created_at < $4
		GROUP BY m.intent`, lo, hi, ms(from), ms(to))
}

// LeadsByState counts the leads routed into a subtree that were created in
// [from, to), by their state now.
func (s *Store) LeadsByState(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error) {
	lo, hi := subtreeBounds(unitPath)
	return s.countBy(ctx, "leads by state", `SELECT l.state, COUNT(*)
		FROM leads l JOIN units u ON u.id = l.unit_id
		WHERE `+s.subtreeRange("u.path", 1)+` AND l.created_at >= $3 AND l.created_at < $4
		GROUP BY l.state`, lo, hi, ms(from), ms(to))
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
	return s.trackDeliveries(ctx, "d.id = $1", []any{deliveryID}, func(tx *Store) error { return tx.savePostMetrics(ctx, deliveryID, step, m, at) })
}

func (s *Store) savePostMetrics(ctx context.Context, deliveryID int64, step int, m analytics.PostMetrics, at time.Time) error {
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
	sums, err := s.deliverySums(ctx, unitPath, from, to)
	if err != nil {
		return nil, err
	}
	var out []analytics.Engagement
	for p, v := range sums {
		if v.posts > 0 {
			out = append(out, analytics.Engagement{Platform: p, Posts: v.posts, Likes: v.likes, Shares: v.shares, Replies: v.replies, Impressions: v.impressions})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Platform < out[j].Platform })
	return out, nil
}

// TopPosts lists a subtree's most engaging deliveries published in
// [from, to): the best of the top lists of the whole UTC days inside and
// of the deliveries in the parts of days at either end.
func (s *Store) TopPosts(ctx context.Context, unitPath string, from, to time.Time, n int) ([]analytics.TopPost, error) {
	ids, err := pathIDs(unitPath)
	if err != nil {
		return nil, err
	}
	var cands []topEntry
	add := func(rows *sql.Rows, err error) error {
		if err != nil {
			return fmt.Errorf("store: top posts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e topEntry
			if err := rows.Scan(&e.id, &e.engagements, &e.publishedAt); err != nil {
				return fmt.Errorf("store: top posts: %w", err)
			}
			cands = append(cands, e)
		}
		return rows.Err()
	}
	firstDay, endDay, edges, args := periodParts(from, to)
	if n > topPostsPerDay {
		// More than the daily lists hold: all from the deliveries.
		firstDay, endDay, edges, args = 0, 0, "d.published_at >= $1 AND d.published_at < $2", []any{ms(from), ms(to)}
	}
	if edges != "" {
		lo, hi := subtreeBounds(unitPath)
		err := add(s.r.QueryContext(ctx, `WITH e AS MATERIALIZED (SELECT id, channel_id, published_at FROM deliveries d WHERE `+edges+`)
			SELECT d.id, pm.likes + pm.shares + pm.replies, d.published_at
			FROM e d JOIN post_metrics pm ON pm.delivery_id = d.id JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
			WHERE `+s.subtreeRange("u.path", len(args)+1)+`
			ORDER BY pm.likes + pm.shares + pm.replies DESC, d.published_at DESC, d.id DESC LIMIT $`+strconv.Itoa(len(args)+3),
			append(args, lo, hi, n)...))
		if err != nil {
			return nil, err
		}
	}
	if firstDay < endDay {
		err := add(s.r.QueryContext(ctx, `SELECT delivery_id, engagements, published_at FROM top_posts_daily
			WHERE unit_id = $1 AND day >= $2 AND day < $3
			ORDER BY engagements DESC, published_at DESC, delivery_id DESC LIMIT $4`, ids[len(ids)-1], firstDay, endDay, n))
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].ahead(cands[j]) })
	if len(cands) > n {
		cands = cands[:n]
	}
	if len(cands) == 0 {
		return nil, nil
	}
	args = make([]any, len(cands))
	ph := make([]string, len(cands))
	for i, e := range cands {
		args[i], ph[i] = e.id, fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT d.id, d.post_id, c.name, c.platform, d.url, p.text, d.published_at, pm.likes + pm.shares + pm.replies
		FROM post_metrics pm JOIN deliveries d ON d.id = pm.delivery_id JOIN posts p ON p.id = d.post_id JOIN channels c ON c.id = d.channel_id
		WHERE d.id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: top posts: %w", err)
	}
	defer rows.Close()
	byID := map[int64]analytics.TopPost{}
	for rows.Next() {
		var id, at int64
		var tp analytics.TopPost
		if err := rows.Scan(&id, &tp.PostID, &tp.Channel, &tp.Platform, &tp.URL, &tp.Text, &at, &tp.Engagements); err != nil {
			return nil, fmt.Errorf("store: top posts: %w", err)
		}
		tp.PublishedAt = fromMS(at)
		byID[id] = tp
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: top posts: %w", err)
	}
	out := make([]analytics.TopPost, 0, len(cands))
	for _, e := range cands {
		if tp, ok := byID[e.id]; ok {
			out = append(out, tp)
		}
	}
	return out, nil
}

// AdvancePostMetrics moves a delivery's readings to the given step,
// keeping its last reading (zeros when there was none).
func (s *Store) AdvancePostMetrics(ctx context.Context, deliveryID int64, step int, at time.Time) error {
	return s.trackDeliveries(ctx, "d.id = $1", []any{deliveryID}, func(tx *Store) error { return tx.advancePostMetrics(ctx, deliveryID, step, at) })
}

func (s *Store) advancePostMetrics(ctx context.Context, deliveryID int64, step int, at time.Time) error {
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
	lo, hi := subtreeBounds(unitPath)
	rows, err := s.r.QueryContext(ctx, `SELECT u.key, u.name, u.kind, u.path, l.state, l.created_at, l.contacted_at
		FROM leads l JOIN units u ON u.id = l.unit_id
		WHERE `+s.subtreeRange("u.path", 1)+` AND l.created_at >= $3 AND l.created_at < $4
		ORDER BY u.path`, lo, hi, ms(from), ms(to))
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
const campaignPosts = `(SELECT id FROM posts WHERE campaign_id = $1
	UNION SELECT id FROM posts WHERE origin_post_id IN (SELECT id FROM posts WHERE campaign_id = $1))`

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
// engagement readings by platform and by the channel's unit, from the
// campaign rollup (one row per unit and platform), largest first.
func (s *Store) CampaignReach(ctx context.Context, id int64) ([]analytics.Reach, []analytics.Reach, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT u.key, u.name, r.platform, r.posts, r.likes, r.shares, r.replies, r.impressions
		FROM campaign_reach r JOIN units u ON u.id = r.unit_id
		WHERE r.campaign_id = $1 AND r.posts > 0`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("store: campaign reach: %w", err)
	}
	defer rows.Close()
	byPlatform, byUnit := map[string]*analytics.Reach{}, map[string]*analytics.Reach{}
	add := func(m map[string]*analytics.Reach, key, name string, v analytics.Reach) {
		r := m[key]
		if r == nil {
			r = &analytics.Reach{Key: key, Name: name}
			m[key] = r
		}
		r.Posts += v.Posts
		r.Likes += v.Likes
		r.Shares += v.Shares
		r.Replies += v.Replies
		r.Impressions += v.Impressions
	}
	for rows.Next() {
		var unit, name, platform string
		var v analytics.Reach
		if err := rows.Scan(&unit, &name, &platform, &v.Posts, &v.Likes, &v.Shares, &v.Replies, &v.Impressions); err != nil {
			return nil, nil, fmt.Errorf("store: campaign reach: %w", err)
		}
		add(byPlatform, platform, "", v)
		add(byUnit, unit, name, v)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: campaign reach: %w", err)
	}
	list := func(m map[string]*analytics.Reach) []analytics.Reach {
		out := make([]analytics.Reach, 0, len(m))
		for _, r := range m {
			out = append(out, *r)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Posts != out[j].Posts {
				return out[i].Posts > out[j].Posts
			}
			return out[i].Key < out[j].Key
		})
		return out
	}
	return list(byPlatform), list(byUnit), nil
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
	lo, hi := subtreeBounds(unitPath)
	rows, err := s.r.QueryContext(ctx, `SELECT m.queue, u.key, u.name, u.path, m.received_at, m.first_response_at, m.sla_due_at
		FROM messages m JOIN units u ON u.id = m.unit_id
		WHERE `+s.subtreeRange("u.path", 1)+` AND m.received_at >= $3 AND m.received_at < $4`, lo, hi, ms(from), ms(to))
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
