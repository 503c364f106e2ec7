package store

// The analytics rollups (migration 0009): audience_rollup,
// delivery_rollup, top_posts_daily and campaign_reach. Every write that
// changes a figure they hold brings them up to date in its own
// transaction: the audience recorder (AddAudience), the publisher
// (SaveOutcome, SetDeliveryStatuses), the metrics collector
// (SavePostMetrics, AdvancePostMetrics), a post's campaign (UpdatePost), a
// channel's unit or platform (UpdateChannel, DeleteChannel) and a unit's
// place in the tree (MoveUnit). RebuildAnalyticsRollups recomputes them all
// from the raw tables.

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// carryDays is how long a channel's last follower count stands in for days
// it was not read (as in internal/analytics).
const carryDays = 7

// topPostsPerDay is how many deliveries top_posts_daily keeps per subtree
// and day: the most the overview asks for.
const topPostsPerDay = 5

// dayMS is one UTC day in milliseconds; delivery rollups count days since
// the epoch.
const dayMS = int64(24 * time.Hour / time.Millisecond)

// pathIDs returns the unit ids of a materialised path ("/1/4/9/"), root
// first: the unit's ancestors and, last, the unit itself.
func pathIDs(path string) ([]int64, error) {
	var ids []int64
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: unit path %q: %w", path, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// lockRows is a locking clause on PostgreSQL, nothing on SQLite, whose one
// writer connection already makes writers take turns.
func (s *Store) lockRows(clause string) string {
	if s.engine == Postgres {
		return " " + clause
	}
	return ""
}

// subtreeRange renders "col lies in a subtree" for the bounds from
// subtreeBounds in parameters $n and $n+1: a range an index answers, where
// LIKE with ESCAPE is not. PostgreSQL must compare bytes, as SQLite does
// (units_path_bytes indexes that).
func (s *Store) subtreeRange(col string, n int) string {
	if s.engine == Postgres {
		col += ` COLLATE "C"`
	}
	return fmt.Sprintf("%s >= $%d AND %s < $%d", col, n, col, n+1)
}

// subtreeBounds are the paths of a subtree: every path that starts with
// path, which ends in "/"; "0" is the byte after "/".
func subtreeBounds(path string) (string, string) {
	if path == "" {
		return "", ""
	}
	return path, path[:len(path)-1] + "0"
}

func addDays(day string, n int) (string, error) {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return "", fmt.Errorf("store: %q is not a day: %w", day, err)
	}
	return t.AddDate(0, 0, n).Format("2006-01-02"), nil
}

// channelPlace is where a channel's figures count.
type channelPlace struct {
	unitID   int64
	path     string
	platform string
}

// channelPlace reads where a channel counts. On PostgreSQL it locks the
// channel and its unit until the transaction ends, so that two writers to
// one channel's rollups, or a unit move, take turns (SQLite has one writer).
func (s *Store) channelPlace(ctx context.Context, channelID int64) (channelPlace, error) {
	var p channelPlace
	err := s.w.QueryRowContext(ctx, `SELECT c.unit_id, u.path, c.platform FROM channels c JOIN units u ON u.id = c.unit_id WHERE c.id = $1`+
		s.lockRows("FOR UPDATE OF c FOR SHARE OF u"), channelID).
		Scan(&p.unitID, &p.path, &p.platform)
	if err != nil {
		return p, fmt.Errorf("store: channel %d: %w", channelID, err)
	}
	return p, nil
}

// carriedAudience returns a channel's followers on each day of [from, to]
// (YYYY-MM-DD): its last reading on or before the day, if at most
// carryDays old. A day missing from the map is a gap.
func (s *Store) carriedAudience(ctx context.Context, q querier, channelID int64, from, to string) (map[string]int64, error) {
	lo, err := addDays(from, -carryDays)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT day, followers FROM channel_audience WHERE channel_id = $1 AND day >= $2 AND day <= $3 ORDER BY day`,
		channelID, lo, to)
	if err != nil {
		return nil, fmt.Errorf("store: audience of channel %d: %w", channelID, err)
	}
	type reading struct {
		day       time.Time
		followers int64
	}
	var readings []reading
	for rows.Next() {
		var day string
		var r reading
		if err := rows.Scan(&day, &r.followers); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: audience of channel %d: %w", channelID, err)
		}
		if r.day, err = time.Parse("2006-01-02", day); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: audience of channel %d: day %q: %w", channelID, day, err)
		}
		readings = append(readings, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audience of channel %d: %w", channelID, err)
	}
	start, _ := time.Parse("2006-01-02", from)
	end, _ := time.Parse("2006-01-02", to)
	out := map[string]int64{}
	i := -1 // the last reading on or before the day
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		for i+1 < len(readings) && !readings[i+1].day.After(d) {
			i++
		}
		if i >= 0 && d.Sub(readings[i].day) <= carryDays*24*time.Hour {
			out[d.Format("2006-01-02")] = readings[i].followers
		}
	}
	return out, nil
}

// fullAudience is a channel's whole carried-forward history.
func (s *Store) fullAudience(ctx context.Context, channelID int64) (map[string]int64, error) {
	var first, last *string
	if err := s.w.QueryRowContext(ctx, `SELECT MIN(day), MAX(day) FROM channel_audience WHERE channel_id = $1`, channelID).Scan(&first, &last); err != nil {
		return nil, fmt.Errorf("store: audience of channel %d: %w", channelID, err)
	}
	if first == nil {
		return map[string]int64{}, nil
	}
	to, err := addDays(*last, carryDays)
	if err != nil {
		return nil, err
	}
	return s.carriedAudience(ctx, s.w, channelID, *first, to)
}

type audienceKey struct {
	unitID   int64
	day      string
	platform string
}

func (a audienceKey) compare(b audienceKey) int {
	return cmp.Or(cmp.Compare(a.unitID, b.unitID), cmp.Compare(a.day, b.day), cmp.Compare(a.platform, b.platform))
}

// audienceDelta collects changes to audience_rollup: followers, channels
// known and growth, per subtree, day and platform.
type audienceDelta map[audienceKey][3]int64

// add counts a channel's carried series, with sign, in the rows of its
// unit and every ancestor. A day's growth needs the day before in the
// series too.
func (d audienceDelta) add(place channelPlace, series map[string]int64, sign int64) error {
	ids, err := pathIDs(place.path)
	if err != nil {
		return err
	}
	for day, f := range series {
		var growth int64
		before, err := addDays(day, -1)
		if err != nil {
			return err
		}
		if b, ok := series[before]; ok {
			growth = f - b
		}
		for _, id := range ids {
			k := audienceKey{id, day, place.platform}
			v := d[k]
			d[k] = [3]int64{v[0] + sign*f, v[1] + sign, v[2] + sign*growth}
		}
	}
	return nil
}

func (s *Store) applyAudience(ctx context.Context, d audienceDelta) error {
	// In one order, so that writers on PostgreSQL can't deadlock.
	for _, k := range slices.SortedFunc(maps.Keys(d), audienceKey.compare) {
		v := d[k]
		if v == [3]int64{} {
			continue
		}
		_, err := s.execPrepared(ctx, `INSERT INTO audience_rollup (unit_id, day, platform, followers, channels, growth) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (unit_id, day, platform) DO UPDATE SET followers = audience_rollup.followers + excluded.followers,
				channels = audience_rollup.channels + excluded.channels, growth = audience_rollup.growth + excluded.growth`,
			k.unitID, k.day, k.platform, v[0], v[1], v[2])
		if err != nil {
			return fmt.Errorf("store: audience rollup of unit %d: %w", k.unitID, err)
		}
	}
	return nil
}

// moveAudience moves a channel's whole history from one place to another
// in the rollups (nil to: the channel is going away).
func (s *Store) moveAudience(ctx context.Context, channelID int64, from channelPlace, to *channelPlace) error {
	series, err := s.fullAudience(ctx, channelID)
	if err != nil || len(series) == 0 {
		return err
	}
	d := audienceDelta{}
	if err := d.add(from, series, -1); err != nil {
		return err
	}
	if to != nil {
		if err := d.add(*to, series, 1); err != nil {
			return err
		}
	}
	return s.applyAudience(ctx, d)
}

// saveAudienceRuns rewrites a channel's runs of known days from its
// readings: a reading starts a run unless the one before is at most
// carryDays+1 days earlier, and a run ends carryDays after its last reading.
func (s *Store) saveAudienceRuns(ctx context.Context, channelID int64) error {
	rows, err := s.w.QueryContext(ctx, `SELECT day FROM channel_audience WHERE channel_id = $1 ORDER BY day`, channelID)
	if err != nil {
		return fmt.Errorf("store: audience runs of channel %d: %w", channelID, err)
	}
	var runs [][2]time.Time
	for rows.Next() {
		var day string
		if err := rows.Scan(&day); err != nil {
			rows.Close()
			return fmt.Errorf("store: audience runs of channel %d: %w", channelID, err)
		}
		d, err := time.Parse("2006-01-02", day)
		if err != nil {
			rows.Close()
			return fmt.Errorf("store: audience runs of channel %d: day %q: %w", channelID, day, err)
		}
		if n := len(runs); n > 0 && d.Sub(runs[n-1][1]) <= (carryDays+1)*24*time.Hour {
			runs[n-1][1] = d
		} else {
			runs = append(runs, [2]time.Time{d, d})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: audience runs of channel %d: %w", channelID, err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM audience_runs WHERE channel_id = $1`, channelID); err != nil {
		return fmt.Errorf("store: audience runs of channel %d: %w", channelID, err)
	}
	for _, r := range runs {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO audience_runs (channel_id, first_day, last_day) VALUES ($1, $2, $3)`,
			channelID, r[0].Format("2006-01-02"), r[1].AddDate(0, 0, carryDays).Format("2006-01-02")); err != nil {
			return fmt.Errorf("store: audience runs of channel %d: %w", channelID, err)
		}
	}
	return nil
}

// deliveryFact is what the rollups count of one delivery.
type deliveryFact struct {
	id, channelID  int64
	platform, path string
	publishedAt    *int64
	published      bool // status published
	hasMetrics     bool
	likes          int64
	shares         int64
	replies        int64
	impressions    int64 // -1: not reported
	campaigns      []int64
}

func (f deliveryFact) engagements() int64 { return f.likes + f.shares + f.replies }

func (f deliveryFact) reported() int64 { return max(f.impressions, 0) }

// deliveryFacts reads the facts of the deliveries where cond holds (over
// deliveries d), locking them when lock is set (see channelPlace).
func (s *Store) deliveryFacts(ctx context.Context, lock bool, cond string, args ...any) (map[int64]deliveryFact, error) {
	if lock {
		cond += s.lockRows("FOR UPDATE OF d FOR SHARE OF c, u")
	}
	rows, err := s.w.QueryContext(ctx, `SELECT d.id, d.channel_id, c.platform, u.path, d.published_at, d.status = 'published', pm.delivery_id IS NOT NULL,
		COALESCE(pm.likes, 0), COALESCE(pm.shares, 0), COALESCE(pm.replies, 0), COALESCE(pm.impressions, -1), p.campaign_id, o.campaign_id
		FROM deliveries d JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id JOIN posts p ON p.id = d.post_id
		LEFT JOIN posts o ON o.id = p.origin_post_id LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
		WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery facts: %w", err)
	}
	defer rows.Close()
	out := map[int64]deliveryFact{}
	for rows.Next() {
		var f deliveryFact
		var camp, originCamp *int64
		if err := rows.Scan(&f.id, &f.channelID, &f.platform, &f.path, &f.publishedAt, &f.published, &f.hasMetrics,
			&f.likes, &f.shares, &f.replies, &f.impressions, &camp, &originCamp); err != nil {
			return nil, fmt.Errorf("store: delivery facts: %w", err)
		}
		if camp != nil {
			f.campaigns = append(f.campaigns, *camp)
		}
		if originCamp != nil && (camp == nil || *camp != *originCamp) {
			f.campaigns = append(f.campaigns, *originCamp)
		}
		out[f.id] = f
	}
	return out, rows.Err()
}

// trackPublished adds the deliveries just published (counted in no rollup
// before: only published deliveries count) to the rollups, in one read and
// one update for all of them.
func (s *Store) trackPublished(ctx context.Context, ids []int64) error {
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i], marks[i] = id, fmt.Sprintf("$%d", i+1)
	}
	after, err := s.deliveryFacts(ctx, false, "d.id IN ("+strings.Join(marks, ", ")+")", args...)
	if err != nil {
		return err
	}
	return s.applyDeliveryChange(ctx, map[int64]deliveryFact{}, after)
}

// trackDeliveries runs write in a transaction and brings the rollups up to
// date for the deliveries where cond holds, before or after the write.
func (s *Store) trackDeliveries(ctx context.Context, cond string, args []any, write func(tx *Store) error) error {
	return s.InTx(ctx, func(tx *Store) error {
		before, err := tx.deliveryFacts(ctx, true, cond, args...)
		if err != nil {
			return err
		}
		if err := write(tx); err != nil {
			return err
		}
		after, err := tx.deliveryFacts(ctx, false, cond, args...)
		if err != nil {
			return err
		}
		return tx.applyDeliveryChange(ctx, before, after)
	})
}

type deliveryKey struct {
	unitID   int64
	day      int64
	platform string
}

func (a deliveryKey) compare(b deliveryKey) int {
	return cmp.Or(cmp.Compare(a.unitID, b.unitID), cmp.Compare(a.day, b.day), cmp.Compare(a.platform, b.platform))
}

type campaignKey struct {
	campaign, unitID int64
	platform         string
}

func (a campaignKey) compare(b campaignKey) int {
	return cmp.Or(cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.unitID, b.unitID), cmp.Compare(a.platform, b.platform))
}

type topKey struct{ unitID, day int64 }

func (a topKey) compare(b topKey) int {
	return cmp.Or(cmp.Compare(a.unitID, b.unitID), cmp.Compare(a.day, b.day))
}

// topEntry is a delivery in top_posts_daily.
type topEntry struct{ id, engagements, publishedAt int64 }

// ahead orders the most engaging first, then the latest, then by id.
func (a topEntry) ahead(b topEntry) bool {
	if a.engagements != b.engagements {
		return a.engagements > b.engagements
	}
	if a.publishedAt != b.publishedAt {
		return a.publishedAt > b.publishedAt
	}
	return a.id > b.id
}

// applyDeliveryChange replaces the before facts' contributions to the
// rollups with the after facts'.
func (s *Store) applyDeliveryChange(ctx context.Context, before, after map[int64]deliveryFact) error {
	sums := map[deliveryKey][6]int64{}
	reach := map[campaignKey][5]int64{}
	tops := map[topKey]map[int64][2]*topEntry{} // [0] before, [1] after
	count := func(f deliveryFact, sign int64, side int) error {
		ids, err := pathIDs(f.path)
		if err != nil {
			return err
		}
		if f.published {
			for _, c := range f.campaigns {
				k := campaignKey{c, ids[len(ids)-1], f.platform}
				v := reach[k]
				reach[k] = [5]int64{v[0] + sign, v[1] + sign*f.likes, v[2] + sign*f.shares, v[3] + sign*f.replies, v[4] + sign*f.reported()}
			}
		}
		if f.publishedAt == nil {
			return nil
		}
		day := *f.publishedAt / dayMS
		var pub, posts int64
		if f.published {
			pub = sign
		}
		if f.hasMetrics {
			posts = sign
		}
		for _, id := range ids {
			k := deliveryKey{id, day, f.platform}
			v := sums[k]
			sums[k] = [6]int64{v[0] + pub, v[1] + posts, v[2] + posts*f.likes, v[3] + posts*f.shares, v[4] + posts*f.replies, v[5] + posts*f.reported()}
			if f.hasMetrics {
				tk := topKey{id, day}
				if tops[tk] == nil {
					tops[tk] = map[int64][2]*topEntry{}
				}
				e := tops[tk][f.id]
				e[side] = &topEntry{f.id, f.engagements(), *f.publishedAt}
				tops[tk][f.id] = e
			}
		}
		return nil
	}
	for _, f := range before {
		if err := count(f, -1, 0); err != nil {
			return err
		}
	}
	for _, f := range after {
		if err := count(f, 1, 1); err != nil {
			return err
		}
	}
	// In one order, so that writers on PostgreSQL can't deadlock.
	for _, k := range slices.SortedFunc(maps.Keys(sums), deliveryKey.compare) {
		v := sums[k]
		if v == [6]int64{} {
			continue
		}
		_, err := s.execPrepared(ctx, `INSERT INTO delivery_rollup (unit_id, day, platform, published, metric_posts, likes, shares, replies, impressions)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (unit_id, day, platform) DO UPDATE SET published = delivery_rollup.published + excluded.published,
				metric_posts = delivery_rollup.metric_posts + excluded.metric_posts, likes = delivery_rollup.likes + excluded.likes,
				shares = delivery_rollup.shares + excluded.shares, replies = delivery_rollup.replies + excluded.replies,
				impressions = delivery_rollup.impressions + excluded.impressions`,
			k.unitID, k.day, k.platform, v[0], v[1], v[2], v[3], v[4], v[5])
		if err != nil {
			return fmt.Errorf("store: delivery rollup of unit %d: %w", k.unitID, err)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(reach), campaignKey.compare) {
		v := reach[k]
		if v == [5]int64{} {
			continue
		}
		_, err := s.execPrepared(ctx, `INSERT INTO campaign_reach (campaign_id, unit_id, platform, posts, likes, shares, replies, impressions)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (campaign_id, unit_id, platform) DO UPDATE SET posts = campaign_reach.posts + excluded.posts,
				likes = campaign_reach.likes + excluded.likes, shares = campaign_reach.shares + excluded.shares,
				replies = campaign_reach.replies + excluded.replies, impressions = campaign_reach.impressions + excluded.impressions`,
			k.campaign, k.unitID, k.platform, v[0], v[1], v[2], v[3], v[4])
		if err != nil {
			return fmt.Errorf("store: campaign reach of campaign %d: %w", k.campaign, err)
		}
	}
	// In one order, so that writers locking several lists can't deadlock.
	for _, k := range slices.SortedFunc(maps.Keys(tops), topKey.compare) {
		if err := s.updateTopPosts(ctx, k, tops[k]); err != nil {
			return err
		}
	}
	return nil
}

// updateTopPosts brings one subtree-day's top list up to date with
// changed deliveries. The list holds the top topPostsPerDay of the day
// (all of them when fewer), so a changed delivery only needs merging in,
// unless one on a full list fell back or left: then nobody knows the next
// one without reading the day again.
func (s *Store) updateTopPosts(ctx context.Context, k topKey, changes map[int64][2]*topEntry) error {
	if s.engine == Postgres {
		// Writers to the same list take turns: the list is read, then
		// written whole.
		if _, err := s.w.ExecContext(ctx, `SELECT pg_advisory_xact_lock(CAST($1 AS INTEGER), CAST($2 AS INTEGER))`, k.unitID, k.day); err != nil {
			return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
		}
	}
	rows, err := s.w.QueryContext(ctx, `SELECT delivery_id, engagements, published_at FROM top_posts_daily WHERE unit_id = $1 AND day = $2`, k.unitID, k.day)
	if err != nil {
		return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
	}
	var list []topEntry
	for rows.Next() {
		var e topEntry
		if err := rows.Scan(&e.id, &e.engagements, &e.publishedAt); err != nil {
			rows.Close()
			return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
		}
		list = append(list, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
	}
	full := len(list) >= topPostsPerDay
	listed := map[int64]bool{}
	for _, e := range list {
		listed[e.id] = true
	}
	for id, c := range changes {
		// A list that is not full holds every delivery of the day, so one
		// missing went with its channel (ON DELETE CASCADE), maybe from a
		// list that was full.
		if c[0] != nil && !listed[id] && !full {
			return s.recomputeTopPosts(ctx, k)
		}
	}
	var kept []topEntry
	for _, e := range list {
		c, changed := changes[e.id]
		if !changed {
			kept = append(kept, e)
			continue
		}
		if full && (c[1] == nil || e.ahead(*c[1])) {
			return s.recomputeTopPosts(ctx, k)
		}
	}
	for _, c := range changes {
		if c[1] != nil {
			kept = append(kept, *c[1])
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].ahead(kept[j]) })
	if len(kept) > topPostsPerDay {
		kept = kept[:topPostsPerDay]
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM top_posts_daily WHERE unit_id = $1 AND day = $2`, k.unitID, k.day); err != nil {
		return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
	}
	for _, e := range kept {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO top_posts_daily (unit_id, day, delivery_id, engagements, published_at) VALUES ($1, $2, $3, $4, $5)`,
			k.unitID, k.day, e.id, e.engagements, e.publishedAt); err != nil {
			return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
		}
	}
	return nil
}

// recomputeTopPosts reads a subtree-day's top list from the raw rows.
func (s *Store) recomputeTopPosts(ctx context.Context, k topKey) error {
	var path string
	if err := s.w.QueryRowContext(ctx, `SELECT path FROM units WHERE id = $1`, k.unitID).Scan(&path); err != nil {
		return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM top_posts_daily WHERE unit_id = $1 AND day = $2`, k.unitID, k.day); err != nil {
		return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
	}
	lo, hi := subtreeBounds(path)
	_, err := s.w.ExecContext(ctx, `INSERT INTO top_posts_daily (unit_id, day, delivery_id, engagements, published_at)
		SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), d.id, pm.likes + pm.shares + pm.replies, d.published_at
		FROM post_metrics pm JOIN deliveries d ON d.id = pm.delivery_id JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		WHERE d.published_at >= $3 AND d.published_at < $4 AND `+s.subtreeRange("u.path", 5)+`
		ORDER BY pm.likes + pm.shares + pm.replies DESC, d.published_at DESC, d.id DESC LIMIT $7`,
		k.unitID, k.day, k.day*dayMS, (k.day+1)*dayMS, lo, hi, topPostsPerDay)
	if err != nil {
		return fmt.Errorf("store: top posts of unit %d: %w", k.unitID, err)
	}
	return nil
}

// moveSubtreeRollups moves a unit's subtree rows out of its old
// ancestors' rows and into its new ones'. It runs after the paths were
// rewritten.
func (s *Store) moveSubtreeRollups(ctx context.Context, unitID int64, oldPath, newPath string) error {
	oldIDs, err := pathIDs(oldPath)
	if err != nil {
		return err
	}
	newIDs, err := pathIDs(newPath)
	if err != nil {
		return err
	}
	in := func(id int64, ids []int64) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	var changed []int64
	shift := func(anc, sign int64) error {
		changed = append(changed, anc)
		if _, err := s.w.ExecContext(ctx, `INSERT INTO audience_rollup (unit_id, day, platform, followers, channels, growth)
			SELECT CAST($1 AS BIGINT), day, platform, CAST($2 AS BIGINT) * followers, CAST($2 AS BIGINT) * channels, CAST($2 AS BIGINT) * growth
			FROM audience_rollup WHERE unit_id = $3
			ON CONFLICT (unit_id, day, platform) DO UPDATE SET followers = audience_rollup.followers + excluded.followers,
				channels = audience_rollup.channels + excluded.channels, growth = audience_rollup.growth + excluded.growth`, anc, sign, unitID); err != nil {
			return fmt.Errorf("store: move audience rollup of unit %d: %w", unitID, err)
		}
		if _, err := s.w.ExecContext(ctx, `INSERT INTO delivery_rollup (unit_id, day, platform, published, metric_posts, likes, shares, replies, impressions)
			SELECT CAST($1 AS BIGINT), day, platform, CAST($2 AS BIGINT) * published, CAST($2 AS BIGINT) * metric_posts, CAST($2 AS BIGINT) * likes,
				CAST($2 AS BIGINT) * shares, CAST($2 AS BIGINT) * replies, CAST($2 AS BIGINT) * impressions FROM delivery_rollup WHERE unit_id = $3
			ON CONFLICT (unit_id, day, platform) DO UPDATE SET published = delivery_rollup.published + excluded.published,
				metric_posts = delivery_rollup.metric_posts + excluded.metric_posts, likes = delivery_rollup.likes + excluded.likes,
				shares = delivery_rollup.shares + excluded.shares, replies = delivery_rollup.replies + excluded.replies,
				impressions = delivery_rollup.impressions + excluded.impressions`, anc, sign, unitID); err != nil {
			return fmt.Errorf("store: move delivery rollup of unit %d: %w", unitID, err)
		}
		return nil
	}
	for _, id := range oldIDs[:len(oldIDs)-1] {
		if !in(id, newIDs) {
			if err := shift(id, -1); err != nil {
				return err
			}
		}
	}
	for _, id := range newIDs[:len(newIDs)-1] {
		if !in(id, oldIDs) {
			if err := shift(id, 1); err != nil {
				return err
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	// The top lists of the days the subtree has posts on, in every
	// ancestor it left or joined, are read again.
	rows, err := s.w.QueryContext(ctx, `SELECT DISTINCT day FROM top_posts_daily WHERE unit_id = $1`, unitID)
	if err != nil {
		return fmt.Errorf("store: move top posts of unit %d: %w", unitID, err)
	}
	var days []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return fmt.Errorf("store: move top posts of unit %d: %w", unitID, err)
		}
		days = append(days, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: move top posts of unit %d: %w", unitID, err)
	}
	for _, anc := range changed {
		for _, d := range days {
			if err := s.recomputeTopPosts(ctx, topKey{anc, d}); err != nil {
				return err
			}
		}
	}
	return nil
}

// RebuildAnalyticsRollups recomputes every analytics rollup from the raw
// tables, in one transaction: the migration that adds them runs it, and so
// does anything that fills the raw tables behind the store's back (the
// analytics benchmark's bulk load).
func (s *Store) RebuildAnalyticsRollups(ctx context.Context) error {
	return s.InTx(ctx, func(tx *Store) error { return tx.rebuildAnalyticsRollups(ctx) })
}

func (s *Store) rebuildAnalyticsRollups(ctx context.Context) error {
	for _, t := range []string{"audience_rollup", "audience_runs", "delivery_rollup", "top_posts_daily", "campaign_reach"} {
		if _, err := s.w.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return fmt.Errorf("store: rebuild %s: %w", t, err)
		}
	}
	// span: how many days a reading stands for: itself and the days up to
	// the next reading, at most carryDays after it. A reading's growth is
	// the change from the reading before when that one still stood for
	// the day before.
	daysBetween := func(a, b string) string { return `CAST(julianday(` + a + `) - julianday(` + b + `) AS INTEGER)` }
	plusDays := func(day, n string) string { return `date(` + day + `, '+' || ` + n + ` || ' days')` }
	if s.engine == Postgres {
		daysBetween = func(a, b string) string { return `(CAST(` + a + ` AS DATE) - CAST(` + b + ` AS DATE))` }
		plusDays = func(day, n string) string { return `to_char(CAST(` + day + ` AS DATE) + ` + n + `, 'YYYY-MM-DD')` }
	}
	reach := strconv.Itoa(carryDays + 1) // a reading and the days it is carried to
	span := `CASE WHEN next_day IS NULL OR ` + daysBetween("next_day", "day") + ` > ` + reach + ` THEN ` + reach + ` ELSE ` + daysBetween("next_day", "day") + ` END`
	growth := `CASE WHEN prev_day IS NOT NULL AND ` + daysBetween("day", "prev_day") + ` <= ` + reach + ` THEN followers - prev_followers ELSE 0 END`
	day := `d.published_at / ` + strconv.FormatInt(dayMS, 10)
	// A unit's subtree row is its own channels' sum plus its children's
	// subtree rows, so the units are done deepest first, one depth at a
	// time ($1); that sums each channel once per depth instead of once per
	// ancestor.
	statements := []struct{ table, sql string }{
		{"audience_rollup", `WITH r AS (SELECT channel_id, platform, day, followers, ` + span + ` AS span, ` + growth + ` AS growth
				FROM (SELECT a.channel_id, c.platform, a.day, a.followers, LEAD(a.day) OVER (PARTITION BY a.channel_id ORDER BY a.day) AS next_day,
						LAG(a.day) OVER (PARTITION BY a.channel_id ORDER BY a.day) AS prev_day,
						LAG(a.followers) OVER (PARTITION BY a.channel_id ORDER BY a.day) AS prev_followers
					FROM channel_audience a JOIN channels c ON c.id = a.channel_id JOIN units u ON u.id = c.unit_id WHERE u.depth = $1) x),
			k (n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)), -- 0 … carryDays
			own AS (SELECT c.unit_id, ` + plusDays("r.day", "k.n") + ` AS day, r.platform, r.followers, 1 AS channels,
					CASE WHEN k.n = 0 THEN r.growth ELSE 0 END AS growth
				FROM r JOIN k ON k.n < r.span JOIN channels c ON c.id = r.channel_id),
			children AS (SELECT u.parent_id AS unit_id, a.day, a.platform, a.followers, a.channels, a.growth
				FROM audience_rollup a JOIN units u ON u.id = a.unit_id WHERE u.depth = $1 + 1)
			INSERT INTO audience_rollup (unit_id, day, platform, followers, channels, growth)
			SELECT unit_id, day, platform, SUM(followers), SUM(channels), SUM(growth)
			FROM (SELECT * FROM own UNION ALL SELECT * FROM children) x
			GROUP BY unit_id, day, platform`},
		{"delivery_rollup", `INSERT INTO delivery_rollup (unit_id, day, platform, published, metric_posts, likes, shares, replies, impressions)
			SELECT unit_id, day, platform, SUM(published), SUM(metric_posts), SUM(likes), SUM(shares), SUM(replies), SUM(impressions)
			FROM (SELECT c.unit_id, ` + day + ` AS day, c.platform, CASE WHEN d.status = 'published' THEN 1 ELSE 0 END AS published,
					CASE WHEN pm.delivery_id IS NULL THEN 0 ELSE 1 END AS metric_posts, COALESCE(pm.likes, 0) AS likes,
					COALESCE(pm.shares, 0) AS shares, COALESCE(pm.replies, 0) AS replies, CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END AS impressions
				FROM units u JOIN channels c ON c.unit_id = u.id JOIN deliveries d ON d.channel_id = c.id LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
				WHERE u.depth = $1 AND d.published_at IS NOT NULL
				UNION ALL
				SELECT u.parent_id, r.day, r.platform, r.published, r.metric_posts, r.likes, r.shares, r.replies, r.impressions
				FROM delivery_rollup r JOIN units u ON u.id = r.unit_id WHERE u.depth = $1 + 1) x
			GROUP BY unit_id, day, platform`},
		// A subtree's top five of a day are among its own deliveries' and
		// its children's top five.
		{"top_posts_daily", `INSERT INTO top_posts_daily (unit_id, day, delivery_id, engagements, published_at)
			SELECT unit_id, day, delivery_id, engagements, published_at FROM (
				SELECT x.*, ROW_NUMBER() OVER (PARTITION BY unit_id, day ORDER BY engagements DESC, published_at DESC, delivery_id DESC) AS rank FROM (
					SELECT c.unit_id, ` + day + ` AS day, d.id AS delivery_id, pm.likes + pm.shares + pm.replies AS engagements, d.published_at
					FROM units u JOIN channels c ON c.unit_id = u.id JOIN deliveries d ON d.channel_id = c.id JOIN post_metrics pm ON pm.delivery_id = d.id
					WHERE u.depth = $1 AND d.published_at IS NOT NULL
					UNION ALL
					SELECT u.parent_id, t.day, t.delivery_id, t.engagements, t.published_at
					FROM top_posts_daily t JOIN units u ON u.id = t.unit_id WHERE u.depth = $1 + 1) x) ranked
			WHERE rank <= ` + strconv.Itoa(topPostsPerDay)},
	}
	var depth int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(depth), 0) FROM units`).Scan(&depth); err != nil {
		return fmt.Errorf("store: rebuild rollups: %w", err)
	}
	for _, st := range statements {
		for d := depth; d >= 0; d-- {
			if _, err := s.w.ExecContext(ctx, st.sql, d); err != nil {
				return fmt.Errorf("store: rebuild %s at depth %d: %w", st.table, d, err)
			}
		}
	}
	_, err := s.w.ExecContext(ctx, `WITH r AS (SELECT channel_id, day, LAG(day) OVER (PARTITION BY channel_id ORDER BY day) AS prev_day FROM channel_audience),
			numbered AS (SELECT channel_id, day, SUM(CASE WHEN prev_day IS NULL OR `+daysBetween("day", "prev_day")+` > `+reach+` THEN 1 ELSE 0 END)
				OVER (PARTITION BY channel_id ORDER BY day ROWS UNBOUNDED PRECEDING) AS run FROM r)
		INSERT INTO audience_runs (channel_id, first_day, last_day)
		SELECT channel_id, MIN(day), `+plusDays("MAX(day)", strconv.Itoa(carryDays))+` FROM numbered GROUP BY channel_id, run`)
	if err != nil {
		return fmt.Errorf("store: rebuild audience_runs: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `WITH member AS (
			SELECT id AS post_id, campaign_id FROM posts WHERE campaign_id IS NOT NULL
			UNION
			SELECT p.id, o.campaign_id FROM posts p JOIN posts o ON o.id = p.origin_post_id WHERE o.campaign_id IS NOT NULL)
		INSERT INTO campaign_reach (campaign_id, unit_id, platform, posts, likes, shares, replies, impressions)
		SELECT m.campaign_id, c.unit_id, c.platform, COUNT(*), COALESCE(SUM(pm.likes), 0), COALESCE(SUM(pm.shares), 0), COALESCE(SUM(pm.replies), 0),
			COALESCE(SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END), 0)
		FROM deliveries d JOIN member m ON m.post_id = d.post_id JOIN channels c ON c.id = d.channel_id
		LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
		WHERE d.status = 'published'
		GROUP BY m.campaign_id, c.unit_id, c.platform`)
	if err != nil {
		return fmt.Errorf("store: rebuild campaign_reach: %w", err)
	}
	return nil
}
