// Package analyticsbench measures the analytics queries at the issue's
// scale: many channels with years of daily audience readings and a million
// post-metric rows, generated straight into a fresh database (SQLite, or
// PostgreSQL when a DSN is given), then the group's overview and a campaign
// report timed against a baseline in the same run: the same overview of a
// unit with no data, which costs only the fixed work.
package analyticsbench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/store"
)

// Options size a run.
type Options struct {
	Channels    int    // default 10,000
	Days        int    // audience history per channel, default 730
	PostMetrics int    // deliveries with a metrics row, default 1,000,000
	Queries     int    // timed queries per figure, default 50
	DSN         string // PostgreSQL; empty: SQLite in a temporary directory
	Log         io.Writer
}

// Result is what a run measured.
type Result struct {
	Engine                                    string
	Channels, Days, AudienceRows, PostMetrics int
	GenerateSeconds                           float64
	Overview28P50, Overview28P95              time.Duration
	Overview365P95                            time.Duration
	OverviewZoneP95                           time.Duration // 28 days in Asia/Kathmandu (UTC+5:45)
	CampaignP50, CampaignP95                  time.Duration
	BaselineP50, BaselineP95                  time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf(`engine %s: %d channels × %d days of audience (%d rows), %d post-metric rows, generated in %.0f s
group overview, last 28 days: p50 %v, p95 %v
group overview, last 365 days: p95 %v
group overview, last 28 days in Asia/Kathmandu: p95 %v
campaign report: p50 %v, p95 %v
baseline (the same overview of a unit without data): p50 %v, p95 %v
`, r.Engine, r.Channels, r.Days, r.AudienceRows, r.PostMetrics, r.GenerateSeconds, r.Overview28P50.Round(time.Microsecond*100), r.Overview28P95.Round(time.Microsecond*100),
		r.Overview365P95.Round(time.Microsecond*100), r.OverviewZoneP95.Round(time.Microsecond*100), r.CampaignP50.Round(time.Microsecond*100), r.CampaignP95.Round(time.Microsecond*100),
		r.BaselineP50.Round(time.Microsecond*100), r.BaselineP95.Round(time.Microsecond*100))
}

// Run generates the data and times the queries.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Channels <= 0 {
		o.Channels = 10000
	}
	if o.Days <= 0 {
		o.Days = 730
	}
	if o.PostMetrics <= 0 {
		o.PostMetrics = 1000000
	}
	if o.Queries <= 0 {
		o.Queries = 50
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	dir, err := os.MkdirTemp("", "vernetzen-analytics-bench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, o.DSN, dir)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	if err := st.SyncPlatforms(ctx, org.Platforms); err != nil {
		return Result{}, err
	}
	res := Result{Engine: string(st.Engine()), Channels: o.Channels, Days: o.Days, PostMetrics: o.PostMetrics}
	start := time.Now()
	campaign, err := generate(ctx, st, o, &res)
	if err != nil {
		return res, err
	}
	res.GenerateSeconds = time.Since(start).Seconds()
	orgSvc := org.NewService(st, st.OrgTx)
	svc := analytics.NewService(st, orgSvc)
	sys := access.SystemPrincipal()
	today := time.Now().UTC()
	time28 := func() error {
		_, err := svc.Overview(ctx, sys, "group", "", "", "UTC")
		return err
	}
	time365 := func() error {
		_, err := svc.Overview(ctx, sys, "group", today.AddDate(0, 0, -364).Format("2006-01-02"), today.Format("2006-01-02"), "UTC")
		return err
	}
	// Days that do not start at midnight UTC read the parts of days at
	// either end from the deliveries themselves.
	timeZone := func() error {
		_, err := svc.Overview(ctx, sys, "group", "", "", "Asia/Kathmandu")
		return err
	}
	timeCampaign := func() error {
		_, err := svc.Campaign(ctx, sys, campaign)
		return err
	}
	timeBaseline := func() error {
		_, err := svc.Overview(ctx, sys, "empty", "", "", "UTC")
		return err
	}
	var p50, p95 time.Duration
	if p50, p95, err = timeIt(o.Queries, time28); err != nil {
		return res, err
	}
	res.Overview28P50, res.Overview28P95 = p50, p95
	if _, res.Overview365P95, err = timeIt(max(o.Queries/5, 5), time365); err != nil {
		return res, err
	}
	if _, res.OverviewZoneP95, err = timeIt(max(o.Queries/5, 5), timeZone); err != nil {
		return res, err
	}
	if res.CampaignP50, res.CampaignP95, err = timeIt(o.Queries, timeCampaign); err != nil {
		return res, err
	}
	if res.BaselineP50, res.BaselineP95, err = timeIt(o.Queries, timeBaseline); err != nil {
		return res, err
	}
	return res, nil
}

func timeIt(n int, f func() error) (time.Duration, time.Duration, error) {
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		if err := f(); err != nil {
			return 0, 0, err
		}
		ds[i] = time.Since(t)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[n/2], ds[min(n-1, n*95/100)], nil
}

// bulk inserts rows of n columns in multi-row statements, in one
// transaction per 50 statements.
type bulk struct {
	db    *sql.DB
	pg    bool
	table string
	cols  []string
	rows  [][]any
	tx    *sql.Tx
	stmts int
}

func (b *bulk) add(ctx context.Context, vals ...any) error {
	b.rows = append(b.rows, vals)
	if len(b.rows)*len(b.cols) >= 900 {
		return b.flush(ctx)
	}
	return nil
}

func (b *bulk) flush(ctx context.Context) error {
	if len(b.rows) == 0 {
		return nil
	}
	if b.tx == nil {
		tx, err := b.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		b.tx = tx
	}
	var q strings.Builder
	q.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(b.rows)*len(b.cols))
	for i, r := range b.rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		for j := range r {
			if j > 0 {
				q.WriteByte(',')
			}
			args = append(args, r[j])
			if b.pg {
				fmt.Fprintf(&q, "$%d", len(args))
			} else {
				q.WriteByte('?')
			}
		}
		q.WriteByte(')')
	}
	if _, err := b.tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	b.rows = b.rows[:0]
	b.stmts++
	if b.stmts%50 == 0 {
		return b.commit()
	}
	return nil
}

func (b *bulk) commit() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx = nil
	return err
}

func (b *bulk) done(ctx context.Context) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.commit()
}

// generate builds a group with brands, markets and dealers, the channels
// spread over them, daily audience readings, and posts delivered to many
// channels each with an engagement reading; one campaign holds a share
// of the posts. It returns the campaign's id.
func generate(ctx context.Context, st *store.Store, o Options, res *Result) (int64, error) {
	orgSvc := org.NewService(st, st.OrgTx)
	sys := access.SystemPrincipal()
	m := &org.Map{Units: []*org.MapUnit{{Key: "group", Name: "Group", Kind: org.KindGroup}}}
	var dealers []string
	for b := 0; b < 10; b++ {
		brand := &org.MapUnit{Key: fmt.Sprintf("brand-%d", b), Name: fmt.Sprintf("Brand %d", b), Kind: org.KindBrand}
		for mk := 0; mk < 10; mk++ {
			market := &org.MapUnit{Key: fmt.Sprintf("market-%d-%d", b, mk), Name: fmt.Sprintf("Market %d-%d", b, mk), Kind: org.KindMarket}
			for d := 0; d < 10; d++ {
				key := fmt.Sprintf("dealer-%d-%d-%d", b, mk, d)
				market.Children = append(market.Children, &org.MapUnit{Key: key, Name: key, Kind: org.KindDealer})
				dealers = append(dealers, key)
			}
			brand.Children = append(brand.Children, market)
		}
		m.Units[0].Children = append(m.Units[0].Children, brand)
	}
	m.Units[0].Children = append(m.Units[0].Children, &org.MapUnit{Key: "empty", Name: "No data", Kind: org.KindTopic})
	if _, err := orgSvc.Import(ctx, sys, "bench", m); err != nil {
		return 0, err
	}
	db := st.DB()
	pg := st.Engine() == store.Postgres
	unitID := map[string]int64{}
	rows, err := db.QueryContext(ctx, `SELECT key, id FROM units`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var k string
		var id int64
		rows.Scan(&k, &id)
		unitID[k] = id
	}
	rows.Close()
	platforms := []string{"facebook", "instagram", "x", "youtube", "linkedin", "mastodon"}
	now := time.Now().UTC()
	ms := now.UnixMilli()
	ch := &bulk{db: db, pg: pg, table: "channels", cols: []string{"id", "unit_id", "platform", "handle", "account_key", "name", "status", "created_at", "updated_at"}}
	for i := 1; i <= o.Channels; i++ {
		h := fmt.Sprintf("acct%d", i)
		if err := ch.add(ctx, i, unitID[dealers[i%len(dealers)]], platforms[i%len(platforms)], h, h, h, "active", ms, ms); err != nil {
			return 0, err
		}
	}
	if err := ch.done(ctx); err != nil {
		return 0, err
	}
	fmt.Fprintf(o.Log, "channels: %d\n", o.Channels)
	rng := rand.New(rand.NewPCG(1, 2))
	au := &bulk{db: db, pg: pg, table: "channel_audience", cols: []string{"channel_id", "day", "followers"}}
	first := now.AddDate(0, 0, -o.Days+1)
	for i := 1; i <= o.Channels; i++ {
		f := int64(1000 + rng.IntN(100000))
		for d := 0; d < o.Days; d++ {
			f += int64(rng.IntN(20)) - 5
			if err := au.add(ctx, i, first.AddDate(0, 0, d).Format("2006-01-02"), f); err != nil {
				return 0, err
			}
			res.AudienceRows++
		}
	}
	if err := au.done(ctx); err != nil {
		return 0, err
	}
	fmt.Fprintf(o.Log, "audience rows: %d\n", res.AudienceRows)
	if _, err := db.ExecContext(ctx, `INSERT INTO campaigns (id, unit_id, name, topic, created_at, updated_at) VALUES (1, $1, 'Launch', 'launch', $2, $2)`, unitID["group"], ms); err != nil {
		return 0, err
	}
	// One table at a time: the SQLite store has one writer connection,
	// so two open transactions would wait for each other.
	perPost := min(100, o.Channels) // a post reaches each channel once
	posts := (o.PostMetrics + perPost - 1) / perPost
	at := make([]int64, posts+1)
	po := &bulk{db: db, pg: pg, table: "posts", cols: []string{"id", "unit_id", "campaign_id", "text", "status", "scheduled_at", "created_at", "updated_at"}}
	for p := 1; p <= posts; p++ {
		at[p] = now.Add(-time.Duration(rng.Int64N(int64(o.Days) * int64(24*time.Hour)))).UnixMilli()
		var camp any
		if p%10 == 0 {
			camp = 1
		}
		if err := po.add(ctx, p, unitID["group"], camp, fmt.Sprintf("Post %d", p), "scheduled", at[p], at[p], at[p]); err != nil {
			return 0, err
		}
	}
	if err := po.done(ctx); err != nil {
		return 0, err
	}
	deliveryPost := func(did int) int { return (did-1)/perPost + 1 }
	de := &bulk{db: db, pg: pg, table: "deliveries", cols: []string{"id", "post_id", "channel_id", "idem_key", "status", "platform_post_id", "published_at", "updated_at"}}
	for did := 1; did <= o.PostMetrics; did++ {
		p := deliveryPost(did)
		c := (p*7919+(did-1)%perPost)%o.Channels + 1
		if err := de.add(ctx, did, p, c, fmt.Sprintf("k%d", did), "published", fmt.Sprintf("pp%d", did), at[p], at[p]); err != nil {
			return 0, err
		}
	}
	if err := de.done(ctx); err != nil {
		return 0, err
	}
	pm := &bulk{db: db, pg: pg, table: "post_metrics", cols: []string{"delivery_id", "step", "polled_at", "likes", "shares", "replies", "impressions"}}
	for did := 1; did <= o.PostMetrics; did++ {
		if err := pm.add(ctx, did, 5, at[deliveryPost(did)], rng.IntN(500), rng.IntN(50), rng.IntN(80), rng.IntN(20000)); err != nil {
			return 0, err
		}
	}
	if err := pm.done(ctx); err != nil {
		return 0, err
	}
	did := o.PostMetrics
	if pg {
		// Identity columns were given explicit ids: move them on, and
		// let the planner see the new tables.
		for _, t := range []string{"channels", "posts", "deliveries", "campaigns"} {
			if _, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
				return 0, err
			}
		}
		if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
			return 0, err
		}
	} else if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return 0, err
	}
	fmt.Fprintf(o.Log, "posts: %d, deliveries and metrics: %d\n", posts, did)
	// The rows went in behind the store's back, so its analytics rollups
	// are built from them as the migration builds them from existing data.
	t := time.Now()
	if err := st.RebuildAnalyticsRollups(ctx); err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return 0, err
	}
	fmt.Fprintf(o.Log, "rollups built in %.0f s\n", time.Since(t).Seconds())
	return 1, nil
}
