package facebook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
	c.Advance(d)
	return ctx.Err()
}
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	f    *fakeGraph
	c    *Connector
	acct *connector.Account
	clk  *fakeClock
}

func setup(t *testing.T) *env {
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := &env{clk: clk, f: newFakeGraph(t, clk.Now)}
	e.c = New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
	e.acct = &connector.Account{ChannelID: "ch-fb", BaseURL: e.f.srv.URL + "/v21.0", ExternalID: e.f.pageID,
		Credentials: connector.Credentials{AccessToken: "page-tok"},
		App:         connector.App{ClientID: "app-1", ClientSecret: "app-secret", VerifyToken: "verify-me"}}
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

func TestPublishTextLinkAndPhotos(t *testing.T) {
	e := setup(t)
	byURL := connector.Media{Kind: connector.MediaImage, ContentType: "image/jpeg", URL: "https://cdn.example/m3.jpg"}
	byBytes := connector.Media{Kind: connector.MediaImage, ContentType: "image/png", Filename: "ix3.png",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PNGDATA")), nil }}
	req := connector.PublishRequest{IdempotencyKey: "d-1", Variant: connector.Variant{Text: "Der neue M3", Link: "https://bmw.de/m3",
		Media: []connector.Media{byURL, byBytes}}}
	if ps := e.c.Validate(req.Variant); ps != nil {
		t.Fatalf("refused: %+v", ps)
	}
	p, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.f.posts) != 1 || p.ID != e.f.posts[0].ID || p.URL != "https://www.facebook.com/"+p.ID {
		t.Fatalf("%+v", p)
	}
	photos := e.f.all("POST", "/v21.0/"+e.f.pageID+"/photos")
	if len(photos) != 2 || photos[0].Form.Get("url") != byURL.URL || photos[0].Form.Get("published") != "false" ||
		!strings.Contains(string(photos[1].Body), `name="source"; filename="ix3.png"`) {
		t.Fatalf("photo uploads %+v", photos)
	}
	feed := e.f.last("POST", "/v21.0/"+e.f.pageID+"/feed")
	if feed.Form.Get("message") != "Der neue M3" || feed.Form.Get("link") != "https://bmw.de/m3" ||
		!strings.Contains(feed.Form.Get("attached_media[0]"), `"media_fbid"`) || feed.Form.Get("attached_media[1]") == "" {
		t.Fatalf("feed form %v", feed.Form)
	}
	if len(e.f.posts[0].Attached) != 2 {
		t.Fatalf("attached %v", e.f.posts[0].Attached)
	}
	if feed.Header.Get("Authorization") != "Bearer page-tok" || feed.Query.Get("appsecret_proof") != AppSecretProof("page-tok", "app-secret") {
		t.Fatalf("auth %v %v", feed.Header, feed.Query)
	}
	// Graph's own validation message comes back as Permanent.
	_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d-2"})
	if ce := kindOf(t, err, connector.KindPermanent); ce.Code != "100" || ce.Message != "(#100) The parameter message or link is required" {
		t.Fatalf("%+v", ce)
	}
}

func TestReplyToComment(t *testing.T) {
	e := setup(t)
	post := e.f.addPost("Hallo")
	cm := e.f.addComment(post, "", "9001", "Car Fan", "Wann kommt der iX3?")
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r-1",
		Variant: connector.Variant{Text: "Im Mai!"}, InReplyTo: &connector.ReplyTarget{ExternalID: cm, Kind: connector.KindComment}})
	if err != nil {
		t.Fatal(err)
	}
	rec := e.f.last("POST", "/v21.0/"+cm+"/comments")
	if rec.Form.Get("message") != "Im Mai!" || p.ID == "" {
		t.Fatalf("reply %v %+v", rec.Form, p)
	}
	if c := e.f.findComment(p.ID); c == nil || c.ParentID != cm || c.FromID != e.f.pageID {
		t.Fatalf("stored %+v", c)
	}
	_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r-2",
		Variant: connector.Variant{Text: "x"}, InReplyTo: &connector.ReplyTarget{ExternalID: "1", Kind: connector.KindDM}})
	kindOf(t, err, connector.KindPermanent)
}

func TestFetchCommentsPagesAcrossRestart(t *testing.T) {
	e := setup(t)
	a := e.f.addPost("Post A")
	b := e.f.addPost("Post B")
	e.clk.Advance(time.Minute)
	c1 := e.f.addComment(a, "", "9001", "Car Fan", "Schön!")
	e.clk.Advance(time.Minute)
	ours := e.f.addComment(a, c1, e.f.pageID, "BMW Niederlassung", "Danke!")
	e.clk.Advance(time.Minute)
	r1 := e.f.addComment(a, c1, "9002", "Ada", "Finde ich auch")
	e.clk.Advance(time.Minute)
	r2 := e.f.addComment(a, ours, "9001", "Car Fan", "Gern!")
	e.clk.Advance(time.Minute)
	c2 := e.f.addComment(b, "", "9003", "Bob", "Preis?")

	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range page.Items {
		ids = append(ids, it.ExternalID)
	}
	if strings.Join(ids, ",") != strings.Join([]string{c1, r1, r2, c2}, ",") || page.More {
		t.Fatalf("items %v (own %s must be left out), more=%v", ids, ours, page.More)
	}
	if it := page.Items[0]; it.Kind != connector.KindComment || it.InReplyTo != a || it.ThreadID != a || it.Author.Name != "Car Fan" ||
		it.Text != "Schön!" || !it.CreatedAt.Equal(time.Date(2025, 3, 1, 12, 1, 0, 0, time.UTC)) {
		t.Fatalf("comment %+v", it)
	}
	if it := page.Items[1]; it.Kind != connector.KindComment || it.InReplyTo != c1 {
		t.Fatalf("reply to someone else %+v", it)
	}
	if it := page.Items[2]; it.Kind != connector.KindReply || it.InReplyTo != ours {
		t.Fatalf("reply to the page %+v", it)
	}
	q := e.f.last("GET", "/v21.0/"+a+"/comments").Query
	if q.Get("filter") != "stream" || q.Get("order") != "chronological" || q.Get("limit") != "100" {
		t.Fatalf("comments query %v", q)
	}
	cursor := page.Cursor

	// Much later, 150 comments arrive on B while the hub is down; A is
	// unchanged.
	e.clk.Advance(time.Hour)
	var want []string
	for i := range 150 {
		want = append(want, e.f.addComment(b, "", "9004", "Eve", "Frage "+strconv.Itoa(i)))
	}
	e.clk.Advance(time.Hour)
	aReads := len(e.f.all("GET", "/v21.0/"+a+"/comments"))
	c2nd := New(connector.Options{Now: e.clk.Now, Limiter: connector.NewLimiter()})
	seen := map[string]bool{}
	for calls := 0; ; calls++ {
		if calls > 5 {
			t.Fatal("paging does not end")
		}
		page, err := c2nd.FetchInbound(context.Background(), e.acct, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if after := e.f.last("GET", "/v21.0/"+b+"/comments").Query.Get("after"); after == "" {
			t.Fatal("B read without its after cursor")
		}
		for _, it := range page.Items {
			if seen[it.ExternalID] || it.ExternalID == c2 {
				t.Fatalf("%s fetched twice", it.ExternalID)
			}
			seen[it.ExternalID] = true
		}
		cursor = page.Cursor
		if !page.More {
			break
		}
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("%s skipped", id)
		}
	}
	if len(seen) != 150 {
		t.Fatalf("%d items", len(seen))
	}
	// A was last read within the clock-skew margin of its updated_time,
	// so it is checked once more, then no longer while unchanged.
	if n := len(e.f.all("GET", "/v21.0/"+a+"/comments")); n > aReads+1 {
		t.Fatalf("unchanged post A read %d times", n-aReads)
	}
	aReads = len(e.f.all("GET", "/v21.0/"+a+"/comments"))
	// Idle: nothing new, and unchanged posts cost no request.
	e.clk.Advance(time.Hour)
	page, err = c2nd.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil || len(page.Items) != 0 || page.More {
		t.Fatalf("idle %+v %v", page, err)
	}
	if n := len(e.f.all("GET", "/v21.0/"+a+"/comments")); n != aReads {
		t.Fatalf("unchanged post A read again")
	}
	// A comment in the same second as the last read is still found.
	late := e.f.addComment(b, "", "9005", "Zoe", "spät")
	page, err = c2nd.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 1 || page.Items[0].ExternalID != late {
		t.Fatalf("late %+v %v", page, err)
	}
}

func TestMetricsAndDelete(t *testing.T) {
	e := setup(t)
	p := e.f.addPost("Hallo")
	e.f.posts[0].Reactions, e.f.posts[0].Shares, e.f.posts[0].Impres = 42, 5, 1200
	e.f.addComment(p, "", "9001", "Car Fan", "a")
	e.f.addComment(p, "", "9002", "Ada", "b")
	m, err := e.c.FetchMetrics(context.Background(), e.acct, []string{p, e.f.pageID + "_404"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Followers != 5200 || len(m.PostStats) != 1 || !m.At.Equal(e.clk.Now()) {
		t.Fatalf("%+v", m)
	}
	if ps := m.PostStats[0]; ps.ID != p || ps.Likes != 42 || ps.Shares != 5 || ps.Replies != 2 || ps.Impressions != 1200 {
		t.Fatalf("%+v", ps)
	}
	if q := e.f.last("GET", "/v21.0/"+e.f.pageID).Query; !strings.Contains(q.Get("fields"), "followers_count") || !strings.Contains(q.Get("fields"), "fan_count") {
		t.Fatalf("page fields %v", q)
	}
	// Without read_insights, impressions are unknown, not an error.
	e.f.noInsight = true
	m, err = e.c.FetchMetrics(context.Background(), e.acct, []string{p})
	if err != nil || m.PostStats[0].Impressions != -1 || m.PostStats[0].Likes != 42 {
		t.Fatalf("%+v %v", m, err)
	}
	if err := e.c.Delete(context.Background(), e.acct, p); err != nil || len(e.f.posts) != 0 {
		t.Fatalf("delete %v", err)
	}
	if err := e.c.Delete(context.Background(), e.acct, p); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestExpiredTokenNeedsReconnect(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken = "old-tok"
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindReconnectNeeded)
	if ce.Code != "190/463" || !strings.HasPrefix(ce.Message, "Error validating access token") {
		t.Fatalf("%+v", ce)
	}
	if len(e.f.requests) != 1 {
		t.Fatalf("%d requests", len(e.f.requests))
	}
}

func TestRateLimitCodesAndUsageHeaders(t *testing.T) {
	e := setup(t)
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-Business-Use-Case-Usage", `{"`+e.f.pageID+`":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":7}]}`)
		graphErr(w, 400, 32, 0, "OAuthException", "(#32) Page request limit reached")
		return true
	})
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindRateLimited)
	if !ce.RetryAt.Equal(e.clk.Now().Add(7*time.Minute)) || ce.Scope != connector.ScopeChannel || ce.Message != "(#32) Page request limit reached" {
		t.Fatalf("%+v", ce)
	}
	for range 3 {
		_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
		kindOf(t, err, connector.KindRateLimited)
	}
	if len(e.f.requests) != 1 {
		t.Fatalf("%d requests while limited", len(e.f.requests))
	}

	// The app-wide limit (code 4, X-App-Usage at 100%) blocks every channel.
	e2 := setup(t)
	e2.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-App-Usage", `{"call_count":100,"total_cputime":12,"total_time":14}`)
		graphErr(w, 403, 4, 0, "OAuthException", "(#4) Application request limit reached")
		return true
	})
	_, err = e2.c.FetchInbound(context.Background(), e2.acct, "")
	ce = kindOf(t, err, connector.KindRateLimited)
	if ce.Scope != connector.ScopeApp || !ce.RetryAt.Equal(e2.clk.Now().Add(AppUsageWait)) {
		t.Fatalf("%+v", ce)
	}
	other := *e2.acct
	other.ChannelID, other.ExternalID = "ch-other", "999"
	_, err = e2.c.FetchMetrics(context.Background(), &other, nil)
	kindOf(t, err, connector.KindRateLimited)
	if len(e2.f.requests) != 1 {
		t.Fatalf("%d requests while the app is limited", len(e2.f.requests))
	}
}

func TestServerErrorIsTransient(t *testing.T) {
	e := setup(t)
	e.f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		writeJSON(w, 500, map[string]any{"error": map[string]any{"message": "An unexpected error has occurred. Please retry your request later.",
			"type": "OAuthException", "is_transient": true, "code": 2, "fbtrace_id": "X"}})
		return true
	})
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	kindOf(t, err, connector.KindTransient)
	if len(e.f.requests) != 1 {
		t.Fatalf("a non-idempotent POST was retried: %d", len(e.f.requests))
	}
}

func TestTimeoutIsUnknownAndLookupReconciles(t *testing.T) {
	e := setup(t)
	e.f.setAfterPost(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	short := New(connector.Options{Now: e.clk.Now, Sleep: e.clk.Sleep, Limiter: connector.NewLimiter(), Timeout: 100 * time.Millisecond})
	req := connector.PublishRequest{IdempotencyKey: "d-7", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "Probefahrt  am Samstag"}}
	_, err := short.Publish(context.Background(), e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	e.f.setAfterPost(nil)

	p, found, err := e.c.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || p.ID != e.f.posts[0].ID {
		t.Fatalf("found=%v err=%v %+v", found, err, p)
	}
	if since := e.f.last("GET", "/v21.0/"+e.f.pageID+"/feed").Query.Get("since"); since != strconv.FormatInt(e.clk.Now().Add(-5*time.Minute).Unix(), 10) {
		t.Fatalf("since %q", since)
	}
	if _, found, err := e.c.Lookup(context.Background(), e.acct, connector.PublishRequest{Variant: connector.Variant{Text: "nie"}}); err != nil || found {
		t.Fatalf("found=%v err=%v", found, err)
	}
	// A reply is looked up among the page's answers to the comment.
	cm := e.f.addComment(p.ID, "", "9001", "Car Fan", "Uhrzeit?")
	rreq := connector.PublishRequest{IdempotencyKey: "r-7", Variant: connector.Variant{Text: "Ab 10 Uhr"},
		InReplyTo: &connector.ReplyTarget{ExternalID: cm, Kind: connector.KindComment}}
	if _, found, err := e.c.Lookup(context.Background(), e.acct, rreq); err != nil || found {
		t.Fatalf("before: found=%v err=%v", found, err)
	}
	r, err := e.c.Publish(context.Background(), e.acct, rreq)
	if err != nil {
		t.Fatal(err)
	}
	if got, found, err := e.c.Lookup(context.Background(), e.acct, rreq); err != nil || !found || got.ID != r.ID {
		t.Fatalf("after: found=%v err=%v", found, err)
	}
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestWebhookChallengeSignatureAndParse(t *testing.T) {
	e := setup(t)
	app := e.acct.App
	get := func(q string) *http.Request { return httptest.NewRequest("GET", "/hooks/facebook?"+q, nil) }
	if ch, ok := e.c.WebhookChallenge(get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"), app); !ok || ch != "1158201444" {
		t.Fatalf("challenge %q %v", ch, ok)
	}
	for _, q := range []string{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1",
		"hub.mode=subscribe&hub.verify_token=verify-me", ""} {
		if _, ok := e.c.WebhookChallenge(get(q), app); ok {
			t.Fatalf("accepted %q", q)
		}
	}
	if _, ok := e.c.WebhookChallenge(get("hub.mode=subscribe&hub.verify_token=&hub.challenge=1"), connector.App{}); ok {
		t.Fatal("accepted with no verify token configured")
	}

	body := []byte(`{"object":"page","entry":[{"id":"104000000000001","time":1740830400,"changes":[
{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"501_900","post_id":"104000000000001_501","parent_id":"104000000000001_501","message":"Top!","created_time":1740830400,"from":{"id":"9001","name":"Car Fan"}}},
{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"501_901","post_id":"104000000000001_501","parent_id":"501_900","message":"Danke","created_time":1740830401,"from":{"id":"104000000000001","name":"BMW"}}},
{"field":"feed","value":{"item":"reaction","verb":"add","post_id":"104000000000001_501","reaction_type":"like","from":{"id":"9002"}}},
{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"501_902","post_id":"104000000000001_501","parent_id":"501_900","message":"Ich auch","created_time":1740830402,"from":{"id":"9003","name":"Ada"}}}]}]}`)
	post := func(sig string, b []byte) *http.Request {
		r := httptest.NewRequest("POST", "/hooks/facebook", strings.NewReader(string(b)))
		if sig != "" {
			r.Header.Set("X-Hub-Signature-256", sig)
		}
		return r
	}
	if err := e.c.VerifyWebhook(post(sign("app-secret", body), body), body, app); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	tampered := []byte(strings.Replace(string(body), "Top!", "Flop", 1))
	for name, r := range map[string]*http.Request{
		"missing": post("", body), "wrong key": post(sign("other", body), body), "sha1": post("sha1="+strings.TrimPrefix(sign("app-secret", body), "sha256="), body),
		"not hex": post("sha256=zz", body), "tampered": post(sign("app-secret", body), tampered),
	} {
		b := body
		if name == "tampered" {
			b = tampered
		}
		if err := e.c.VerifyWebhook(r, b, app); err == nil {
			t.Fatalf("%s signature accepted", name)
		}
	}
	if err := e.c.VerifyWebhook(post(sign("", body), body), body, connector.App{}); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("no secret: %v", err)
	}
	// The dedicated webhook secret wins over the client secret.
	app2 := app
	app2.WebhookSecret = "hook-secret"
	if err := e.c.VerifyWebhook(post(sign("hook-secret", body), body), body, app2); err != nil {
		t.Fatal(err)
	}

	evs, err := e.c.ParseWebhook(body)
	if err != nil || len(evs) != 2 {
		t.Fatalf("%+v %v", evs, err)
	}
	if ev := evs[0]; ev.AccountExternalID != "104000000000001" || ev.Item.ExternalID != "501_900" || ev.Item.Kind != connector.KindComment ||
		ev.Item.InReplyTo != "104000000000001_501" || ev.Item.Author.Name != "Car Fan" || ev.Item.CreatedAt.Unix() != 1740830400 {
		t.Fatalf("%+v", ev)
	}
	if evs[1].Item.InReplyTo != "501_900" {
		t.Fatalf("%+v", evs[1])
	}
	if _, err := e.c.ParseWebhook([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func TestConnect(t *testing.T) {
	e := setup(t)
	saved := 0
	acct := &connector.Account{ChannelID: "ch-new", BaseURL: e.acct.BaseURL, App: e.acct.App,
		Credentials:     connector.Credentials{AccessToken: "page-tok"},
		SaveCredentials: func(context.Context, connector.Credentials) error { saved++; return nil }}
	prof, err := e.c.Connect(context.Background(), acct)
	if err != nil || prof.ExternalID != e.f.pageID || acct.ExternalID != e.f.pageID || prof.Followers != 5200 || acct.Handle != "BMW Niederlassung" || saved != 1 {
		t.Fatalf("%+v %v", prof, err)
	}
	e.f.last("GET", "/v21.0/me")
	acct.Credentials.AccessToken = "bad"
	_, err = e.c.Connect(context.Background(), acct)
	kindOf(t, err, connector.KindReconnectNeeded)
}

func TestValidateAndCapabilities(t *testing.T) {
	c := New(connector.Options{})
	if err := connector.CheckCapabilities(c); err != nil {
		t.Fatal(err)
	}
	if ps := c.Validate(connector.Variant{Link: "https://bmw.de"}); ps != nil {
		t.Fatalf("link only: %+v", ps)
	}
	if ps := c.Validate(connector.Variant{}); len(ps) != 1 || ps[0].Code != "required" {
		t.Fatalf("empty: %+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: strings.Repeat("ä", MaxChars+1)}); len(ps) != 1 || ps[0].Code != "too_long" {
		t.Fatalf("long: %+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: "x", Media: []connector.Media{{Kind: connector.MediaVideo, ContentType: "video/mp4"}}}); len(ps) != 1 {
		t.Fatalf("video: %+v", ps)
	}
}
