// Package inboxbench measures the inbox's ingest path: N messages through
// inbox.Service.Ingest (validation, dedupe, classification, routing,
// batched writes that concurrent calls share, leads) into a fresh SQLite
// database, against a plain batched INSERT of the same rows into another
// fresh database with the same schema, in the same run; then the p95 of
// filtered message queries over what was stored. It also holds the parts
// that `vernetzen bench ingest` uses to do the same through the HTTP API.
package inboxbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/demo"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/store"
)

// Options tune a run.
type Options struct {
	N int // messages (default 100,000)
	// CacheMB sets SQLite's page cache of the write connection (0: the
	// store's default), to measure what a larger cache would give.
	CacheMB int
	// Pragmas run on both stores' write connection before the runs
	// ("wal_autocheckpoint = 10000"), to measure a setting's effect.
	Pragmas []string
	Batch   int    // messages per ingest call (default 1,000)
	Clients int    // ingest calls under way at once (default 1)
	Dir     string // where the two databases go (default a temporary directory, removed after)
	Queries int    // filtered queries for the p95 (default 200)
	Log     io.Writer
}

// Result is what a run measured.
type Result struct {
	N                            int
	Batch                        int
	IngestSeconds                float64
	IngestRate                   float64 // messages/s, classification included
	BaselineSeconds              float64
	BaselineRate                 float64 // messages/s, plain batched INSERT
	Ratio                        float64 // IngestRate / BaselineRate
	IngestCPU, BaselineCPU       float64 // CPU seconds (user+system) the process spent in each run
	Leads                        int
	PeakRSSMB                    float64       // VmHWM of the process after the ingest run
	QueryP50, QueryP95, QueryMax time.Duration // exact totals (the API's default)
	PageP50, PageP95, PageMax    time.Duration // totals capped at 10,000 (the inbox page)
	Queries                      int
}

func (r Result) String() string {
	return fmt.Sprintf("ingest: %d messages in batches of %d: %.2f s, %.0f msg/s (classification included)\n"+
		"baseline (plain batched INSERT of the same rows, classified beforehand, same schema): %.2f s, %.0f msg/s\n"+
		"ratio ingest/baseline: %.2f×; leads: %d; peak RSS after ingest: %.0f MB; CPU s ingest %.1f, baseline %.1f\n"+
		"filtered message query over %d stored (%d queries), exact total: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n"+
		"same queries, total capped at 10,000 (inbox page): p50 %.1f ms, p95 %.1f ms, max %.1f ms\n",
		r.N, r.Batch, r.IngestSeconds, r.IngestRate, r.BaselineSeconds, r.BaselineRate, r.Ratio, r.Leads, r.PeakRSSMB, r.IngestCPU, r.BaselineCPU,
		r.N, r.Queries, ms(r.QueryP50), ms(r.QueryP95), ms(r.QueryMax), ms(r.PageP50), ms(r.PageP95), ms(r.PageMax))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Run runs the benchmark.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.N <= 0 {
		o.N = 100000
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Queries <= 0 {
		o.Queries = 200
	}
	if o.Clients <= 0 {
		o.Clients = 1
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "vernetzen-bench-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(d)
		o.Dir = d
	}
	res := Result{N: o.N, Batch: o.Batch}

	// The ingest run.
	st, channels, err := OpenOrg(ctx, filepath.Join(o.Dir, "ingest"))
	if err != nil {
		return res, err
	}
	defer st.Close()
	if err := setCache(ctx, st, o.CacheMB, o.Pragmas); err != nil {
		return res, err
	}
	gen := NewGenerator(channels)
	svc := inbox.NewService(inbox.Config{Store: st, Classifier: classify.New(classify.DefaultCatalogue())})
	sys := access.SystemPrincipal()
	runtime.GC()
	fmt.Fprintf(o.Log, "ingesting %d messages…\n", o.N)
	start, cpu0 := time.Now(), CPUSeconds()
	// Clients callers send batches at once, as several connectors or API
	// clients would; each takes the next batch.
	var next atomic.Int64
	errc := make(chan error, o.Clients)
	for c := 0; c < o.Clients; c++ {
		go func() {
			var input []inbox.MessageInput
			for {
				i := int(next.Add(int64(o.Batch))) - o.Batch
				if i >= o.N {
					errc <- nil
					return
				}
				input = gen.Batch(i, min(o.Batch, o.N-i), input)
				r, err := svc.Ingest(ctx, sys, input)
				if err == nil && r.Accepted != len(input) {
					err = fmt.Errorf("%+v, want %d accepted", r, len(input))
				}
				if err != nil {
					errc <- fmt.Errorf("ingest batch at %d: %w", i, err)
					return
				}
			}
		}()
	}
	for c := 0; c < o.Clients; c++ {
		if err := <-errc; err != nil {
			return res, err
		}
	}
	res.IngestSeconds = time.Since(start).Seconds()
	res.IngestRate = float64(o.N) / res.IngestSeconds
	res.IngestCPU = CPUSeconds() - cpu0
	res.PeakRSSMB = peakRSSMB()
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM leads`).Scan(&res.Leads); err != nil {
		return res, err
	}

	// Filtered queries over what was stored.
	if err := timeQueries(ctx, svc, o, &res); err != nil {
		return res, err
	}

	// The baseline: the same rows, a plain multi-row INSERT per batch.
	base, _, err := OpenOrg(ctx, filepath.Join(o.Dir, "baseline"))
	if err != nil {
		return res, err
	}
	defer base.Close()
	if err := setCache(ctx, base, o.CacheMB, o.Pragmas); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "baseline insert of %d rows…\n", o.N)
	spent, cpu, err := PlainInsert(ctx, base, gen, o.N, o.Batch)
	res.BaselineCPU = cpu
	if err != nil {
		return res, err
	}
	res.BaselineSeconds = spent.Seconds()
	res.BaselineRate = float64(o.N) / res.BaselineSeconds
	res.Ratio = res.IngestRate / res.BaselineRate
	return res, nil
}

func setCache(ctx context.Context, st *store.Store, mb int, pragmas []string) error {
	for _, p := range pragmas {
		if _, err := st.DB().ExecContext(ctx, "PRAGMA "+p); err != nil {
			return fmt.Errorf("PRAGMA %s: %w", p, err)
		}
	}
	if mb <= 0 {
		return nil
	}
	_, err := st.DB().ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", mb*1024))
	return err
}

// OpenOrg opens a fresh SQLite store with the demo organisation and
// returns its channel ids.
func OpenOrg(ctx context.Context, dir string) (*store.Store, []int64, error) {
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		return nil, nil, err
	}
	if err := st.SyncPlatforms(ctx, org.Platforms); err != nil {
		st.Close()
		return nil, nil, err
	}
	osvc := org.NewService(st, st.OrgTx)
	if _, err := demo.Load(ctx, osvc); err != nil {
		st.Close()
		return nil, nil, err
	}
	chs, _, err := osvc.Channels(ctx, access.SystemPrincipal(), org.ChannelFilter{Limit: 1000})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	ids := make([]int64, len(chs))
	for i, c := range chs {
		ids[i] = c.ID
	}
	return st, ids, nil
}

// Generator makes the benchmark's messages from the labelled development
// set's texts, spread over the channels, from 20,000 authors: message i
// is the same in every call, so that the baseline writes the same rows,
// and a batch at a time lives in memory.
type Generator struct {
	texts    []string
	channels []int64
	t0       time.Time
}

// NewGenerator makes messages for these channels.
func NewGenerator(channels []int64) *Generator {
	recs := classify.DevSet()
	texts := make([]string, len(recs))
	for i, r := range recs {
		texts[i] = r.Text
	}
	return &Generator{texts: texts, channels: channels, t0: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
}

// Batch makes messages start … start+n-1 into out (reused).
func (g *Generator) Batch(start, n int, out []inbox.MessageInput) []inbox.MessageInput {
	out = out[:0]
	for i := start; i < start+n; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), 2))
		a := strconv.Itoa(rng.IntN(20000))
		out = append(out, inbox.MessageInput{
			Channel:    g.channels[rng.IntN(len(g.channels))],
			ExternalID: "b" + strconv.Itoa(i),
			Kind:       inbox.Kinds[rng.IntN(len(inbox.Kinds))],
			Author:     inbox.AuthorInput{ExternalID: "a" + a, Name: "Author " + a, Handle: "author" + a},
			Text:       g.texts[rng.IntN(len(g.texts))],
			CreatedAt:  g.t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
		})
	}
	return out
}

// PlainInsert writes the same rows, classified and routed beforehand
// (untimed), with multi-row INSERTs of 400 and one transaction per batch:
// what storing costs without the inbox's pipeline (validation, dedupe,
// classification, routing, RETURNING, leads). It returns the time spent
// writing and the CPU seconds that took.
func PlainInsert(ctx context.Context, st *store.Store, gen *Generator, n, batch int) (time.Duration, float64, error) {
	svc := inbox.NewService(inbox.Config{Store: st})
	db := st.DB()
	const chunk = 400
	const cols = 21
	q := func(n int) string {
		var b strings.Builder
		b.WriteString(`INSERT INTO messages (channel_id, external_id, kind, author_external_id, author_name, author_handle, text, url,
			in_reply_to, thread_id, created_at, received_at, unit_id, intent, lang, models, score, status, conversation, queue,
			updated_at) VALUES `)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := 0; j < cols; j++ {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('?') // positional: SQLite resolves $n by name, in quadratic time
			}
			b.WriteByte(')')
		}
		b.WriteString(` ON CONFLICT (channel_id, external_id) DO NOTHING`)
		return b.String()
	}
	full := q(chunk)
	stmt, err := db.PrepareContext(ctx, full)
	if err != nil {
		return 0, 0, err
	}
	defer stmt.Close()
	now := time.Now().UnixMilli()
	args := make([]any, 0, chunk*cols)
	var spent time.Duration
	var cpu float64
	msgs := make([]inbox.Message, 0, batch)
	var part []inbox.MessageInput
	for i := 0; i < n; i += batch {
		part = gen.Batch(i, min(batch, n-i), part)
		msgs = msgs[:0]
		for _, m := range part {
			created, _ := time.Parse(time.RFC3339, m.CreatedAt)
			msgs = append(msgs, inbox.Message{ChannelID: m.Channel, ExternalID: m.ExternalID, Kind: m.Kind,
				AuthorExternalID: m.Author.ExternalID, AuthorName: m.Author.Name, AuthorHandle: m.Author.Handle, Text: m.Text,
				CreatedAt: created})
		}
		if err := svc.Prepare(ctx, msgs); err != nil {
			return 0, 0, err
		}
		start, cpu0 := time.Now(), CPUSeconds()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, 0, err
		}
		for c := 0; c < len(msgs); c += chunk {
			rows := msgs[c:min(c+chunk, len(msgs))]
			args = args[:0]
			for _, m := range rows {
				args = append(args, m.ChannelID, m.ExternalID, m.Kind, m.AuthorExternalID, m.AuthorName, m.AuthorHandle, m.Text,
					m.URL, m.InReplyTo, m.ThreadID, m.CreatedAt.UnixMilli(), now, m.UnitID, m.Intent, m.Lang,
					strings.Join(m.Models, "|"), m.Score, m.Status, m.Conversation, m.Queue, now)
			}
			if len(rows) == chunk {
				_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, q(len(rows)), args...)
			}
			if err != nil {
				tx.Rollback()
				return 0, 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, 0, err
		}
		spent += time.Since(start)
		cpu += CPUSeconds() - cpu0
	}
	return spent, cpu, nil
}

// Filters are the message-list filters the benchmark times, as the inbox
// page and API clients ask for them: dense and sparse, by unit subtree,
// triage fields and full text.
var Filters = []inbox.Filter{
	{Status: "open", Intent: "purchase"},
	{Unit: "bmw-de", Status: "open"},
	{Unit: "bmw", Intent: "support", Lang: "de"},
	{Unit: "mini", Lang: "en"},
	{Intent: "complaint", Status: "open", Lang: "fr"},
	{Text: "leasing"},
	{Unit: "bmw-hamburg-hafen"},
	{Status: "open"},
	{Unit: "group", Intent: "question", Offset: 200},
	{Text: "probefahrt", Unit: "bmw-de"},
}

// timeQueries times filtered message lists as the inbox page asks for them.
func timeQueries(ctx context.Context, svc *inbox.Service, o Options, res *Result) error {
	filters := Filters
	// A scoped caller: a sales user of the German market.
	scoped := &access.Principal{User: access.User{ID: 1, Email: "bench"}}
	var times, pageTimes []time.Duration
	for i := 0; i < 2*o.Queries; i++ {
		f := filters[i%len(filters)]
		f.Limit = 50
		page := i >= o.Queries // the inbox page caps its count
		if page {
			f.CountLimit = 10000
		}
		p := access.SystemPrincipal()
		if i%3 == 2 {
			p = scoped
			p.Grants = []access.Grant{{UnitPath: unitPath(ctx, svc, "bmw-de"), Role: access.RoleAgent}}
		}
		start := time.Now()
		_, total, err := svc.List(ctx, p, f)
		if err != nil {
			return fmt.Errorf("query %+v: %w", f, err)
		}
		d := time.Since(start)
		if page {
			pageTimes = append(pageTimes, d)
		} else {
			times = append(times, d)
		}
		if i < 2*len(filters) {
			fmt.Fprintf(o.Log, "query %+v scoped=%v: %d total, %.1f ms\n", f, p != nil && !p.System, total, ms(d))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	sort.Slice(pageTimes, func(i, j int) bool { return pageTimes[i] < pageTimes[j] })
	res.Queries = len(times)
	res.QueryP50 = times[len(times)/2]
	res.QueryP95 = times[(len(times)*95)/100]
	res.QueryMax = times[len(times)-1]
	res.PageP50 = pageTimes[len(pageTimes)/2]
	res.PageP95 = pageTimes[(len(pageTimes)*95)/100]
	res.PageMax = pageTimes[len(pageTimes)-1]
	return nil
}

var pathCache = map[string]string{}

// unitPath finds a unit's path by listing one of its messages' unit; the
// bench resolves it once through a unit-filtered query's store.
func unitPath(ctx context.Context, svc *inbox.Service, key string) string {
	if p, ok := pathCache[key]; ok {
		return p
	}
	p, _ := svc.UnitPath(ctx, key)
	pathCache[key] = p
	return p
}

// CPUSeconds is the user and system CPU time the process has used.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMB is the process's peak resident set (VmHWM), in MB.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// QueryOnly times the filtered queries over the ingest database a
// previous Run left in dir (Options.Dir), without ingesting again.
func QueryOnly(ctx context.Context, dir string, queries int, log io.Writer) (Result, error) {
	st, err := store.Open(ctx, "", filepath.Join(dir, "ingest"))
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	var res Result
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM messages`).Scan(&res.N); err != nil {
		return res, err
	}
	if queries <= 0 {
		queries = 200
	}
	if log == nil {
		log = io.Discard
	}
	svc := inbox.NewService(inbox.Config{Store: st})
	err = timeQueries(ctx, svc, Options{Queries: queries, Log: log}, &res)
	return res, err
}
