package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps int
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps++
	c.t = c.t.Add(d)
	return ctx.Err()
}

func setup(t *testing.T) (*fakeInstance, *Connector, *connector.Account, *fakeClock) {
	f := newFakeInstance(t)
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	c := New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
	acct := &connector.Account{ChannelID: "ch-1", BaseURL: f.srv.URL + "/", ExternalID: "1",
		Credentials: connector.Credentials{AccessToken: "tok-good"}}
	return f, c, acct, clk
}

func kindOf(t *testing.T, err error, want connector.Kind) *connector.Error {
	t.Helper()
	var e *connector.Error
	if !errors.As(err, &e) || e.Kind != want {
		t.Fatalf("error %v: want kind %s", err, want)
	}
	return e
}

func TestPublishWithMediaAndIdempotencyKey(t *testing.T) {
	f, c, acct, clk := setup(t)
	img := connector.Media{Kind: connector.MediaImage, ContentType: "image/png", Filename: "m3.png", Size: 4, AltText: "A blue M3",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("\x89PNG")), nil }}
	req := connector.PublishRequest{IdempotencyKey: "delivery-42",
		Variant: connector.Variant{Text: "Der neue M3 https://bmw.de/m3", Language: "de", Media: []connector.Media{img}}}
	if ps := c.Validate(req.Variant); ps != nil {
		t.Fatalf("valid variant refused: %+v", ps)
	}
	p, err := c.Publish(context.Background(), acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || !strings.HasPrefix(p.URL, f.srv.URL+"/@bmw/") {
		t.Fatalf("published %+v", p)
	}

	up := f.last("POST", "/api/v2/media")
	if up.Header.Get("Authorization") != "Bearer tok-good" || !strings.HasPrefix(up.Header.Get("Content-Type"), "multipart/form-data") {
		t.Fatalf("upload headers %v", up.Header)
	}
	if !strings.Contains(string(up.Body), `name="description"`) || !strings.Contains(string(up.Body), "A blue M3") ||
		!strings.Contains(string(up.Body), `filename="m3.png"`) {
		t.Fatalf("upload body %q", up.Body)
	}
	if f.count("GET", "/api/v1/media/") != 2 || clk.sleeps != 2 {
		t.Fatalf("media polls=%d sleeps=%d: want 206 then 200", f.count("GET", "/api/v1/media/"), clk.sleeps)
	}
	st := f.last("POST", "/api/v1/statuses")
	if st.Header.Get("Idempotency-Key") != "delivery-42" {
		t.Fatalf("Idempotency-Key = %q", st.Header.Get("Idempotency-Key"))
	}
	var body map[string]any
	json.Unmarshal(st.Body, &body)
	if body["status"] != "Der neue M3 https://bmw.de/m3" || body["visibility"] != "public" || body["language"] != "de" {
		t.Fatalf("status body %v", body)
	}
	if ids, _ := body["media_ids"].([]any); len(ids) != 1 {
		t.Fatalf("media_ids %v", body["media_ids"])
	}

	// A retry with the same key is deduplicated by the instance.
	p2, err := c.Publish(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "delivery-42", Variant: connector.Variant{Text: "Der neue M3 https://bmw.de/m3"}})
	if err != nil || p2.ID != p.ID || len(f.statuses) != 1 {
		t.Fatalf("retry: %v id=%s statuses=%d", err, p2.ID, len(f.statuses))
	}
}

func TestReplyToDirectMessage(t *testing.T) {
	f, c, acct, _ := setup(t)
	_, err := c.Publish(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "reply-1",
		Variant:   connector.Variant{Text: "Danke, wir melden uns!"},
		InReplyTo: &connector.ReplyTarget{ExternalID: "555", Kind: connector.KindDM, AuthorHandle: "@fan@cars.example"}})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal(f.last("POST", "/api/v1/statuses").Body, &body)
	if body["in_reply_to_id"] != "555" || body["visibility"] != "direct" || body["status"] != "@fan@cars.example Danke, wir melden uns!" {
		t.Fatalf("reply body %v", body)
	}
}

func TestValidationErrorIsPermanentWithMessage(t *testing.T) {
	f, c, acct, _ := setup(t)
	_, err := c.Publish(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: " "}})
	e := kindOf(t, err, connector.KindPermanent)
	if e.Status != 422 || e.Message != "Validation failed: Text can't be blank" || f.count("POST", "/api/v1/statuses") != 1 {
		t.Fatalf("%+v", e)
	}
}

func TestValidate(t *testing.T) {
	_, c, _, _ := setup(t)
	long := strings.Repeat("a", 478) + " https://example.com/" + strings.Repeat("x", 300) // 478+1+23 = 502
	ps := c.Validate(connector.Variant{Text: long})
	if len(ps) != 1 || ps[0].Code != "too_long" {
		t.Fatalf("%+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: long[:476] + long[478:]}); ps != nil { // 500
		t.Fatalf("500 counted chars refused: %+v", ps)
	}
	five := make([]connector.Media, 5)
	for i := range five {
		five[i] = connector.Media{Kind: connector.MediaImage, ContentType: "image/jpeg"}
	}
	if ps := c.Validate(connector.Variant{Media: five}); len(ps) != 1 || ps[0].Code != "too_many_media" {
		t.Fatalf("%+v", ps)
	}
}

func TestFetchInboundPagesAcrossRestart(t *testing.T) {
	f, c, acct, _ := setup(t)
	f.addMention("Wann kommt der iX3?", "public", false)
	f.addFavourite()
	f.addMention("Probefahrt möglich?", "direct", false)
	f.addMention("Tolles Video", "public", true)

	page, err := c.FetchInbound(context.Background(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.More || page.Cursor == "" {
		t.Fatalf("first page %+v", page)
	}
	want := []struct {
		kind connector.InboundKind
		text string
	}{{connector.KindMention, "@bmw Wann kommt der iX3?"}, {connector.KindDM, "@bmw Probefahrt möglich?"}, {connector.KindComment, "@bmw Tolles Video"}}
	for i, it := range page.Items {
		if it.Kind != want[i].kind || it.Text != want[i].text {
			t.Errorf("item %d: %s %q, want %s %q", i, it.Kind, it.Text, want[i].kind, want[i].text)
		}
		if it.Author.Handle != "@fan@cars.example" || it.Author.Name != "Car Fan" || it.URL == "" || it.ExternalID == "" {
			t.Errorf("item %d: %+v", i, it)
		}
	}
	if page.Items[2].InReplyTo != "999" {
		t.Errorf("in_reply_to %q", page.Items[2].InReplyTo)
	}
	if q := f.last("GET", "/api/v1/notifications").Query; q.Get("types[]") != "mention" {
		t.Fatalf("query %v", q)
	}
	cursor := page.Cursor // persisted by the caller

	// While "down", 95 mentions and some favourites arrive.
	for i := range 95 {
		f.addMention("Frage "+string(rune('A'+i%26))+strings.Repeat("!", i/26), "public", false)
		if i%10 == 0 {
			f.addFavourite()
		}
	}
	// A new process: new connector instance, the persisted cursor.
	c2 := New(connector.Options{Limiter: connector.NewLimiter()})
	seen := map[string]bool{}
	var texts []string
	for calls := 0; ; calls++ {
		if calls > 10 {
			t.Fatal("paging does not end")
		}
		page, err := c2.FetchInbound(context.Background(), acct, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if q := f.last("GET", "/api/v1/notifications").Query; q.Get("min_id") != cursor {
			t.Fatalf("min_id=%q, want cursor %q", q.Get("min_id"), cursor)
		}
		for _, it := range page.Items {
			if seen[it.ExternalID] {
				t.Fatalf("item %s fetched twice", it.ExternalID)
			}
			seen[it.ExternalID] = true
			texts = append(texts, it.Text)
		}
		cursor = page.Cursor
		if !page.More {
			break
		}
	}
	if len(seen) != 95 {
		t.Fatalf("got %d items, want 95", len(seen))
	}
	if texts[0] != "@bmw Frage A" || texts[94] != "@bmw Frage Q!!!" {
		t.Fatalf("order: first %q last %q", texts[0], texts[94])
	}
	// Nothing new: nothing returned, cursor unchanged.
	page, err = c2.FetchInbound(context.Background(), acct, cursor)
	if err != nil || len(page.Items) != 0 || page.Cursor != cursor {
		t.Fatalf("idle poll: %+v %v", page, err)
	}
}

func TestFetchInboundEmptyAccountStartsAtBeginning(t *testing.T) {
	f, c, acct, _ := setup(t)
	page, err := c.FetchInbound(context.Background(), acct, "")
	if err != nil || page.Cursor == "" || len(page.Items) != 0 {
		t.Fatalf("%+v %v", page, err)
	}
	f.addMention("first ever", "public", false)
	page, err = c.FetchInbound(context.Background(), acct, page.Cursor)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("%+v %v", page, err)
	}
}

func TestMetricsAndDelete(t *testing.T) {
	f, c, acct, _ := setup(t)
	p, err := c.Publish(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "d1", Variant: connector.Variant{Text: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.statuses[0].FavouritesCount, f.statuses[0].ReblogsCount, f.statuses[0].RepliesCount = 7, 3, 2
	f.mu.Unlock()
	m, err := c.FetchMetrics(context.Background(), acct, []string{p.ID, "404404"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Followers != 1234 || m.Following != 5 || m.Posts != 1 || len(m.PostStats) != 1 {
		t.Fatalf("%+v", m)
	}
	if ps := m.PostStats[0]; ps.ID != p.ID || ps.Likes != 7 || ps.Shares != 3 || ps.Replies != 2 || ps.Impressions != -1 {
		t.Fatalf("%+v", ps)
	}
	if err := c.Delete(context.Background(), acct, p.ID); err != nil {
		t.Fatal(err)
	}
	if len(f.statuses) != 0 {
		t.Fatal("not deleted")
	}
	if err := c.Delete(context.Background(), acct, p.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestRevokedTokenNeedsReconnect(t *testing.T) {
	_, c, acct, _ := setup(t)
	acct.Credentials.AccessToken = "tok-revoked"
	_, err := c.Publish(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	e := kindOf(t, err, connector.KindReconnectNeeded)
	if e.Message != "The access token is invalid" {
		t.Fatalf("%q", e.Message)
	}
}

func TestRateLimitedAndNotHammered(t *testing.T) {
	f, c, acct, clk := setup(t)
	reset := clk.Now().Add(4 * time.Minute)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-RateLimit-Limit", "300")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset.Format("2006-01-02T15:04:05.000Z"))
		apiError(w, http.StatusTooManyRequests, "Too many requests")
		return true
	}
	req := connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}}
	_, err := c.Publish(context.Background(), acct, req)
	e := kindOf(t, err, connector.KindRateLimited)
	if !e.RetryAt.Equal(reset) {
		t.Fatalf("RetryAt %v want %v", e.RetryAt, reset)
	}
	for range 3 {
		_, err = c.Publish(context.Background(), acct, req)
		kindOf(t, err, connector.KindRateLimited)
		_, err = c.FetchInbound(context.Background(), acct, "5")
		kindOf(t, err, connector.KindRateLimited)
	}
	if n := len(f.requests); n != 1 {
		t.Fatalf("%d requests reached the instance while rate limited", n)
	}
}

func TestServerErrorIsTransient(t *testing.T) {
	f, c, acct, _ := setup(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		apiError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return true
	}
	_, err := c.Publish(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	kindOf(t, err, connector.KindTransient)
	if !connector.Retryable(err) || len(f.requests) != 1 {
		t.Fatalf("requests=%d", len(f.requests))
	}
}

func TestLostAnswerIsUnknownAndLookupReconciles(t *testing.T) {
	f, c, acct, clk := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The instance stores the status, then the answer is lost (the
	// caller's deadline passes while it is on its way).
	f.afterCreate = func(w http.ResponseWriter, r *http.Request) bool {
		cancel()
		<-r.Context().Done()
		return true
	}
	req := connector.PublishRequest{IdempotencyKey: "delivery-7", FirstAttemptAt: clk.Now(),
		Variant: connector.Variant{Text: "Hallo @fan@cars.example, schau:  https://bmw.de/very/long/path"}}
	_, err := c.Publish(ctx, acct, req)
	kindOf(t, err, connector.KindUnknown)
	f.afterCreate = nil

	// Reconcile before any retry: found, so no second post.
	p, found, err := c.Lookup(context.Background(), acct, req)
	if err != nil || !found {
		t.Fatalf("lookup: found=%v err=%v", found, err)
	}
	if len(f.statuses) != 1 || p.ID != f.statuses[0].ID {
		t.Fatalf("statuses=%d id=%s", len(f.statuses), p.ID)
	}
	// Something never sent is positively not found.
	_, found, err = c.Lookup(context.Background(), acct, connector.PublishRequest{IdempotencyKey: "other", Variant: connector.Variant{Text: "nie gesendet"}})
	if err != nil || found {
		t.Fatalf("found=%v err=%v", found, err)
	}
}

func TestConnectAndOAuth(t *testing.T) {
	f, c, _, _ := setup(t)
	var saved int
	acct := &connector.Account{ChannelID: "ch-2", BaseURL: f.srv.URL, Credentials: connector.Credentials{AccessToken: "tok-good"},
		SaveCredentials: func(ctx context.Context, cr connector.Credentials) error { saved++; return nil }}
	prof, err := c.Connect(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(f.srv.URL, "http://")
	if acct.ExternalID != "1" || acct.Handle != "@bmw@"+host || prof.Followers != 1234 || saved != 1 {
		t.Fatalf("acct %+v profile %+v saved=%d", acct, prof, saved)
	}

	app, err := c.RegisterApp(context.Background(), f.srv.URL, "vernetzen", "https://hub.example/oauth/callback", "", nil)
	if err != nil || app.ClientID != "cid-1" || app.ClientSecret.Reveal() != "csec-1" {
		t.Fatalf("app %+v %v", app, err)
	}
	var reg map[string]any
	json.Unmarshal(f.last("POST", "/api/v1/apps").Body, &reg)
	if reg["client_name"] != "vernetzen" || reg["redirect_uris"] != "https://hub.example/oauth/callback" || reg["scopes"] != "read write:statuses write:media" {
		t.Fatalf("register body %v", reg)
	}
	pkce := connector.NewPKCE()
	u, _ := c.AuthorizeURL(&connector.Account{BaseURL: f.srv.URL}, app, "st-1", pkce)
	pu, _ := url.Parse(u)
	if pu.Path != "/oauth/authorize" || pu.Query().Get("client_id") != "cid-1" || pu.Query().Get("state") != "st-1" ||
		pu.Query().Get("code_challenge") != pkce.Challenge || pu.Query().Get("response_type") != "code" {
		t.Fatalf("authorize URL %s", u)
	}
	cr, err := c.Exchange(context.Background(), &connector.Account{BaseURL: f.srv.URL}, app, "code-ok", pkce)
	if err != nil || cr.AccessToken.Reveal() != "tok-good" {
		t.Fatalf("exchange %v", err)
	}
	tok := f.last("POST", "/oauth/token")
	form, _ := url.ParseQuery(string(tok.Body))
	if form.Get("grant_type") != "authorization_code" || form.Get("client_secret") != "csec-1" || form.Get("code_verifier") != pkce.Verifier {
		t.Fatalf("token form %v", form)
	}
	if tok.Header.Get("Authorization") != "" {
		t.Fatal("token request must not carry a user token")
	}
	_, err = c.Exchange(context.Background(), &connector.Account{BaseURL: f.srv.URL}, app, "code-bad", pkce)
	if e := kindOf(t, err, connector.KindReconnectNeeded); e.Message != "The provided authorization grant is invalid" {
		t.Fatalf("%q", e.Message)
	}
}
