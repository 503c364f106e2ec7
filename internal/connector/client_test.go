package connector

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/secret"
)

// fakeClock is the injected clock: Sleep advances time instead of waiting.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
	return ctx.Err()
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func newTestClient(clk *fakeClock) *Client {
	return &Client{Platform: "test", Now: clk.Now, Sleep: clk.Sleep}
}

func wantKind(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error; want kind %s", err, err, k)
	}
	if e.Kind != k {
		t.Fatalf("kind = %s, want %s (error: %v)", e.Kind, k, err)
	}
	return e
}

func TestTransientGETRetriedWithBackoff(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	clk := newFakeClock()
	c := newTestClient(clk)
	var out struct{ OK bool }
	if _, err := c.JSON(context.Background(), &Account{ChannelID: "c1"}, &Request{Method: "GET", URL: srv.URL + "/x"}, &out); err != nil {
		t.Fatal(err)
	}
	if !out.OK || n.Load() != 3 || len(clk.sleeps) != 2 {
		t.Fatalf("ok=%v requests=%d sleeps=%v", out.OK, n.Load(), clk.sleeps)
	}
	if clk.sleeps[1] < clk.sleeps[0]/2 || clk.sleeps[0] > c.BackoffBase {
		t.Errorf("backoff not exponential with jitter: %v", clk.sleeps)
	}
}

func TestTransientPOSTNotRetriedHere(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	clk := newFakeClock()
	c := newTestClient(clk)
	_, err := c.Do(context.Background(), &Account{ChannelID: "c1"}, &Request{Method: "POST", URL: srv.URL})
	e := wantKind(t, err, KindTransient)
	if n.Load() != 1 || e.Status != 500 || !e.RetryAt.After(clk.Now()) {
		t.Fatalf("requests=%d status=%d retryAt=%v", n.Load(), e.Status, e.RetryAt)
	}
	if !Retryable(err) {
		t.Error("transient must be retryable")
	}
}

func TestGatewayTimeoutOnWriteIsUnknown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGatewayTimeout)
	}))
	defer srv.Close()
	c := newTestClient(newFakeClock())
	_, err := c.Do(context.Background(), nil, &Request{Method: "POST", URL: srv.URL})
	wantKind(t, err, KindUnknown)
	if Retryable(err) {
		t.Error("unknown must not be blindly retryable")
	}
}

func TestIdempotentWriteIsRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := newTestClient(newFakeClock())
	if _, err := c.Do(context.Background(), nil, &Request{Method: "POST", URL: srv.URL, Idempotent: true}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Fatalf("requests=%d, want 2", n.Load())
	}
}

func TestRateLimitedBlocksChannelUntilReset(t *testing.T) {
	clk := newFakeClock()
	reset := clk.Now().Add(5 * time.Minute)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("X-RateLimit-Limit", "300")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", reset.Format("2006-01-02T15:04:05.000Z"))
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":"Too many requests"}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := newTestClient(clk)
	a := &Account{ChannelID: "c1"}
	_, err := c.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL})
	e := wantKind(t, err, KindRateLimited)
	if !e.RetryAt.Equal(reset) || e.Scope != ScopeChannel || e.Message != "Too many requests" {
		t.Fatalf("retryAt=%v want %v scope=%v msg=%q", e.RetryAt, reset, e.Scope, e.Message)
	}
	// Blocked: fails fast without reaching the server, for reads and writes.
	for range 5 {
		_, err = c.Do(context.Background(), a, &Request{Method: "POST", URL: srv.URL})
		if e := wantKind(t, err, KindRateLimited); !e.RetryAt.Equal(reset) {
			t.Fatalf("retryAt=%v", e.RetryAt)
		}
	}
	if n.Load() != 1 {
		t.Fatalf("server hammered: %d requests while blocked", n.Load())
	}
	if got := c.BlockedUntil(a, strings.TrimPrefix(srv.URL, "http://")); !got.Equal(reset) {
		t.Errorf("BlockedUntil=%v", got)
	}
	// Another channel is not blocked by a channel-scoped limit.
	if _, err := c.Do(context.Background(), &Account{ChannelID: "c2"}, &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5*time.Minute + time.Second)
	if _, err := c.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	if n.Load() != 3 {
		t.Fatalf("requests=%d, want 3", n.Load())
	}
}

func TestRateLimitAppScopeBlocksAllChannels(t *testing.T) {
	clk := newFakeClock()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := newTestClient(clk)
	c.RateLimit = func(resp *Response, now time.Time) RateLimit {
		rl := ParseRateLimit(resp.Header, now)
		rl.Scope = ScopeApp
		return rl
	}
	_, err := c.Do(context.Background(), &Account{ChannelID: "c1"}, &Request{Method: "GET", URL: srv.URL})
	e := wantKind(t, err, KindRateLimited)
	if !e.RetryAt.Equal(clk.Now().Add(120*time.Second)) || e.Scope != ScopeApp {
		t.Fatalf("retryAt=%v scope=%v", e.RetryAt, e.Scope)
	}
	_, err = c.Do(context.Background(), &Account{ChannelID: "c2"}, &Request{Method: "GET", URL: srv.URL})
	if e := wantKind(t, err, KindRateLimited); e.Scope != ScopeApp {
		t.Fatalf("scope=%v", e.Scope)
	}
	if n.Load() != 1 {
		t.Fatalf("requests=%d", n.Load())
	}
}

func TestRemainingZeroBlocksBeforeThe429(t *testing.T) {
	clk := newFakeClock()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("RateLimit-Remaining", "0")
		w.Header().Set("RateLimit-Reset", "30")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := newTestClient(clk)
	a := &Account{ChannelID: "c1"}
	if _, err := c.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL})
	wantKind(t, err, KindRateLimited)
	// With MaxWait the client waits the short block out (on the fake clock).
	c2 := &Client{Platform: "test", Now: clk.Now, Sleep: clk.Sleep, Limiter: c.Limiter, MaxWait: time.Minute}
	if _, err := c2.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || len(clk.sleeps) != 1 || clk.sleeps[0] != 30*time.Second {
		t.Fatalf("requests=%d sleeps=%v", n.Load(), clk.sleeps)
	}
}

// tokenServer answers 200 for the token in good, 401 otherwise.
func tokenServer(good *atomic.Value, n *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+good.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"The access token is invalid"}`))
			return
		}
		w.Write([]byte(`{}`))
	}))
}

type fakeRefresher struct {
	calls atomic.Int32
	creds Credentials
	err   error
}

func (f *fakeRefresher) Refresh(ctx context.Context, acct *Account) (Credentials, error) {
	f.calls.Add(1)
	if acct.Credentials.RefreshToken.Reveal() != "r1" {
		return Credentials{}, errors.New("refresh token lost")
	}
	return f.creds, f.err
}

func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	var good atomic.Value
	good.Store("new")
	var n atomic.Int32
	srv := tokenServer(&good, &n)
	defer srv.Close()
	clk := newFakeClock()
	ref := &fakeRefresher{creds: Credentials{AccessToken: "new", ExpiresAt: clk.Now().Add(time.Hour)}}
	c := newTestClient(clk)
	c.Refresher = ref
	var saved []Credentials
	a := &Account{ChannelID: "c1", Credentials: Credentials{AccessToken: "old", RefreshToken: "r1"},
		SaveCredentials: func(ctx context.Context, cr Credentials) error { saved = append(saved, cr); return nil }}
	if _, err := c.Do(context.Background(), a, &Request{Method: "POST", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || ref.calls.Load() != 1 || len(saved) != 1 {
		t.Fatalf("requests=%d refreshes=%d saves=%d", n.Load(), ref.calls.Load(), len(saved))
	}
	if saved[0].AccessToken.Reveal() != "new" || saved[0].RefreshToken.Reveal() != "r1" {
		t.Fatalf("saved %+v: refresh token must be kept", saved[0])
	}
	if a.Credentials.AccessToken.Reveal() != "new" {
		t.Fatal("account not updated")
	}

	// A second job of the same channel still holding the old token reuses
	// the refresh instead of spending the refresh token again.
	b := &Account{ChannelID: "c1", Credentials: Credentials{AccessToken: "old", RefreshToken: "r1"}}
	if _, err := c.Do(context.Background(), b, &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if ref.calls.Load() != 1 || b.Credentials.AccessToken.Reveal() != "new" {
		t.Fatalf("refreshes=%d token=%q", ref.calls.Load(), b.Credentials.AccessToken.Reveal())
	}
}

func TestUnauthorizedAfterRefreshIsReconnectNeeded(t *testing.T) {
	var good atomic.Value
	good.Store("nobody")
	var n atomic.Int32
	srv := tokenServer(&good, &n)
	defer srv.Close()
	ref := &fakeRefresher{creds: Credentials{AccessToken: "new"}}
	c := newTestClient(newFakeClock())
	c.Refresher = ref
	a := &Account{ChannelID: "c1", Credentials: Credentials{AccessToken: "old", RefreshToken: "r1"}}
	_, err := c.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL})
	wantKind(t, err, KindReconnectNeeded)
	if n.Load() != 2 || ref.calls.Load() != 1 {
		t.Fatalf("requests=%d refreshes=%d: refresh once, retry once", n.Load(), ref.calls.Load())
	}
}

func TestRefreshFailures(t *testing.T) {
	var good atomic.Value
	good.Store("new")
	var n atomic.Int32
	srv := tokenServer(&good, &n)
	defer srv.Close()

	// Refused by the platform → reconnect needed, with its message.
	c := newTestClient(newFakeClock())
	c.Refresher = &fakeRefresher{err: &Error{Kind: KindPermanent, Status: 400, Code: "invalid_grant", Message: "refresh token revoked"}}
	_, err := c.Do(context.Background(), &Account{ChannelID: "c1", Credentials: Credentials{AccessToken: "old", RefreshToken: "r1"}},
		&Request{Method: "GET", URL: srv.URL})
	if e := wantKind(t, err, KindReconnectNeeded); e.Message != "refresh token revoked" {
		t.Fatalf("message %q", e.Message)
	}

	// A network failure while refreshing must not disconnect the channel.
	c = newTestClient(newFakeClock())
	c.Refresher = &fakeRefresher{err: &Error{Kind: KindTransient, Message: "connection reset"}}
	_, err = c.Do(context.Background(), &Account{ChannelID: "c2", Credentials: Credentials{AccessToken: "old", RefreshToken: "r1"}},
		&Request{Method: "GET", URL: srv.URL})
	wantKind(t, err, KindTransient)

	// No refresher: an expired token means reconnect.
	c = newTestClient(newFakeClock())
	_, err = c.Do(context.Background(), &Account{ChannelID: "c3", Credentials: Credentials{AccessToken: "old"}},
		&Request{Method: "GET", URL: srv.URL})
	wantKind(t, err, KindReconnectNeeded)
}

func TestProactiveRefreshBeforeExpiry(t *testing.T) {
	var good atomic.Value
	good.Store("new")
	var n atomic.Int32
	srv := tokenServer(&good, &n)
	defer srv.Close()
	clk := newFakeClock()
	ref := &fakeRefresher{creds: Credentials{AccessToken: "new", RefreshToken: "r1"}}
	c := newTestClient(clk)
	c.Refresher = ref
	a := &Account{ChannelID: "c1", Credentials: Credentials{AccessToken: "old", RefreshToken: "r1", ExpiresAt: clk.Now().Add(30 * time.Second)}}
	if _, err := c.Do(context.Background(), a, &Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 || ref.calls.Load() != 1 {
		t.Fatalf("requests=%d refreshes=%d", n.Load(), ref.calls.Load())
	}
}

func TestLostAnswerAfterSendIsUnknown(t *testing.T) {
	// The handler cancels the caller's context once the request has
	// arrived, as a timeout would: deterministic, no waiting.
	var cancelCurrent atomic.Pointer[context.CancelFunc]
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*cancelCurrent.Load())()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(newFakeClock())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelCurrent.Store(&cancel)
	_, err := c.Do(ctx, nil, &Request{Method: "POST", URL: srv.URL, Body: []byte("x")})
	wantKind(t, err, KindUnknown)

	// The same for a read is only transient: reading twice is harmless.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	cancelCurrent.Store(&cancel2)
	_, err = c.Do(ctx2, nil, &Request{Method: "GET", URL: srv.URL})
	wantKind(t, err, KindTransient)
}

func TestConnectionRefusedIsTransientEvenForWrites(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	c := newTestClient(newFakeClock())
	_, err := c.Do(context.Background(), nil, &Request{Method: "POST", URL: u})
	wantKind(t, err, KindTransient)
}

func TestUndecodableAnswerToWriteIsUnknown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<html>ok</html>`))
	}))
	defer srv.Close()
	c := newTestClient(newFakeClock())
	var out struct{ ID string }
	_, err := c.JSON(context.Background(), nil, &Request{Method: "POST", URL: srv.URL}, &out)
	wantKind(t, err, KindUnknown)
}

func TestPermanentCarriesPlatformMessage(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(`{"error":"Validation failed: Text can't be blank"}`))
	}))
	defer srv.Close()
	c := newTestClient(newFakeClock())
	_, err := c.Do(context.Background(), nil, &Request{Method: "POST", URL: srv.URL, Idempotent: true})
	e := wantKind(t, err, KindPermanent)
	if e.Message != "Validation failed: Text can't be blank" || n.Load() != 1 {
		t.Fatalf("msg=%q requests=%d", e.Message, n.Load())
	}
}

func TestParseErrorBodyShapes(t *testing.T) {
	for _, tc := range []struct{ body, code, msg string }{
		{`{"error":"Record not found"}`, "", "Record not found"},
		{`{"error":"ExpiredToken","message":"Token has expired"}`, "ExpiredToken", "Token has expired"},
		{`{"error":"invalid_grant","error_description":"revoked"}`, "invalid_grant", "revoked"},
		{`{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}`, "190", "Invalid OAuth access token."},
		{`{"errors":[{"message":"Rate limit exceeded","code":88}]}`, "88", "Rate limit exceeded"},
		{`{"title":"Unauthorized","detail":"Unauthorized","type":"about:blank"}`, "Unauthorized", "Unauthorized"},
		{`<html>Bad Gateway</html>`, "", "Bad Gateway"},
	} {
		code, msg := ParseErrorBody(&Response{Status: 502, Body: []byte(tc.body)})
		if code != tc.code || msg != tc.msg {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", tc.body, code, msg, tc.code, tc.msg)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		hh := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hh.Set(kv[i], kv[i+1])
		}
		return hh
	}
	for name, tc := range map[string]struct {
		h         http.Header
		reset     time.Time
		remaining int
	}{
		"mastodon iso":      {h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "2025-03-01T12:05:00.000Z"), now.Add(5 * time.Minute), 0},
		"x epoch":           {h("x-rate-limit-remaining", "3", "x-rate-limit-reset", "1740830700"), time.Unix(1740830700, 0), 3},
		"bluesky epoch":     {h("ratelimit-remaining", "0", "ratelimit-reset", "1740830460"), time.Unix(1740830460, 0), 0},
		"ietf delta":        {h("RateLimit-Remaining", "1", "RateLimit-Reset", "60"), now.Add(time.Minute), 1},
		"ietf combined":     {h("RateLimit", "limit=10, remaining=0, reset=7"), now.Add(7 * time.Second), 0},
		"retry-after secs":  {h("Retry-After", "90"), now.Add(90 * time.Second), -1},
		"retry-after date":  {h("Retry-After", "Sat, 01 Mar 2025 12:10:00 GMT"), now.Add(10 * time.Minute), -1},
		"later of both":     {h("Retry-After", "600", "X-RateLimit-Reset", "60"), now.Add(10 * time.Minute), -1},
		"epoch millis":      {h("X-RateLimit-Reset", "1740830700000"), time.UnixMilli(1740830700000), -1},
		"no headers at all": {h(), time.Time{}, -1},
	} {
		rl := ParseRateLimit(tc.h, now)
		if !rl.Reset.Equal(tc.reset) || rl.Remaining != tc.remaining {
			t.Errorf("%s: reset=%v remaining=%d, want %v %d", name, rl.Reset, rl.Remaining, tc.reset, tc.remaining)
		}
	}
}

func TestCredentialsSealAndRedaction(t *testing.T) {
	box, err := secret.New(secret.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	cr := Credentials{AccessToken: "tok-123", RefreshToken: "ref-456", AppPassword: "pw-789", Identifier: "me.bsky.social"}
	sealed, err := cr.Seal(box)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"tok-123", "ref-456", "pw-789"} {
		if strings.Contains(sealed, s) {
			t.Fatalf("sealed value contains %q", s)
		}
	}
	got, err := OpenCredentials(box, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken.Reveal() != "tok-123" || got.RefreshToken.Reveal() != "ref-456" || got.AppPassword.Reveal() != "pw-789" || got.Identifier != cr.Identifier {
		t.Fatalf("round trip: %#v", got)
	}
	b, _ := json.Marshal(Account{Credentials: cr})
	if strings.Contains(string(b), "tok-123") || strings.Contains(string(b), "ref-456") {
		t.Fatalf("JSON leaks a secret: %s", b)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Kind: KindRateLimited, Platform: "mastodon", Op: "publish", Status: 429,
		RetryAt: time.Date(2025, 3, 1, 12, 5, 0, 0, time.UTC), Scope: ScopeApp}
	want := "mastodon publish: rate_limited (HTTP 429) (app limit, retry at 2025-03-01T12:05:00Z)"
	if e.Error() != want {
		t.Fatalf("%q", e.Error())
	}
	if KindOf(context.DeadlineExceeded) != KindUnknown || KindOf(errors.New("x")) != KindTransient {
		t.Fatal("KindOf of foreign errors")
	}
}

// A 5xx names when to come back only by Retry-After, or by a spent quota's
// reset. A quota window's reset alone (Mastodon sends X-RateLimit-Reset
// on every answer, minutes ahead) must not hold a retry back that long.
func TestTransientRetryAtIgnoresAnUnspentWindowsReset(t *testing.T) {
	clk := newFakeClock()
	cases := map[string]struct {
		headers map[string]string
		want    time.Duration // at least
		below   time.Duration
	}{
		"window reset, quota left": {map[string]string{"X-RateLimit-Remaining": "250", "X-RateLimit-Reset": "300"}, 0, 30 * time.Second},
		"retry-after":              {map[string]string{"Retry-After": "90"}, 90 * time.Second, 91 * time.Second},
		"quota spent":              {map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "300"}, 300 * time.Second, 301 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			defer srv.Close()
			c := newTestClient(clk)
			_, err := c.Do(context.Background(), &Account{ChannelID: "c1"}, &Request{Method: "POST", URL: srv.URL})
			e := wantKind(t, err, KindTransient)
			if wait := e.RetryAt.Sub(clk.Now()); wait < tc.want || wait >= tc.below {
				t.Fatalf("retry in %v, want [%v, %v)", wait, tc.want, tc.below)
			}
		})
	}
}
