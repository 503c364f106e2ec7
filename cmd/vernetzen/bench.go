package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics/analyticsbench"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/mastodon"
	"github.com/vernetzen/vernetzen/internal/connector/mastodon/mastodontest"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// cmdBench runs the benchmarks that need whole processes or big data:
//
//	vernetzen bench publish [--channels N] [--kill]
//	vernetzen bench ingest [--messages N] [--batch N] [--clients N] [--in-process]
//
// ingest pushes N messages through the ingest API of a child `vernetzen
// serve` into SQLite against a plain batched insert of the same rows,
// then times the message list and the inbox page over what was stored
// (see bench_ingest.go).
//
// publishes one post to N channels on a local Mastodon-like instance that
// answers 429 and 503 now and then, through a real `vernetzen serve`
// child process, optionally killed with SIGKILL midway and restarted. It
// checks that every channel got the post exactly once and reports the
// delay from the scheduled time to publication beyond what the
// instance's rate limits forced, against a baseline measured in the same
// run: the same posts sent straight through the Mastodon connector.
func cmdBench(ctx context.Context, fs *flag.FlagSet, rest []string, stdout io.Writer) error {
	const usage = "usage: vernetzen bench publish [--channels N] [--kill] | vernetzen bench ingest [--messages N] | vernetzen bench analytics [--channels N]"
	if len(rest) == 0 {
		return errs.E(errs.Invalid, usage)
	}
	switch rest[0] {
	case "publish":
	case "ingest":
		return benchIngest(ctx, fs, rest[1:], stdout)
	case "analytics":
		return benchAnalytics(ctx, fs, rest[1:], stdout)
	default:
		return errs.E(errs.Invalid, usage)
	}
	channels := fs.Int("channels", 5000, "how many channels the post goes to")
	kill := fs.Bool("kill", false, "SIGKILL the hub midway and restart it")
	rateLimited := fs.Float64("p429", 0.01, "probability of a 429 per status post")
	unavailable := fs.Float64("p503", 0.02, "probability of a 503 per status post")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after")
	profile := fs.String("profile", "", "write the hub's CPU profile to this file")
	keep := fs.Bool("keep", false, "keep the hub's data directory and log")
	if err := fs.Parse(rest[1:]); err != nil {
		return err
	}
	b := &publishBench{n: *channels, kill: *kill, out: stdout, profile: *profile, keep: *keep}
	return b.run(ctx, mastodontest.Config{RateLimited: *rateLimited, Unavailable: *unavailable, RateLimitReset: 2 * time.Second, Seed: 1}, *timeout)
}

type publishBench struct {
	n       int
	kill    bool
	profile string
	keep    bool
	// profiling is set once setup is done, so that the profile shows the
	// post's delivery alone.
	profiling bool
	out       io.Writer
	dir       string
	env       []string
	addr      string
	token     string
	child     *exec.Cmd
	fake      *mastodontest.Server
}

func (b *publishBench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func (b *publishBench) run(ctx context.Context, cfg mastodontest.Config, timeout time.Duration) (err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if b.dir, err = os.MkdirTemp("", "vernetzen-bench-"); err != nil {
		return err
	}
	defer func() {
		if err != nil || b.keep {
			b.logf("kept %s (the hub's data and serve.log) for a look", b.dir)
			return
		}
		os.RemoveAll(b.dir)
	}()
	b.fake = mastodontest.New(cfg)
	defer b.fake.Close()
	ca := filepath.Join(b.dir, "instance.pem")
	if err := os.WriteFile(ca, b.fake.CertificatePEM(), 0o600); err != nil {
		return err
	}
	key := secret.EncodeKey(secret.GenerateKey())
	b.addr, err = freeAddr()
	if err != nil {
		return err
	}
	// The child trusts the instance's certificate through SSL_CERT_FILE,
	// as Go does on Linux; nothing in the hub knows it is benchmarked.
	b.env = append(os.Environ(), "SSL_CERT_FILE="+ca, "VERNETZEN_SECRET_KEY="+key, "VERNETZEN_DATA="+filepath.Join(b.dir, "data"),
		"VERNETZEN_ADDR="+b.addr, "VERNETZEN_DB=")

	baseline, err := b.baseline(ctx, cfg)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if err := b.setup(ctx); err != nil {
		return err
	}
	defer b.stop()
	if b.profile != "" {
		b.stop()
		b.profiling = true
		if err := b.start(ctx); err != nil {
			return err
		}
	}
	return b.publish(ctx, baseline)
}

// baseline posts to every account straight through the connector, with
// the same fault rates and 64 at a time, and no hub; its delay beyond
// forced waits is measured as the hub's is.
func (b *publishBench) baseline(ctx context.Context, cfg mastodontest.Config) (benchDelays, error) {
	fake := mastodontest.New(cfg)
	defer fake.Close()
	c := mastodon.New(connector.Options{HTTP: fake.Client(), Limiter: connector.NewLimiter()})
	start := time.Now()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := 0; i < b.n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			acct := &connector.Account{ChannelID: strconv.Itoa(i), BaseURL: fake.URL(), ExternalID: strconv.Itoa(i),
				Credentials: connector.Credentials{AccessToken: secret.Secret("tok-" + strconv.Itoa(i))}}
			req := connector.PublishRequest{IdempotencyKey: "b-" + strconv.Itoa(i), Variant: connector.Variant{Text: "baseline"}}
			for ctx.Err() == nil {
				_, err := c.Publish(ctx, acct, req)
				switch connector.KindOf(err) {
				case connector.KindRateLimited:
					time.Sleep(time.Until(connector.RetryAt(err)))
					continue
				case connector.KindTransient, connector.KindUnknown:
					continue
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
				return
			}
		}(i)
	}
	wg.Wait()
	d := delaysBeyondForcedWaits(fake, start)
	b.logf("baseline (the connector alone, 64 at a time): %d posts in %v; delay beyond forced waits %s", b.n, time.Since(start).Round(time.Millisecond), d)
	return d, firstErr
}

// benchDelays are percentiles of the delay from the due time to the
// status's creation, beyond any wait a 429 forced on it.
type benchDelays struct{ p50, p95, p99, max time.Duration }

func (d benchDelays) String() string {
	r := func(v time.Duration) time.Duration { return v.Round(time.Millisecond) }
	return fmt.Sprintf("p50 %v, p95 %v, p99 %v, max %v", r(d.p50), r(d.p95), r(d.p99), r(d.max))
}

func delaysBeyondForcedWaits(fake *mastodontest.Server, due time.Time) benchDelays {
	var ex []time.Duration
	for _, st := range fake.Statuses() {
		start := due
		if until := fake.LimitedUntil(st.AccountID, st.Key); until.After(start) {
			start = until
		}
		ex = append(ex, st.CreatedAt.Sub(start))
	}
	sort.Slice(ex, func(i, j int) bool { return ex[i] < ex[j] })
	pct := func(p float64) time.Duration {
		if len(ex) == 0 {
			return 0
		}
		return ex[min(len(ex)-1, int(p*float64(len(ex))))]
	}
	return benchDelays{pct(0.50), pct(0.95), pct(0.99), pct(1)}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// vz runs a vernetzen command in a child process.
func (b *publishBench) vz(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = b.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("vernetzen %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

func (b *publishBench) setup(ctx context.Context) error {
	var m strings.Builder
	m.WriteString("units:\n  - {key: bench, name: Benchmark, kind: group}\nchannels:\n")
	for i := 0; i < b.n; i++ {
		fmt.Fprintf(&m, "  - {unit: bench, platform: mastodon, url: \"%s/@user%d\"}\n", b.fake.URL(), i)
	}
	file := filepath.Join(b.dir, "map.yaml")
	if err := os.WriteFile(file, []byte(m.String()), 0o600); err != nil {
		return err
	}
	start := time.Now()
	if _, err := b.vz(ctx, "", "import", file); err != nil {
		return err
	}
	if _, err := b.vz(ctx, "bench-password-123\n", "user", "add", "--email", "bench@example.com", "--unit", "bench", "--role", "admin"); err != nil {
		return err
	}
	tok, err := b.vz(ctx, "", "token", "create", "--user", "bench@example.com")
	if err != nil {
		return err
	}
	b.token = strings.TrimSpace(tok)
	if err := b.start(ctx); err != nil {
		return err
	}
	ids, err := b.channels(ctx)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, 8)
	errc := make(chan error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"instance_url": %q, "access_token": "tok-%d"}`, b.fake.URL(), i)
			var st map[string]any
			if code, err := b.api(ctx, "PUT", fmt.Sprintf("/api/v1/channels/%d/credentials", id), body, &st); err != nil || code != 200 {
				errc <- fmt.Errorf("connect channel %d: %d %v %v", id, code, err, st)
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	b.logf("setup: %d channels imported and connected in %v", len(ids), time.Since(start).Round(time.Millisecond))
	// Connecting starts each channel's first inbound poll and audience
	// reading; let them pass, so that the post competes with nothing.
	for last := -1; ; {
		n, _ := b.fake.Counts()
		if n == last {
			break
		}
		last = n
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

// channels lists the bench channels' ids; channel i is account user i.
func (b *publishBench) channels(ctx context.Context) ([]int64, error) {
	ids := make([]int64, b.n)
	for off := 0; off < b.n; off += 1000 {
		var page struct {
			Items []struct {
				ID     int64  `json:"id"`
				Handle string `json:"handle"`
			} `json:"items"`
		}
		if code, err := b.api(ctx, "GET", fmt.Sprintf("/api/v1/channels?unit=bench&limit=1000&offset=%d", off), "", &page); err != nil || code != 200 {
			return nil, fmt.Errorf("list channels: %d %v", code, err)
		}
		for _, c := range page.Items {
			user, _, _ := strings.Cut(c.Handle, "@")
			i, err := strconv.Atoi(strings.TrimPrefix(user, "user"))
			if err != nil || i >= b.n {
				return nil, fmt.Errorf("unexpected channel handle %q", c.Handle)
			}
			ids[i] = c.ID
		}
	}
	return ids, nil
}

func (b *publishBench) start(ctx context.Context) error {
	b.child = exec.Command(os.Args[0], "serve", "--poll-interval", "1h", "--log-format", "json")
	b.child.Env = b.env
	if b.profiling {
		b.child.Env = append(b.child.Env, "VERNETZEN_CPU_PROFILE="+b.profile)
	}
	logf, err := os.OpenFile(filepath.Join(b.dir, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	b.child.Stdout, b.child.Stderr = logf, logf
	if err := b.child.Start(); err != nil {
		return err
	}
	for {
		if resp, err := http.Get("http://" + b.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (b *publishBench) stop() {
	if b.child != nil && b.child.Process != nil {
		b.child.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { b.child.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			b.child.Process.Kill()
		}
	}
}

func (b *publishBench) api(ctx context.Context, method, path, body string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+b.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, nil
}

type benchDelivery struct {
	Status      string     `json:"status"`
	PublishedAt *time.Time `json:"published_at"`
	Error       string     `json:"error"`
}

func (b *publishBench) publish(ctx context.Context, baseline benchDelays) error {
	scheduled := time.Now().Add(5 * time.Second).UTC().Truncate(time.Second)
	text := fmt.Sprintf("Benchmark post %d", time.Now().UnixNano())
	var created struct {
		ID json.Number `json:"id"`
	}
	body := fmt.Sprintf(`{"text": %q, "units": ["bench"], "scheduled_at": %q}`, text, scheduled.Format(time.RFC3339))
	if code, err := b.api(ctx, "POST", "/api/v1/posts", body, &created); err != nil || code != 201 {
		return fmt.Errorf("create post: %d %v", code, err)
	}
	b.logf("post %s scheduled at %s for %d channels", created.ID, scheduled.Format("15:04:05"), b.n)
	killed := !b.kill
	// Progress is read from the post list, which carries counts only:
	// reading the post with its thousands of deliveries at this pace
	// would load the hub it measures. The deliveries are read once, at
	// the end.
	var counts map[string]int
	for {
		var list struct {
			Items []struct {
				ID     json.Number    `json:"id"`
				Counts map[string]int `json:"counts"`
			} `json:"items"`
		}
		code, err := b.api(ctx, "GET", "/api/v1/posts?limit=1", "", &list)
		if err != nil && !killed {
			return err
		}
		if err == nil && code == 200 && len(list.Items) == 1 && list.Items[0].ID == created.ID {
			counts = list.Items[0].Counts
			published := counts["published"]
			if !killed && published >= b.n/3 {
				b.logf("SIGKILL with %d of %d published", published, b.n)
				b.child.Process.Signal(syscall.SIGKILL)
				b.child.Wait()
				killed = true
				if err := b.start(ctx); err != nil {
					return fmt.Errorf("restart: %w", err)
				}
				b.logf("restarted")
				continue
			}
			if published+counts["failed"] == b.n {
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out with deliveries %v", counts)
		case <-time.After(100 * time.Millisecond):
		}
	}
	var post struct {
		Deliveries []benchDelivery `json:"deliveries"`
	}
	if code, err := b.api(ctx, "GET", "/api/v1/posts/"+created.ID.String(), "", &post); err != nil || code != 200 {
		return fmt.Errorf("read post: %d %v", code, err)
	}
	deliveries := post.Deliveries
	return b.report(scheduled, deliveries, baseline)
}

func (b *publishBench) report(scheduled time.Time, ds []benchDelivery, baseline benchDelays) error {
	perAccount := b.fake.PerAccount()
	lost, dup := 0, 0
	for i := 0; i < b.n; i++ {
		switch n := perAccount[strconv.Itoa(i)]; {
		case n == 0:
			lost++
		case n > 1:
			dup++
		}
	}
	// The delay of each status beyond the wait a 429 forced on it: the
	// instance records when it created the status and until when it told
	// that delivery to wait.
	hub := delaysBeyondForcedWaits(b.fake, scheduled)
	var last time.Time
	failed := 0
	for _, d := range ds {
		if d.Status != "published" || d.PublishedAt == nil {
			failed++
			continue
		}
		if d.PublishedAt.After(last) {
			last = *d.PublishedAt
		}
	}
	requests, faults := b.fake.Counts()
	b.logf("result: %d channels, %d published, %d failed, %d lost, %d duplicated (kill=%v)", b.n, b.n-failed, failed, lost, dup, b.kill)
	b.logf("instance: %d requests, %d injected 429/503", requests, faults)
	b.logf("hub delay beyond forced waits: %s (baseline %s)", hub, baseline)
	if !last.IsZero() {
		b.logf("hub: last delivery published %v after the scheduled time", last.Sub(scheduled).Round(time.Millisecond))
	}
	if lost > 0 || dup > 0 || len(b.fake.Duplicates()) > 0 {
		return errors.New("exactly-once violated")
	}
	return nil
}

func benchAnalytics(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	channels := fs.Int("channels", 10000, "channels")
	days := fs.Int("days", 730, "days of daily audience per channel")
	metrics := fs.Int("post-metrics", 1000000, "post-metric rows")
	queries := fs.Int("queries", 50, "timed queries per figure")
	dsn := fs.String("pg", "", "run on this PostgreSQL instead of SQLite")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := analyticsbench.Run(ctx, analyticsbench.Options{Channels: *channels, Days: *days, PostMetrics: *metrics, Queries: *queries,
		DSN: *dsn, Log: os.Stderr})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res)
	return nil
}
