package x

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return ctx.Err()
}

type env struct {
	f     *fakeX
	c     *Connector
	acct  *connector.Account
	clk   *fakeClock
	saved []connector.Credentials
}

func setup(t *testing.T) *env {
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := &env{clk: clk}
	e.f = newFakeX(t, clk.Now)
	e.c = New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
	e.acct = &connector.Account{ChannelID: "ch-x", BaseURL: e.f.srv.URL, ExternalID: "2244994945", Handle: "@vernetzen_hub",
		Credentials: connector.Credentials{AccessToken: "tok-good", RefreshToken: "rt-1"},
		App:         connector.App{ClientID: "cid-x", ClientSecret: "csec-x"},
		SaveCredentials: func(ctx context.Context, c connector.Credentials) error {
			e.saved = append(e.saved, c)
			return nil
		}}
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

func png() connector.Media {
	return connector.Media{Kind: connector.MediaImage, ContentType: "image/png", Filename: "m3.png", Size: 4, AltText: "A blue M3",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("\x89PNG")), nil }}
}

func TestPublishWithMediaAndReply(t *testing.T) {
	e := setup(t)
	req := connector.PublishRequest{IdempotencyKey: "d-1",
		Variant: connector.Variant{Text: "Der neue M3 & mehr", Link: "https://bmw.de/m3", Media: []connector.Media{png()}}}
	if ps := e.c.Validate(req.Variant); ps != nil {
		t.Fatalf("valid variant refused: %+v", ps)
	}
	p, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != e.f.tweets[0].ID || p.URL != "https://x.com/vernetzen_hub/status/"+p.ID || p.PublishedAt.IsZero() {
		t.Fatalf("published %+v", p)
	}
	up := e.f.last("POST", "/2/media/upload")
	if up.Header.Get("Authorization") != "Bearer tok-good" || !strings.HasPrefix(up.Header.Get("Content-Type"), "multipart/form-data") ||
		!strings.Contains(string(up.Body), `name="media"; filename="m3.png"`) {
		t.Fatalf("upload %v %q", up.Header, up.Body)
	}
	mediaID := e.f.tweets[0].ID
	for id := range e.f.media {
		mediaID = id
	}
	if e.f.altTexts[mediaID] != "A blue M3" {
		t.Fatalf("alt text %v", e.f.altTexts)
	}
	var body map[string]any
	json.Unmarshal(e.f.last("POST", "/2/tweets").Body, &body)
	if body["text"] != "Der neue M3 & mehr https://bmw.de/m3" || body["reply"] != nil {
		t.Fatalf("body %v", body)
	}
	if ids := body["media"].(map[string]any)["media_ids"].([]any); len(ids) != 1 || ids[0] != mediaID {
		t.Fatalf("media %v", body["media"])
	}

	// A reply to a mention.
	_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r-1",
		Variant:   connector.Variant{Text: "Danke!"},
		InReplyTo: &connector.ReplyTarget{ExternalID: "1860000000000000077", Kind: connector.KindMention, AuthorHandle: "@carfan"}})
	if err != nil {
		t.Fatal(err)
	}
	body = nil
	json.Unmarshal(e.f.last("POST", "/2/tweets").Body, &body)
	if body["text"] != "Danke!" || body["reply"].(map[string]any)["in_reply_to_tweet_id"] != "1860000000000000077" {
		t.Fatalf("reply body %v", body)
	}
	// DMs are not answered through /2/tweets.
	_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r-2",
		Variant: connector.Variant{Text: "x"}, InReplyTo: &connector.ReplyTarget{ExternalID: "1", Kind: connector.KindDM}})
	kindOf(t, err, connector.KindPermanent)
}

func TestValidateWeightedLength(t *testing.T) {
	e := setup(t)
	url := " https://example.com/" + strings.Repeat("p", 100) // 1 + 23
	if ps := e.c.Validate(connector.Variant{Text: strings.Repeat("a", 256) + url}); ps != nil {
		t.Fatalf("280 weighted refused: %+v", ps)
	}
	if ps := e.c.Validate(connector.Variant{Text: strings.Repeat("a", 257) + url}); len(ps) != 1 || ps[0].Code != "too_long" {
		t.Fatalf("281 weighted: %+v", ps)
	}
	if ps := e.c.Validate(connector.Variant{Text: strings.Repeat("日", 140)}); ps != nil {
		t.Fatalf("140 CJK = 280: %+v", ps)
	}
	if ps := e.c.Validate(connector.Variant{Text: strings.Repeat("日", 141)}); len(ps) != 1 {
		t.Fatalf("141 CJK: %+v", ps)
	}
	if ps := e.c.Validate(connector.Variant{}); len(ps) != 1 || ps[0].Code != "required" {
		t.Fatalf("empty: %+v", ps)
	}
}

func TestErrorBodyIsPermanentWithMessage(t *testing.T) {
	e := setup(t)
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k",
		Variant: connector.Variant{Text: strings.Repeat("x", 300)}})
	ce := kindOf(t, err, connector.KindPermanent)
	if ce.Status != 403 || ce.Message != "Tweet text is too long." {
		t.Fatalf("%+v", ce)
	}
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		invalidRequest(w, "Your media IDs are invalid.")
		return true
	})
	_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	if ce := kindOf(t, err, connector.KindPermanent); ce.Message != "Your media IDs are invalid." || ce.Code != "invalid-request" {
		t.Fatalf("%+v", ce)
	}
}

func TestFetchMentionsPagesAcrossRestart(t *testing.T) {
	e := setup(t)
	e.f.addMention("alt", "77", false) // before the channel was connected
	first := e.f.addMention("Wann kommt der iX3?", "77", false)
	e.f.addMention("Tolles Video", "78", true)

	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.More || page.Cursor == "" {
		t.Fatalf("start page %+v", page)
	}
	it := page.Items[1]
	if it.ExternalID != first || it.Kind != connector.KindMention || it.Text != "@vernetzen_hub Wann kommt der iX3?" ||
		it.Author.Handle != "@carfan" || it.Author.Name != "Car Fan" || it.URL != "https://x.com/carfan/status/"+first || it.CreatedAt.IsZero() {
		t.Fatalf("item %+v", it)
	}
	if c := page.Items[2]; c.Kind != connector.KindComment || c.InReplyTo != "1859999999999999999" || c.Author.Handle != "@ada_l" {
		t.Fatalf("comment %+v", c)
	}
	q := e.f.last("GET", "/2/users/2244994945/mentions").Query
	if q.Get("since_id") != "" || q.Get("expansions") != "author_id" || !strings.Contains(q.Get("tweet.fields"), "created_at") ||
		e.f.last("GET", "/2/users/2244994945/mentions").Header.Get("Authorization") != "Bearer tok-good" {
		t.Fatalf("query %v", q)
	}
	cursor := page.Cursor

	// While the hub is down, 250 mentions arrive.
	var want []string
	for i := range 250 {
		want = append(want, e.f.addMention("Frage "+strconv.Itoa(i), "77", false))
	}
	// A new process: a new connector, the persisted cursor; a mention
	// arrives in the middle of reading the backlog.
	c2 := New(connector.Options{Limiter: connector.NewLimiter()})
	seen := map[string]bool{}
	late := ""
	for calls := 0; ; calls++ {
		if calls > 10 {
			t.Fatal("paging does not end")
		}
		page, err := c2.FetchInbound(context.Background(), e.acct, cursor)
		if err != nil {
			t.Fatal(err)
		}
		q := e.f.last("GET", "/2/users/2244994945/mentions").Query
		if q.Get("since_id") == "" || q.Get("max_results") != "100" {
			t.Fatalf("query %v", q)
		}
		if calls > 0 && q.Get("pagination_token") == "" {
			t.Fatalf("backlog page %d without pagination_token", calls)
		}
		for i, it := range page.Items {
			if seen[it.ExternalID] {
				t.Fatalf("%s fetched twice", it.ExternalID)
			}
			if i > 0 && it.ExternalID < page.Items[i-1].ExternalID {
				t.Fatal("page not oldest first")
			}
			seen[it.ExternalID] = true
		}
		cursor = page.Cursor
		if calls == 0 {
			late = e.f.addMention("spät", "78", false)
		}
		if !page.More {
			break
		}
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("%s skipped", id)
		}
	}
	if len(seen) != 250 {
		t.Fatalf("%d items, want 250", len(seen))
	}
	// The mention that arrived mid-sweep comes with the next poll.
	page, err = c2.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil || len(page.Items) != 1 || page.Items[0].ExternalID != late || page.More {
		t.Fatalf("next poll %+v %v", page, err)
	}
	cursor = page.Cursor
	page, err = c2.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil || len(page.Items) != 0 || page.Cursor != cursor {
		t.Fatalf("idle poll %+v %v", page, err)
	}
}

func TestFetchMentionsEmptyAccount(t *testing.T) {
	e := setup(t)
	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil || page.Cursor == "" || len(page.Items) != 0 {
		t.Fatalf("%+v %v", page, err)
	}
	e.f.addMention("erste", "77", false)
	page, err = e.c.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("%+v %v", page, err)
	}
}

func TestMetricsAndDelete(t *testing.T) {
	e := setup(t)
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d", Variant: connector.Variant{Text: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	e.f.mu.Lock()
	e.f.tweets[0].Likes, e.f.tweets[0].Retweets, e.f.tweets[0].Quotes, e.f.tweets[0].Replies, e.f.tweets[0].Views = 7, 3, 1, 2, 900
	e.f.mu.Unlock()
	m, err := e.c.FetchMetrics(context.Background(), e.acct, []string{p.ID, "1860000000000099999"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Followers != 4321 || m.Following != 12 || m.Posts != 1 || len(m.PostStats) != 1 || !m.At.Equal(e.clk.Now()) {
		t.Fatalf("%+v", m)
	}
	if ps := m.PostStats[0]; ps.ID != p.ID || ps.Likes != 7 || ps.Shares != 4 || ps.Replies != 2 || ps.Impressions != 900 {
		t.Fatalf("%+v", ps)
	}
	if q := e.f.last("GET", "/2/tweets").Query; q.Get("ids") != p.ID+",1860000000000099999" || q.Get("tweet.fields") != "public_metrics" {
		t.Fatalf("lookup query %v", q)
	}
	if err := e.c.Delete(context.Background(), e.acct, p.ID); err != nil || len(e.f.tweets) != 0 {
		t.Fatalf("delete: %v", err)
	}
	if err := e.c.Delete(context.Background(), e.acct, p.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestExpiredTokenRefreshesOnceRotatesAndRetries(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken = "tok-expired"
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "nach Refresh"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || e.f.count("POST", "/2/tweets") != 2 || e.f.count("POST", "/2/oauth2/token") != 1 {
		t.Fatalf("tweets=%d token=%d", e.f.count("POST", "/2/tweets"), e.f.count("POST", "/2/oauth2/token"))
	}
	tok := e.f.last("POST", "/2/oauth2/token")
	form, _ := url.ParseQuery(string(tok.Body))
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "rt-1" || form.Get("client_id") != "cid-x" {
		t.Fatalf("refresh form %v", form)
	}
	if id, sec, ok := (&http.Request{Header: tok.Header}).BasicAuth(); !ok || id != "cid-x" || sec != "csec-x" {
		t.Fatalf("token endpoint auth %q", tok.Header.Get("Authorization"))
	}
	if e.f.last("POST", "/2/tweets").Header.Get("Authorization") != "Bearer tok-1" {
		t.Fatal("retry without the new token")
	}
	// The rotated refresh token was saved before the retry.
	if len(e.saved) != 1 || e.saved[0].RefreshToken.Reveal() != "rt-2" || e.saved[0].AccessToken.Reveal() != "tok-1" ||
		!e.saved[0].ExpiresAt.Equal(e.clk.Now().Add(2*time.Hour)) {
		t.Fatalf("saved %+v", e.saved)
	}
}

func TestRefreshWithoutNewRefreshTokenKeepsTheOld(t *testing.T) {
	e := setup(t)
	e.f.mu.Lock()
	e.f.rotate = false
	e.f.mu.Unlock()
	cr, err := e.c.Refresh(context.Background(), e.acct)
	if err != nil || cr.AccessToken.Reveal() != "tok-1" || cr.RefreshToken.Reveal() != "rt-1" {
		t.Fatalf("%+v %v", cr, err)
	}
}

func TestRefreshRefusedNeedsReconnect(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken, e.acct.Credentials.RefreshToken = "tok-expired", "rt-revoked"
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindReconnectNeeded)
	if ce.Message != "Value passed for the token was invalid." {
		t.Fatalf("%q", ce.Message)
	}
	if e.acct.Credentials.RefreshToken.Reveal() != "rt-revoked" || len(e.saved) != 0 {
		t.Fatal("refresh token lost")
	}
	// A token endpoint that is down is not a reason to disconnect.
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/2/oauth2/token" {
			problem(w, 503, "Service Unavailable", "Service Unavailable", "about:blank")
			return true
		}
		return false
	})
	_, err = e.c.FetchInbound(context.Background(), e.acct, "")
	kindOf(t, err, connector.KindTransient)
}

func TestRateLimitedUntilResetAndNotHammered(t *testing.T) {
	e := setup(t)
	reset := e.clk.Now().Add(7 * time.Minute)
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("x-rate-limit-limit", "100")
		w.Header().Set("x-rate-limit-remaining", "0")
		w.Header().Set("x-rate-limit-reset", strconv.FormatInt(reset.Unix(), 10))
		problem(w, 429, "Too Many Requests", "Too Many Requests", "about:blank")
		return true
	})
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindRateLimited)
	if !ce.RetryAt.Equal(reset) {
		t.Fatalf("RetryAt %v want %v", ce.RetryAt, reset)
	}
	for range 3 {
		_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
		kindOf(t, err, connector.KindRateLimited)
	}
	if len(e.f.requests) != 1 {
		t.Fatalf("%d requests reached X while limited", len(e.f.requests))
	}
}

func TestDailyPostCapIsRateLimited(t *testing.T) {
	e := setup(t)
	reset := e.clk.Now().Add(20 * time.Hour)
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("x-rate-limit-remaining", "90")
		w.Header().Set("x-rate-limit-reset", strconv.FormatInt(e.clk.Now().Add(time.Minute).Unix(), 10))
		w.Header().Set("x-app-limit-24hour-limit", "1500")
		w.Header().Set("x-app-limit-24hour-remaining", "0")
		w.Header().Set("x-app-limit-24hour-reset", strconv.FormatInt(reset.Unix(), 10))
		problem(w, 429, "Too Many Requests", "Too Many Requests", "about:blank")
		return true
	})
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	ce := kindOf(t, err, connector.KindRateLimited)
	if !ce.RetryAt.Equal(reset) || ce.Scope != connector.ScopeApp {
		t.Fatalf("RetryAt %v scope %v", ce.RetryAt, ce.Scope)
	}
}

func TestServerErrorIsTransient(t *testing.T) {
	e := setup(t)
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		problem(w, 503, "Service Unavailable", "Service Unavailable", "about:blank")
		return true
	})
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	kindOf(t, err, connector.KindTransient)
	if !connector.Retryable(err) || len(e.f.requests) != 1 {
		t.Fatalf("requests=%d", len(e.f.requests))
	}
}

func TestTimeoutIsUnknownAndLookupReconciles(t *testing.T) {
	e := setup(t)
	// X stores the post, then the answer does not arrive before the
	// per-attempt timeout.
	e.f.setAfterCreate(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	short := New(connector.Options{Now: e.clk.Now, Sleep: e.clk.Sleep, Limiter: connector.NewLimiter(), Timeout: 100 * time.Millisecond})
	req := connector.PublishRequest{IdempotencyKey: "d-7", FirstAttemptAt: e.clk.Now(),
		Variant:   connector.Variant{Text: "Fahrt mit <Stil> & Komfort: https://bmw.de/very/long/path/x", Media: []connector.Media{png()}},
		InReplyTo: &connector.ReplyTarget{ExternalID: "1859999999999999990", Kind: connector.KindMention}}
	_, err := short.Publish(context.Background(), e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	e.f.setAfterCreate(nil)

	p, found, err := e.c.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || len(e.f.tweets) != 1 || p.ID != e.f.tweets[0].ID {
		t.Fatalf("lookup found=%v err=%v %+v", found, err, p)
	}
	q := e.f.last("GET", "/2/users/2244994945/tweets").Query
	if q.Get("start_time") != "2025-03-01T11:55:00Z" || q.Get("max_results") != "100" {
		t.Fatalf("lookup query %v", q)
	}
	// The same text as a top-level post was never sent.
	other := req
	other.InReplyTo = nil
	if _, found, err := e.c.Lookup(context.Background(), e.acct, other); err != nil || found {
		t.Fatalf("found=%v err=%v", found, err)
	}
	// A blind retry is refused by X as a duplicate; Publish reconciles.
	p2, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d-8",
		Variant: connector.Variant{Text: "nochmal"}})
	if err != nil {
		t.Fatal(err)
	}
	p3, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d-8",
		Variant: connector.Variant{Text: "nochmal"}})
	if err != nil || p3.ID != p2.ID || len(e.f.tweets) != 2 {
		t.Fatalf("duplicate retry: %v %s/%s tweets=%d", err, p3.ID, p2.ID, len(e.f.tweets))
	}
}

func TestOAuthAuthorizeExchangeAndProfile(t *testing.T) {
	e := setup(t)
	app := connector.App{ClientID: "cid-x", ClientSecret: "csec-x", RedirectURI: "https://hub.example/oauth/x/callback"}
	pkce := connector.NewPKCE()
	u, err := e.c.AuthorizeURL(&connector.Account{}, app, "st-1", pkce)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if pu.Host != "x.com" || pu.Path != "/i/oauth2/authorize" || q.Get("response_type") != "code" || q.Get("client_id") != "cid-x" ||
		q.Get("code_challenge") != pkce.Challenge || q.Get("code_challenge_method") != "S256" || q.Get("state") != "st-1" ||
		!strings.Contains(q.Get("scope"), "offline.access") || q.Get("redirect_uri") != app.RedirectURI {
		t.Fatalf("authorize URL %s", u)
	}
	if _, err := e.c.AuthorizeURL(&connector.Account{}, app, "st", connector.PKCE{}); err == nil {
		t.Fatal("X needs PKCE")
	}
	e.f.codes["code-ok"] = pkce.Challenge
	acct := &connector.Account{ChannelID: "ch-new", BaseURL: e.f.srv.URL}
	cr, err := e.c.Exchange(context.Background(), acct, app, "code-ok", pkce)
	if err != nil || cr.AccessToken.Reveal() != "tok-1" || cr.RefreshToken.Reveal() != "rt-2" || cr.ExpiresAt.IsZero() {
		t.Fatalf("exchange %+v %v", cr, err)
	}
	form, _ := url.ParseQuery(string(e.f.last("POST", "/2/oauth2/token").Body))
	if form.Get("grant_type") != "authorization_code" || form.Get("code_verifier") != pkce.Verifier || form.Get("redirect_uri") != app.RedirectURI {
		t.Fatalf("form %v", form)
	}
	// A used code is refused: start the flow again.
	_, err = e.c.Exchange(context.Background(), acct, app, "code-ok", pkce)
	kindOf(t, err, connector.KindReconnectNeeded)

	acct.Credentials = cr
	prof, err := e.c.Profile(context.Background(), acct)
	if err != nil || prof.ExternalID != "2244994945" || acct.ExternalID != "2244994945" || acct.Handle != "@vernetzen_hub" || prof.Followers != 4321 {
		t.Fatalf("profile %+v %v", prof, err)
	}
}

func TestCapabilitiesAgreeWithInterfaces(t *testing.T) {
	if err := connector.CheckCapabilities(New(connector.Options{})); err != nil {
		t.Fatal(err)
	}
}
