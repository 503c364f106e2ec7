package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// recorder remembers the requests the simulator received.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	next http.Handler
}

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), b})
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

func (r *recorder) last(method, path string) recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].Method == method && r.reqs[i].Path == path {
			return r.reqs[i]
		}
	}
	return recorded{}
}

type env struct {
	clk  *fakeClock
	srv  *Server
	rec  *recorder
	ts   *httptest.Server
	conn *Connector
	acct *connector.Account
	lim  *connector.Limiter
}

// newEnv mounts the simulator under /sim as the binary does and connects
// a channel to it through the connector.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	clk := &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	srv := NewServer(cfg)
	rec := &recorder{next: http.StripPrefix("/sim", srv)}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	lim := connector.NewLimiter()
	e := &env{clk: clk, srv: srv, rec: rec, ts: ts, lim: lim,
		conn: New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: lim})}
	e.acct = &connector.Account{ChannelID: "ch-sim-1", BaseURL: ts.URL + "/sim", Credentials: connector.Credentials{Identifier: "bmw_de"}}
	if _, err := e.conn.Connect(context.Background(), e.acct); err != nil {
		t.Fatal(err)
	}
	return e
}

func kindOf(t *testing.T, err error, want connector.Kind) *connector.Error {
	t.Helper()
	var e *connector.Error
	if !errors.As(err, &e) || e.Kind != want {
		t.Fatalf("error %v: want kind %s", err, want)
	}
	return e
}

func TestConnectPublishLookupDelete(t *testing.T) {
	e := newEnv(t, Config{})
	if e.acct.ExternalID == "" || e.acct.Handle != "@bmw_de" || e.acct.Credentials.AccessToken.IsZero() || e.acct.Credentials.RefreshToken.IsZero() {
		t.Fatalf("connect: %+v", e.acct)
	}
	req := connector.PublishRequest{IdempotencyKey: "del-1", Variant: connector.Variant{Text: "Hallo Welt",
		Media: []connector.Media{{Kind: connector.MediaImage, ContentType: "image/jpeg", AltText: "Ein Auto"}}}}
	p, err := e.conn.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.URL, e.ts.URL+"/sim/bmw_de/") || p.PublishedAt.IsZero() {
		t.Fatalf("%+v", p)
	}
	r := e.rec.last("POST", "/sim/api/posts")
	var body map[string]any
	json.Unmarshal(r.Body, &body)
	if r.Header.Get("Idempotency-Key") != "del-1" || r.Header.Get("Authorization") != "Bearer "+e.acct.Credentials.AccessToken.Reveal() ||
		body["text"] != "Hallo Welt" || body["visibility"] != "public" {
		t.Fatalf("request %v %v", r.Header, body)
	}
	// The public URL serves the post.
	resp, err := http.Get(p.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post page: %v %v", err, resp.Status)
	}
	resp.Body.Close()

	p2, err := e.conn.Publish(context.Background(), e.acct, req)
	if err != nil || p2.ID != p.ID {
		t.Fatalf("same key twice: %v %s %s", err, p2.ID, p.ID)
	}
	got, found, err := e.conn.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || got.ID != p.ID {
		t.Fatalf("lookup: %v %v %+v", err, found, got)
	}
	_, found, err = e.conn.Lookup(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "never"})
	if err != nil || found {
		t.Fatalf("lookup unknown: %v %v", err, found)
	}
	if err := e.conn.Delete(context.Background(), e.acct, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Delete(context.Background(), e.acct, p.ID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if ps := e.conn.Validate(connector.Variant{Text: strings.Repeat("x", 501)}); len(ps) != 1 || ps[0].Code != "too_long" {
		t.Fatalf("%+v", ps)
	}
}

func TestInboundAcrossRestartNothingTwiceNothingSkipped(t *testing.T) {
	texts := []string{"Ich will einen X1 kaufen", "Wann öffnet das Museum?"}
	e := newEnv(t, Config{Texts: texts, CommentsPerHour: 20, MentionsPerHour: 10, DMsPerHour: 5})
	post, err := e.conn.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "p1", Variant: connector.Variant{Text: "Neu!"}})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(3 * time.Hour)
	e.srv.Advance()
	total := len(e.srv.byHandle["bmw_de"].inbox)
	if total < inboxPage+1 {
		t.Fatalf("only %d events; the test needs more than one page", total)
	}

	seen := map[string]bool{}
	kinds := map[connector.InboundKind]int{}
	take := func(p connector.Page) {
		for _, it := range p.Items {
			if seen[it.ExternalID] {
				t.Fatalf("%s fetched twice", it.ExternalID)
			}
			seen[it.ExternalID] = true
			kinds[it.Kind]++
			if it.Kind == connector.KindComment && it.InReplyTo != post.ID {
				t.Errorf("comment in reply to %q, want %q", it.InReplyTo, post.ID)
			}
			if !strings.HasSuffix(it.Text, texts[0]) && !strings.HasSuffix(it.Text, texts[1]) {
				t.Errorf("text %q not from the given list", it.Text)
			}
			if it.Author.Handle == "" || it.CreatedAt.IsZero() {
				t.Errorf("item %+v", it)
			}
		}
	}
	page, err := e.conn.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if !page.More || len(page.Items) != inboxPage {
		t.Fatalf("first page: %d items more=%v", len(page.Items), page.More)
	}
	take(page)
	cursor := page.Cursor

	// More arrives while the hub restarts; a new connector continues.
	e.clk.Advance(30 * time.Minute)
	c2 := New(connector.Options{Now: e.clk.Now, Sleep: e.clk.Sleep})
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("paging does not end")
		}
		page, err := c2.FetchInbound(context.Background(), e.acct, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if q := e.rec.last("GET", "/sim/api/inbox").Query; !strings.Contains(q, "after="+cursor) {
			t.Fatalf("query %q does not continue from cursor %s", q, cursor)
		}
		take(page)
		cursor = page.Cursor
		if !page.More {
			break
		}
	}
	if want := len(e.srv.byHandle["bmw_de"].inbox); len(seen) != want {
		t.Fatalf("fetched %d of %d", len(seen), want)
	}
	for _, k := range []connector.InboundKind{connector.KindComment, connector.KindMention, connector.KindDM} {
		if kinds[k] == 0 {
			t.Errorf("no %s generated: %v", k, kinds)
		}
	}
}

func inboxJSON(t *testing.T, seed uint64) string {
	e := newEnv(t, Config{Seed: seed})
	e.conn.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "p", Variant: connector.Variant{Text: "x"}})
	e.clk.Advance(2 * time.Hour)
	page, err := e.conn.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.conn.FetchMetrics(context.Background(), e.acct, nil)
	b, _ := json.Marshal(struct {
		P connector.Page
		F int64
	}{page, m.Followers})
	return string(b)
}

func TestDeterministicGivenSeedAndClock(t *testing.T) {
	a, b := inboxJSON(t, 7), inboxJSON(t, 7)
	if a != b {
		t.Fatal("same seed and clock gave different networks")
	}
	if a == inboxJSON(t, 8) {
		t.Fatal("different seeds gave the same network")
	}
}

func TestAudienceAndReactionsGrow(t *testing.T) {
	e := newEnv(t, Config{})
	p, _ := e.conn.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "p", Variant: connector.Variant{Text: "x"}})
	m1, err := e.conn.FetchMetrics(context.Background(), e.acct, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(4 * time.Hour)
	m2, err := e.conn.FetchMetrics(context.Background(), e.acct, []string{p.ID, "p-gone"})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Followers <= m1.Followers || m2.Posts != 1 || len(m2.PostStats) != 1 {
		t.Fatalf("before %+v after %+v", m1, m2)
	}
	if s := m2.PostStats[0]; s.Likes == 0 || s.Replies == 0 {
		t.Fatalf("no reactions after 4 hours: %+v", s)
	}
}

func TestExpiredTokenRefreshesOnceAndRotates(t *testing.T) {
	e := newEnv(t, Config{})
	oldRefresh := e.acct.Credentials.RefreshToken
	var saved []connector.Credentials
	e.acct.SaveCredentials = func(ctx context.Context, c connector.Credentials) error { saved = append(saved, c); return nil }
	e.acct.Credentials.ExpiresAt = time.Time{} // the hub lost the expiry: the 401 path must cope
	e.clk.Advance(2 * time.Hour)
	if _, err := e.conn.FetchMetrics(context.Background(), e.acct, nil); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || saved[0].RefreshToken == oldRefresh || saved[0].RefreshToken.IsZero() {
		t.Fatalf("saved %d credentials; rotated refresh token must be saved", len(saved))
	}
	if r := e.rec.last("POST", "/sim/api/oauth/token"); !strings.Contains(string(r.Body), "grant_type=refresh_token") || r.Header.Get("Authorization") != "" {
		t.Fatalf("refresh request %q %v", r.Body, r.Header)
	}
	// Proactive: with a known expiry the refresh happens before the call.
	e.clk.Advance(2 * time.Hour)
	before := e.srv.Requests()
	if _, err := e.conn.FetchMetrics(context.Background(), e.acct, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Requests() - before; n != 2 || len(saved) != 2 {
		t.Fatalf("%d requests (want refresh + call), %d saves", n, len(saved))
	}
}

func TestRevokedRefreshNeedsReconnect(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.RevokeTokens("bmw_de")
	_, err := e.conn.FetchInbound(context.Background(), e.acct, "0")
	ce := kindOf(t, err, connector.KindReconnectNeeded)
	if ce.Code != "invalid_grant" {
		t.Fatalf("%+v", ce)
	}
}

func TestInjectedRateLimitIsHonoured(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetFaults(Faults{RateLimited: 1})
	_, err := e.conn.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	ce := kindOf(t, err, connector.KindRateLimited)
	if want := e.clk.Now().Add(30 * time.Second); !ce.RetryAt.Equal(want) {
		t.Fatalf("RetryAt %v, want %v", ce.RetryAt, want)
	}
	before := e.srv.Requests()
	for range 5 {
		_, err = e.conn.FetchInbound(context.Background(), e.acct, "0")
		kindOf(t, err, connector.KindRateLimited)
	}
	if e.srv.Requests() != before {
		t.Fatal("requests reached the simulator while rate limited")
	}
	e.srv.SetFaults(Faults{})
	e.clk.Advance(31 * time.Second)
	if _, err := e.conn.FetchInbound(context.Background(), e.acct, "0"); err != nil {
		t.Fatal(err)
	}
}

func TestRequestQuota(t *testing.T) {
	e := newEnv(t, Config{RequestsPerWindow: 2, Window: time.Minute})
	// Connect used one request of the quota (GET /api/me).
	if _, err := e.conn.FetchInbound(context.Background(), e.acct, "0"); err != nil {
		t.Fatal(err)
	}
	_, err := e.conn.FetchInbound(context.Background(), e.acct, "0")
	ce := kindOf(t, err, connector.KindRateLimited)
	if want := time.Date(2025, 3, 1, 9, 1, 0, 0, time.UTC); !ce.RetryAt.Equal(want) {
		t.Fatalf("RetryAt %v, want %v", ce.RetryAt, want)
	}
}

func TestUnavailableIsTransient(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetFaults(Faults{Unavailable: 1})
	before := e.srv.Requests()
	_, err := e.conn.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	kindOf(t, err, connector.KindTransient)
	if e.srv.Requests()-before != 1 {
		t.Fatal("a non-idempotent write must not be retried inline")
	}
	before = e.srv.Requests()
	_, err = e.conn.FetchInbound(context.Background(), e.acct, "0")
	kindOf(t, err, connector.KindTransient)
	if e.srv.Requests()-before != 3 {
		t.Fatalf("a read is retried with backoff: %d requests", e.srv.Requests()-before)
	}
}

func TestSlowWriteIsUnknownAndLookupReconciles(t *testing.T) {
	e := newEnv(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The post is made, then the answer is so slow the caller gives up.
	e.srv.SetFaults(Faults{Slow: 1, Sleep: func(rctx context.Context, d time.Duration) {
		cancel()
		<-rctx.Done()
	}})
	req := connector.PublishRequest{IdempotencyKey: "del-9", Variant: connector.Variant{Text: "Wichtig"}}
	_, err := e.conn.Publish(ctx, e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	e.srv.SetFaults(Faults{})

	p, found, err := e.conn.Lookup(context.Background(), e.acct, req)
	if err != nil || !found {
		t.Fatalf("lookup: %v %v", found, err)
	}
	if n := len(e.srv.byHandle["bmw_de"].posts); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	if p.ID != e.srv.byHandle["bmw_de"].posts[0].ID {
		t.Fatal("lookup found another post")
	}
}

func TestTextsFromJSONL(t *testing.T) {
	in := `{"id": "d1", "text": "Hallo", "intent": "other"}` + "\n\n" + `{"id": "d2", "text": "World"}` + "\n"
	got, err := TextsFromJSONL(strings.NewReader(in))
	if err != nil || len(got) != 2 || got[0] != "Hallo" || got[1] != "World" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := TextsFromJSONL(strings.NewReader("not json\n")); err == nil {
		t.Fatal("bad line accepted")
	}
}
