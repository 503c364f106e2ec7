package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/inbox/inboxbench"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// benchIngest measures the ingest API: N messages POSTed in batches to a
// `vernetzen serve` child process (HTTP, JSON, validation, dedupe,
// classification, routing, the SQLite write, leads), by several clients
// at once, against a plain batched INSERT of the same rows into a fresh
// database of the same schema in the same run; the server's peak RSS;
// then the p95 of the message list API and of the inbox page, over HTTP,
// with N messages stored. --in-process calls the inbox service directly
// instead (no HTTP, no JSON).
func benchIngest(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	n := fs.Int("messages", 100000, "messages to ingest")
	batch := fs.Int("batch", 1000, "messages per ingest call (POST /api/v1/messages)")
	clients := fs.Int("clients", 4, "ingest calls under way at once")
	queries := fs.Int("queries", 200, "timed queries of each kind for the p95")
	inProcess := fs.Bool("in-process", false, "call the inbox service in this process instead of the HTTP API of a child process")
	keep := fs.String("dir", "", "keep the databases in this directory (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *batch < 1 || *batch > inbox.MaxBatch {
		return fmt.Errorf("--batch must be 1…%d", inbox.MaxBatch)
	}
	if *inProcess {
		res, err := inboxbench.Run(ctx, inboxbench.Options{N: *n, Batch: *batch, Clients: *clients, Queries: *queries, Dir: *keep, Log: os.Stderr})
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, res)
		return nil
	}
	b := &ingestBench{n: *n, batch: *batch, clients: *clients, queries: *queries, out: stdout}
	b.hub.out = os.Stderr
	return b.run(ctx, *keep)
}

type ingestBench struct {
	n, batch, clients, queries int
	out                        io.Writer
	// hub runs the child process (the publish bench's helpers).
	hub         publishBench
	agentToken  string
	channels    []int64
	ingestRSSMB float64
}

func (b *ingestBench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func (b *ingestBench) run(ctx context.Context, keep string) error {
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "vernetzen-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	b.hub.dir = dir

	// The baseline first: the same rows, classified and routed
	// beforehand (untimed), written by plain multi-row INSERTs in one
	// transaction per batch, on one connection, no HTTP.
	base, baseChannels, err := inboxbench.OpenOrg(ctx, filepath.Join(dir, "baseline"))
	if err != nil {
		return err
	}
	b.logf("baseline: plain batched INSERT of %d rows…", b.n)
	spent, baseCPU, err := inboxbench.PlainInsert(ctx, base, inboxbench.NewGenerator(baseChannels), b.n, b.batch)
	base.Close()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	baseRate := float64(b.n) / spent.Seconds()
	b.logf("baseline: %.1f s, %.0f msg/s, %.1f CPU s", spent.Seconds(), baseRate, baseCPU)
	if keep == "" {
		os.RemoveAll(filepath.Join(dir, "baseline"))
	}

	// The hub: a fresh data directory with the same organisation.
	data := filepath.Join(dir, "data")
	st, channels, err := inboxbench.OpenOrg(ctx, data)
	if err != nil {
		return err
	}
	st.Close()
	if !slices.Equal(channels, baseChannels) {
		return fmt.Errorf("the baseline's channels %v differ from the hub's %v", baseChannels, channels)
	}
	b.channels = channels
	if b.hub.addr, err = freeAddr(); err != nil {
		return err
	}
	b.hub.env = append(os.Environ(), "VERNETZEN_SECRET_KEY="+secret.EncodeKey(secret.GenerateKey()), "VERNETZEN_DATA="+data,
		"VERNETZEN_ADDR="+b.hub.addr, "VERNETZEN_DB=")
	if b.hub.token, err = b.user(ctx, "bench@example.com", "group", "admin"); err != nil {
		return err
	}
	// A scoped caller for every third query: an agent of the German market.
	if b.agentToken, err = b.user(ctx, "agent@example.com", "bmw-de", "agent"); err != nil {
		return err
	}
	if err := b.hub.start(ctx); err != nil {
		return err
	}
	defer b.hub.stop()

	cpu0 := processCPUSeconds(b.hub.child.Process.Pid)
	ing, err := b.ingest(ctx)
	if err != nil {
		return fmt.Errorf("%w\nthe hub's log says:\n%s", err, b.hubErrors())
	}
	ing.cpu = processCPUSeconds(b.hub.child.Process.Pid) - cpu0
	b.ingestRSSMB = peakRSSMB(b.hub.child.Process.Pid)
	list, err := b.timeQueries(ctx, "/api/v1/messages")
	if err != nil {
		return err
	}
	exact, err := b.timeQueries(ctx, "/api/v1/messages?count_limit=0")
	if err != nil {
		return err
	}
	page, err := b.timeQueries(ctx, "/inbox")
	if err != nil {
		return err
	}
	rss := peakRSSMB(b.hub.child.Process.Pid)

	fmt.Fprintf(b.out, "ingest API: %d messages, POST /api/v1/messages in batches of %d, %d clients at once: %.1f s, %.0f msg/s "+
		"(HTTP, JSON, validation, dedupe, classification, routing, SQLite, leads); request p50 %.0f ms, p95 %.0f ms; hub CPU %.1f s\n",
		b.n, b.batch, b.clients, ing.seconds, float64(b.n)/ing.seconds, ms(ing.p50), ms(ing.p95), ing.cpu)
	fmt.Fprintf(b.out, "baseline (same run): plain batched INSERT of the same rows, %d per transaction, same schema: %.1f s, %.0f msg/s; CPU %.1f s\n",
		b.batch, spent.Seconds(), baseRate, baseCPU)
	fmt.Fprintf(b.out, "ratio ingest API/baseline: %.2f×; hub peak RSS: %.0f MB after ingest, %.0f MB after the queries\n",
		(float64(b.n)/ing.seconds)/baseRate, b.ingestRSSMB, rss)
	fmt.Fprintf(b.out, "with %d messages stored, %d requests each over %d filters (every third as a scoped agent):\n", b.n, b.queries, len(inboxbench.Filters))
	fmt.Fprintf(b.out, "  GET /api/v1/messages (total up to 10,000): %s\n", list)
	fmt.Fprintf(b.out, "  GET /api/v1/messages?count_limit=0 (exact total): %s\n", exact)
	fmt.Fprintf(b.out, "  GET /inbox (the page, \"10,000+\"): %s\n", page)
	return nil
}

// user creates a user with a role on a unit and returns an API token.
func (b *ingestBench) user(ctx context.Context, email, unit, role string) (string, error) {
	if _, err := b.hub.vz(ctx, "bench-password-123\n", "user", "add", "--email", email, "--unit", unit, "--role", role); err != nil {
		return "", err
	}
	tok, err := b.hub.vz(ctx, "", "token", "create", "--user", email)
	return strings.TrimSpace(tok), err
}

type ingestRun struct {
	seconds  float64
	cpu      float64 // the hub's CPU seconds
	p50, p95 time.Duration
}

// ingest POSTs the messages, clients requests at a time, and checks that
// each batch was accepted whole.
func (b *ingestBench) ingest(ctx context.Context) (ingestRun, error) {
	b.logf("ingest: %d messages in batches of %d, %d clients…", b.n, b.batch, b.clients)
	gen := inboxbench.NewGenerator(b.channels)
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	errc := make(chan error, b.clients)
	start := time.Now()
	for c := 0; c < b.clients; c++ {
		go func() {
			var part []inbox.MessageInput
			var body bytes.Buffer
			for {
				i := int(next.Add(int64(b.batch))) - b.batch
				if i >= b.n {
					errc <- nil
					return
				}
				part = gen.Batch(i, min(b.batch, b.n-i), part)
				body.Reset()
				if err := json.NewEncoder(&body).Encode(map[string]any{"messages": part}); err != nil {
					errc <- err
					return
				}
				t0 := time.Now()
				var res inbox.IngestResult
				code, err := b.post(ctx, "/api/v1/messages", body.Bytes(), &res)
				d := time.Since(t0)
				if err == nil && (code != http.StatusAccepted || res.Accepted != len(part)) {
					err = fmt.Errorf("status %d, %+v, want %d accepted", code, res, len(part))
				}
				if err != nil {
					errc <- fmt.Errorf("batch at %d: %w", i, err)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	for c := 0; c < b.clients; c++ {
		if err := <-errc; err != nil {
			return ingestRun{}, err
		}
	}
	r := ingestRun{seconds: time.Since(start).Seconds()}
	slices.Sort(lat)
	r.p50, r.p95 = lat[len(lat)/2], lat[len(lat)*95/100]
	b.logf("ingest: %.1f s, %.0f msg/s", r.seconds, float64(b.n)/r.seconds)
	return r, nil
}

func (b *ingestBench) post(ctx context.Context, path string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+b.hub.addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+b.hub.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("status %d: %.300s", resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, data)
	}
	return resp.StatusCode, nil
}

// hubErrors returns the hub's log lines above INFO (the last 20).
func (b *ingestBench) hubErrors() string {
	data, _ := os.ReadFile(filepath.Join(b.hub.dir, "serve.log"))
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.Contains(l, `"level":"INFO"`) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// latencies are a query's timings, sorted.
type latencies []time.Duration

func (l latencies) String() string {
	return fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, max %.1f ms", ms(l[len(l)/2]), ms(l[len(l)*95/100]), ms(l[len(l)-1]))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// timeQueries GETs path with each filter in turn, after one untimed round,
// and returns the sorted timings (request sent to body read).
func (b *ingestBench) timeQueries(ctx context.Context, path string) (latencies, error) {
	var out latencies
	byFilter := map[string][]time.Duration{}
	for i := -len(inboxbench.Filters); i < b.queries; i++ {
		f := inboxbench.Filters[(i+len(inboxbench.Filters))%len(inboxbench.Filters)]
		q := url.Values{}
		for k, v := range map[string]string{"unit": f.Unit, "intent": f.Intent, "lang": f.Lang, "status": f.Status, "q": f.Text} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if f.Status == "" && strings.HasPrefix(path, "/inbox") {
			q.Set("status", "all") // the page shows open messages unless told
		}
		if f.Offset > 0 {
			q.Set("offset", strconv.Itoa(f.Offset))
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+b.hub.addr+path+sep+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		token := b.hub.token
		if i%3 == 2 {
			token = b.agentToken
		}
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %.300s", req.URL, resp.StatusCode, body)
		}
		if i >= 0 {
			out = append(out, d)
			byFilter[fmt.Sprintf("%+v scoped=%v", q, token == b.agentToken)] = append(byFilter[fmt.Sprintf("%+v scoped=%v", q, token == b.agentToken)], d)
		}
	}
	slices.Sort(out)
	keys := make([]string, 0, len(byFilter))
	for k := range byFilter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		l := byFilter[k]
		slices.Sort(l)
		b.logf("%s %s: p50 %.1f ms, max %.1f ms (%d)", path, k, ms(l[len(l)/2]), ms(l[len(l)-1]), len(l))
	}
	return out, nil
}

// peakRSSMB is a process's peak resident set (VmHWM), in MB.
func peakRSSMB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// processCPUSeconds is the user and system CPU time a process has used
// (from /proc/PID/stat, in clock ticks of 1/100 s).
func processCPUSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}
