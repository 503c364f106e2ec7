package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// TestRollupsMatchRawRows builds audience readings, deliveries, engagement
// readings and campaigns through the store's ordinary write paths - with
// readings arriving late and out of order, gaps longer than the carry,
// falling engagement, a channel moved to another unit and another platform,
// a retired channel, a unit moved under another parent and a post moved to
// another campaign - and checks that the rollup-based overview and
// campaign report equal the same figures computed straight from the raw
// rows, for every unit, several periods and time zones, and that the
// rollups kept current on write equal rollups rebuilt from scratch.
func TestRollupsMatchRawRows(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if err := st.SyncPlatforms(ctx, org.Platforms); err != nil {
		t.Fatal(err)
	}
	orgSvc := org.NewService(st, st.OrgTx)
	sys := access.SystemPrincipal()
	unit := func(key string, kind org.Kind, children ...*org.MapUnit) *org.MapUnit {
		return &org.MapUnit{Key: key, Name: key, Kind: kind, Children: children}
	}
	m := &org.Map{Units: []*org.MapUnit{unit("group", org.KindGroup,
		unit("brand-a", org.KindBrand, unit("market-a1", org.KindMarket, unit("dealer-a1x", org.KindDealer)), unit("market-a2", org.KindMarket)),
		unit("brand-b", org.KindBrand, unit("market-b1", org.KindMarket)))}}
	if _, err := orgSvc.Import(ctx, sys, "test", m); err != nil {
		t.Fatal(err)
	}
	units := []string{"group", "brand-a", "market-a1", "dealer-a1x", "market-a2", "brand-b", "market-b1"}
	platforms := []string{"facebook", "instagram", "x"}
	rng := rand.New(rand.NewPCG(6, 9))
	var channels []org.Channel
	for i := 0; i < 14; i++ {
		c, err := orgSvc.CreateChannel(ctx, sys, org.ChannelInput{Unit: units[i%len(units)], Platform: platforms[i%len(platforms)], Handle: fmt.Sprintf("acct%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		channels = append(channels, c)
	}

	// Audience: January to April 2026 with gaps of up to 12 days, sent in
	// shuffled batches, some days sent twice with another count.
	day0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	addAudience := func(c org.Channel, from, to int) {
		var pts []org.AudiencePoint
		f := int64(1000 + rng.IntN(1000))
		for d := from; d < to; d += 1 + rng.IntN(12)*rng.IntN(2) {
			f += int64(rng.IntN(30)) - 10
			pts = append(pts, org.AudiencePoint{Day: day0.AddDate(0, 0, d).Format("2006-01-02"), Followers: f})
		}
		rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
		for len(pts) > 0 {
			n := min(len(pts), 1+rng.IntN(5))
			if err := orgSvc.AddAudience(ctx, sys, c.ID, pts[:n]); err != nil {
				t.Fatal(err)
			}
			pts = pts[n:]
		}
	}
	for _, c := range channels {
		addAudience(c, rng.IntN(20), 60+rng.IntN(60))
	}
	// A late correction of a day already counted.
	if err := orgSvc.AddAudience(ctx, sys, channels[0].ID, []org.AudiencePoint{{Day: "2026-02-10", Followers: 7}}); err != nil {
		t.Fatal(err)
	}

	// Deliveries: posts across February and March, some at either side of
	// midnight UTC, some in a campaign, some taking a campaign post up.
	var camps []int64
	for _, name := range []string{"Launch", "Spring"} {
		c := publish.Campaign{UnitID: channels[0].UnitID, Name: name}
		if err := st.CreateCampaign(ctx, &c, 0); err != nil {
			t.Fatal(err)
		}
		camps = append(camps, c.ID)
	}
	var deliveries []publish.Delivery
	var campaignPosts []int64
	post := func(i int, campaign, origin *int64) int64 {
		var chs []int64
		var keys []string
		for j := 0; j < 1+rng.IntN(4); j++ {
			c := channels[(i*5+j*3)%len(channels)]
			chs = append(chs, c.ID)
			keys = append(keys, fmt.Sprintf("k%d-%d", i, c.ID))
		}
		p := publish.Post{UnitID: channels[0].UnitID, CampaignID: campaign, OriginID: origin, Text: fmt.Sprintf("Post %d", i),
			Stored: publish.PostScheduled, ScheduledAt: day0, TimeZone: "UTC"}
		if err := st.CreatePost(ctx, &p, chs, keys, publish.DeliveryScheduled); err != nil {
			t.Fatal(err)
		}
		ds, err := st.Deliveries(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		deliveries = append(deliveries, ds...)
		return p.ID
	}
	for i := 0; i < 50; i++ {
		var campaign, origin *int64
		switch {
		case i%4 == 0:
			campaign = &camps[i%len(camps)]
		case i%7 == 0 && len(campaignPosts) > 0:
			origin = &campaignPosts[len(campaignPosts)-1]
		}
		id := post(i, campaign, origin)
		if campaign != nil {
			campaignPosts = append(campaignPosts, id)
		}
	}
	publishAll := func(ds []publish.Delivery) {
		for _, d := range ds {
			if rng.IntN(8) == 0 {
				continue // never published
			}
			at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(50*24*4)) * 15 * time.Minute)
			d.Status, d.PlatformPostID, d.PublishedAt = publish.DeliveryPublished, fmt.Sprintf("pp%d", d.ID), &at
			if err := st.SaveOutcome(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(ds []publish.Delivery, steps int) {
		for _, d := range ds {
			for step := 1; step <= steps; step++ {
				if rng.IntN(6) == 0 {
					if err := st.AdvancePostMetrics(ctx, d.ID, step, day0); err != nil {
						t.Fatal(err)
					}
					continue
				}
				imp := int64(rng.IntN(3000)) - 500 // some not reported
				if imp < 0 {
					imp = -1
				}
				pm := analytics.PostMetrics{Likes: int64(rng.IntN(40)), Shares: int64(rng.IntN(5)), Replies: int64(rng.IntN(9)), Impressions: imp}
				if err := st.SavePostMetrics(ctx, d.ID, step, pm, day0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	publishAll(deliveries)
	read(deliveries, 2)

	// Changes of place: a channel to another unit and platform, a channel
	// retired, a unit under another brand, a post into another campaign.
	moved := channels[3]
	toUnit, toPlatform := "market-b1", "instagram"
	if _, err := orgSvc.UpdateChannel(ctx, sys, moved.ID, org.ChannelPatch{Unit: &toUnit, Platform: &toPlatform}); err != nil {
		t.Fatal(err)
	}
	if _, err := orgSvc.RetireChannel(ctx, sys, channels[5].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := orgSvc.MoveUnit(ctx, sys, "market-a1", "brand-b"); err != nil {
		t.Fatal(err)
	}
	p, err := st.PostByID(ctx, campaignPosts[0])
	if err != nil {
		t.Fatal(err)
	}
	p.CampaignID = &camps[1]
	if err := st.UpdatePost(ctx, &p); err != nil {
		t.Fatal(err)
	}
	// More readings after the moves, engagement rising and falling.
	addAudience(moved, 70, 110)
	read(deliveries, 4)
	// A channel deleted with its history and deliveries.
	if err := orgSvc.DeleteChannel(ctx, sys, channels[6].ID); err != nil {
		t.Fatal(err)
	}

	svc := analytics.NewService(st, orgSvc)
	periods := [][2]string{{"2026-02-01", "2026-02-28"}, {"2026-03-01", "2026-03-31"}, {"2026-01-01", "2026-04-30"}, {"2026-03-17", "2026-03-17"}, {"2026-05-01", "2026-05-10"}}
	for _, u := range units {
		for _, per := range periods {
			for _, tz := range []string{"UTC", "Europe/Berlin", "Asia/Kathmandu", "America/Los_Angeles"} {
				got, err := svc.Overview(ctx, sys, u, per[0], per[1], tz)
				if err != nil {
					t.Fatal(err)
				}
				want := rawOverview(t, st, got)
				if g, w := figures(got), figures(want); g != w {
					t.Errorf("%s %v %s:\n got %s\nwant %s", u, per, tz, g, w)
				}
			}
		}
	}
	for _, c := range camps {
		got, err := svc.Campaign(ctx, sys, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, byUnit := range []bool{false, true} {
			want := rawCampaignReach(t, st, c, byUnit)
			g := got.ByPlatform
			if byUnit {
				g = got.ByUnit
			}
			if len(want) == 0 {
				t.Fatalf("campaign %d reached nobody", c)
			}
			if js(g) != js(want) {
				t.Errorf("campaign %d by unit %v:\n got %s\nwant %s", c, byUnit, js(g), js(want))
			}
		}
	}

	// What the writes kept current is what a rebuild computes.
	kept := rollupRows(t, st)
	if err := st.RebuildAnalyticsRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := rollupRows(t, st); kept != rebuilt {
		t.Errorf("rollups kept on write differ from a rebuild:\n%s", diffLines(kept, rebuilt))
	}
	if !strings.Contains(kept, "top_posts_daily") || !strings.Contains(kept, "campaign_reach") {
		t.Fatalf("rollups empty:\n%.500s", kept)
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// figures are the overview's figures the rollups answer.
func figures(o analytics.Overview) string {
	return js(map[string]any{"audience": o.Audience, "posts": o.Posts, "engagement": o.Engagement, "top": o.TopPosts})
}

// rawOverview computes an overview's audience, posts, engagement and top
// posts straight from the raw rows, the way the overview did before the
// rollups: every reading of the subtree's channels, carried forward in Go.
func rawOverview(t *testing.T, st *store.Store, o analytics.Overview) analytics.Overview {
	t.Helper()
	ctx := context.Background()
	db := st.DB()
	var path string
	if err := db.QueryRowContext(ctx, `SELECT path FROM units WHERE key = $1`, o.Unit).Scan(&path); err != nil {
		t.Fatal(err)
	}
	like := path + "%"
	day := func(s string) time.Time {
		d, _ := time.Parse("2006-01-02", s)
		return d
	}
	days := func(p analytics.Period) []string {
		var out []string
		for d := day(p.From); !d.After(day(p.To)); d = d.AddDate(0, 0, 1) {
			out = append(out, d.Format("2006-01-02"))
		}
		return out
	}
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.platform, a.day, a.followers
		FROM channel_audience a JOIN channels c ON c.id = a.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 ORDER BY c.id, a.day`, like)
	if err != nil {
		t.Fatal(err)
	}
	type series struct {
		platform string
		days     []string
		values   []int64
	}
	chans := map[int64]*series{}
	first := day(o.Previous.From).AddDate(0, 0, -7).Format("2006-01-02")
	for rows.Next() {
		var id, f int64
		var pl, d string
		if err := rows.Scan(&id, &pl, &d, &f); err != nil {
			t.Fatal(err)
		}
		if d < first || d > o.Period.To {
			continue
		}
		if chans[id] == nil {
			chans[id] = &series{platform: pl}
		}
		chans[id].days = append(chans[id].days, d)
		chans[id].values = append(chans[id].values, f)
	}
	rows.Close()
	asOf := func(c *series, d string) (int64, bool) {
		for i := len(c.days) - 1; i >= 0; i-- {
			if c.days[i] <= d {
				if day(d).Sub(day(c.days[i])) > 7*24*time.Hour {
					return 0, false
				}
				return c.values[i], true
			}
		}
		return 0, false
	}
	byPlatform := map[string]*analytics.PlatformAudience{}
	cur, prev := days(o.Period), days(o.Previous)
	for _, c := range chans {
		pa := byPlatform[c.platform]
		if pa == nil {
			pa = &analytics.PlatformAudience{Platform: c.platform, Series: make([]*int64, len(cur))}
			byPlatform[c.platform] = pa
		}
		for i, d := range cur {
			if v, ok := asOf(c, d); ok {
				if pa.Series[i] == nil {
					pa.Series[i] = new(int64)
				}
				*pa.Series[i] += v
			}
		}
		for _, g := range []struct {
			days []string
			sum  **int64
		}{{cur, &pa.Growth}, {prev, &pa.PreviousGrowth}} {
			a, ok1 := asOf(c, g.days[0])
			b, ok2 := asOf(c, g.days[len(g.days)-1])
			if ok1 && ok2 {
				if *g.sum == nil {
					*g.sum = new(int64)
				}
				**g.sum += b - a
			}
		}
	}
	out := analytics.Overview{Audience: []analytics.PlatformAudience{}}
	for _, pa := range byPlatform {
		pa.Start, pa.End = pa.Series[0], pa.Series[len(pa.Series)-1]
		out.Audience = append(out.Audience, *pa)
	}
	sort.Slice(out.Audience, func(i, j int) bool { return out.Audience[i].Platform < out.Audience[j].Platform })

	count := func(from, to time.Time) map[string]int64 {
		m := map[string]int64{}
		rows, err := db.QueryContext(ctx, `SELECT c.platform, COUNT(*) FROM deliveries d JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
			WHERE u.path LIKE $1 AND d.status = 'published' AND d.published_at >= $2 AND d.published_at < $3 GROUP BY c.platform`, like, from.UnixMilli(), to.UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			var n int64
			rows.Scan(&p, &n)
			m[p] = n
		}
		return m
	}
	engagement := func(from, to time.Time) []analytics.Engagement {
		rows, err := db.QueryContext(ctx, `SELECT c.platform, COUNT(*), SUM(pm.likes), SUM(pm.shares), SUM(pm.replies),
			SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END)
			FROM post_metrics pm JOIN deliveries d ON d.id = pm.delivery_id JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
			WHERE u.path LIKE $1 AND d.published_at >= $2 AND d.published_at < $3
			GROUP BY c.platform ORDER BY c.platform`, like, from.UnixMilli(), to.UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []analytics.Engagement
		for rows.Next() {
			var e analytics.Engagement
			rows.Scan(&e.Platform, &e.Posts, &e.Likes, &e.Shares, &e.Replies, &e.Impressions)
			out = append(out, e)
		}
		return out
	}
	cs, ce := o.Period.Bounds()
	ps, pe := o.Previous.Bounds()
	now, before := count(cs, ce), count(ps, pe)
	out.Posts = []analytics.Count{}
	for k := range now {
		out.Posts = append(out.Posts, analytics.Count{Key: k, Current: now[k], Previous: before[k]})
	}
	for k := range before {
		if _, ok := now[k]; !ok {
			out.Posts = append(out.Posts, analytics.Count{Key: k, Previous: before[k]})
		}
	}
	sort.Slice(out.Posts, func(i, j int) bool {
		if out.Posts[i].Current != out.Posts[j].Current {
			return out.Posts[i].Current > out.Posts[j].Current
		}
		return out.Posts[i].Key < out.Posts[j].Key
	})
	old := map[string]int64{}
	for _, e := range engagement(ps, pe) {
		old[e.Platform] = e.Likes + e.Shares + e.Replies
	}
	out.Engagement = []analytics.Engagement{}
	for _, e := range engagement(cs, ce) {
		total := e.Likes + e.Shares + e.Replies
		if e.Impressions > 0 {
			e.Rate = fmt.Sprintf("%.2f%%", 100*float64(total)/float64(e.Impressions))
		}
		if e.Posts > 0 {
			e.PerPost = fmt.Sprintf("%.1f", float64(total)/float64(e.Posts))
		}
		e.Previous = old[e.Platform]
		out.Engagement = append(out.Engagement, e)
	}
	rows, err = db.QueryContext(ctx, `SELECT d.post_id, c.name, c.platform, d.url, p.text, d.published_at, pm.likes + pm.shares + pm.replies AS eng
		FROM post_metrics pm JOIN deliveries d ON d.id = pm.delivery_id JOIN posts p ON p.id = d.post_id
		JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		WHERE u.path LIKE $1 AND d.published_at >= $2 AND d.published_at < $3
		ORDER BY eng DESC, d.published_at DESC, d.id DESC LIMIT 5`, like, cs.UnixMilli(), ce.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	out.TopPosts = []analytics.TopPost{}
	for rows.Next() {
		var tp analytics.TopPost
		var at int64
		rows.Scan(&tp.PostID, &tp.Channel, &tp.Platform, &tp.URL, &tp.Text, &at, &tp.Engagements)
		tp.PublishedAt = time.UnixMilli(at).UTC()
		out.TopPosts = append(out.TopPosts, tp)
	}
	rows.Close()
	return out
}

// rawCampaignReach is the campaign reach straight from the deliveries.
func rawCampaignReach(t *testing.T, st *store.Store, id int64, byUnit bool) []analytics.Reach {
	t.Helper()
	key, name := "c.platform", "c.platform"
	if byUnit {
		key, name = "u.key", "u.name"
	}
	rows, err := st.DB().QueryContext(context.Background(), `SELECT `+key+`, `+name+`, COUNT(*), COALESCE(SUM(pm.likes), 0), COALESCE(SUM(pm.shares), 0),
		COALESCE(SUM(pm.replies), 0), COALESCE(SUM(CASE WHEN pm.impressions > 0 THEN pm.impressions ELSE 0 END), 0)
		FROM deliveries d JOIN channels c ON c.id = d.channel_id JOIN units u ON u.id = c.unit_id
		LEFT JOIN post_metrics pm ON pm.delivery_id = d.id
		WHERE d.status = 'published' AND d.post_id IN (SELECT id FROM posts WHERE campaign_id = $1 OR origin_post_id IN (SELECT id FROM posts WHERE campaign_id = $1))
		GROUP BY `+key+`, `+name+` ORDER BY COUNT(*) DESC, `+key, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []analytics.Reach{}
	for rows.Next() {
		var r analytics.Reach
		rows.Scan(&r.Key, &r.Name, &r.Posts, &r.Likes, &r.Shares, &r.Replies, &r.Impressions)
		if !byUnit {
			r.Name = ""
		}
		out = append(out, r)
	}
	return out
}

// rollupRows lists every rollup row that counts something, one per line.
func rollupRows(t *testing.T, st *store.Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT 'audience_rollup', unit_id, day, platform, followers, channels FROM audience_rollup WHERE channels <> 0 OR followers <> 0 ORDER BY 1, 2, 3, 4`,
		`SELECT 'delivery_rollup', unit_id, day, platform, published, metric_posts, likes, shares, replies, impressions FROM delivery_rollup
			WHERE published <> 0 OR metric_posts <> 0 ORDER BY 1, 2, 3, 4`,
		`SELECT 'top_posts_daily', unit_id, day, delivery_id, engagements, published_at FROM top_posts_daily ORDER BY 1, 2, 3, 4`,
		`SELECT 'campaign_reach', campaign_id, unit_id, platform, posts, likes, shares, replies, impressions FROM campaign_reach WHERE posts <> 0 ORDER BY 1, 2, 3, 4`,
	} {
		rows, err := st.DB().QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(' ')
				}
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprint(&b, v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "kept only:    "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "rebuilt only: "+l)
		}
	}
	sort.Strings(out)
	if len(out) > 40 {
		out = out[:40]
	}
	return strings.Join(out, "\n")
}
