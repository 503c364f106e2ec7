package linkedin

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
	c.Advance(d)
	return ctx.Err()
}
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	f     *fakeLinkedIn
	c     *Connector
	acct  *connector.Account
	clk   *fakeClock
	saved []connector.Credentials
}

func setup(t *testing.T) *env {
	clk := &fakeClock{t: time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC)}
	e := &env{clk: clk, f: newFakeLinkedIn(t, clk.Now)}
	e.c = New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
	e.acct = &connector.Account{ChannelID: "ch-li", BaseURL: e.f.srv.URL, ExternalID: "2414183",
		Credentials: connector.Credentials{AccessToken: "tok-good", RefreshToken: "rt-1"},
		App:         connector.App{ClientID: "cid-li", ClientSecret: "csec-li"},
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

func TestPublishTextWithHeadersAndEscaping(t *testing.T) {
	e := setup(t)
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d",
		Variant: connector.Variant{Text: "Neu: der M3 (2025) #bmw @team_a"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != e.f.posts[0].URN || !strings.HasPrefix(p.ID, "urn:li:share:") || p.URL != "https://www.linkedin.com/feed/update/"+p.ID+"/" {
		t.Fatalf("%+v", p)
	}
	rec := e.f.last("POST", "/rest/posts")
	if rec.Header.Get("Linkedin-Version") != DefaultVersion || rec.Header.Get("X-Restli-Protocol-Version") != "2.0.0" ||
		rec.Header.Get("Authorization") != "Bearer tok-good" {
		t.Fatalf("headers %v", rec.Header)
	}
	var body map[string]any
	json.Unmarshal(rec.Body, &body)
	if body["author"] != "urn:li:organization:2414183" || body["commentary"] != `Neu: der M3 \(2025\) \#bmw \@team\_a` ||
		body["visibility"] != "PUBLIC" || body["lifecycleState"] != "PUBLISHED" ||
		body["distribution"].(map[string]any)["feedDistribution"] != "MAIN_FEED" || body["content"] != nil {
		t.Fatalf("body %v", body)
	}
}

func TestPublishLinkAndImage(t *testing.T) {
	e := setup(t)
	if _, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "l",
		Variant: connector.Variant{Text: "Lesen", Link: "https://bmw.de/news/m3"}}); err != nil {
		t.Fatal(err)
	}
	art := e.f.posts[0].Content["article"].(map[string]any)
	if art["source"] != "https://bmw.de/news/m3" || art["title"] != "bmw.de" {
		t.Fatalf("%v", e.f.posts[0].Content)
	}
	img := connector.Media{Kind: connector.MediaImage, ContentType: "image/png", AltText: "Blauer M3",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PNGBYTES")), nil }}
	if _, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "i",
		Variant: connector.Variant{Text: "Bild", Media: []connector.Media{img}}}); err != nil {
		t.Fatal(err)
	}
	media := e.f.posts[1].Content["media"].(map[string]any)
	id := strings.TrimPrefix(media["id"].(string), "urn:li:image:C4E")
	if string(e.f.images[id]) != "PNGBYTES" || media["altText"] != "Blauer M3" {
		t.Fatalf("%v %q", media, e.f.images[id])
	}
	if put := e.f.last("PUT", "/dms-uploads/"+id); put.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("%v", put.Header)
	}
}

func TestReply(t *testing.T) {
	e := setup(t)
	post := e.f.addPost("Hallo")
	cm := e.f.addComment(post, "", "urn:li:person:abc", "Frage?")
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r",
		Variant: connector.Variant{Text: "Antwort"}, InReplyTo: &connector.ReplyTarget{ExternalID: cm, Kind: connector.KindComment}})
	if err != nil {
		t.Fatal(err)
	}
	rec := e.f.last("POST", "/rest/socialActions/"+cm+"/comments")
	if !strings.Contains(rec.RawPath, url.QueryEscape(cm)) {
		t.Fatalf("path not encoded: %q", rec.RawPath)
	}
	if !strings.HasPrefix(p.ID, "urn:li:comment:(") || e.f.comments[1].Parent != cm || e.f.comments[1].Actor != e.f.org {
		t.Fatalf("%+v %+v", p, e.f.comments[1])
	}
}

func TestFetchCommentsAcrossRestart(t *testing.T) {
	e := setup(t)
	a := e.f.addPost("A")
	b := e.f.addPost("B")
	e.clk.Advance(time.Minute)
	c1 := e.f.addComment(a, "", "urn:li:person:p1", "Schön")
	e.clk.Advance(time.Minute)
	own := e.f.addComment(a, c1, e.f.org, "Danke")
	e.clk.Advance(time.Minute)
	r1 := e.f.addComment(a, own, "urn:li:person:p1", "Gern")
	e.clk.Advance(time.Minute)
	c2 := e.f.addComment(b, "", "urn:li:person:p2", "Preis?")

	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[0].ExternalID != c1 || page.Items[1].ExternalID != r1 || page.Items[2].ExternalID != c2 {
		t.Fatalf("%+v", page.Items)
	}
	if it := page.Items[1]; it.Kind != connector.KindReply || it.InReplyTo != own || it.ThreadID != a || it.Author.ExternalID != "urn:li:person:p1" {
		t.Fatalf("%+v", it)
	}
	if it := page.Items[0]; it.Kind != connector.KindComment || it.InReplyTo != a || it.Text != "Schön" {
		t.Fatalf("%+v", it)
	}
	cursor := page.Cursor

	var want []string
	for i := range 120 {
		if i%5 == 0 {
			e.clk.Advance(time.Second)
		}
		want = append(want, e.f.addComment(b, "", "urn:li:person:p9", "Frage "+strconv.Itoa(i)))
	}
	aBefore := len(e.f.all("GET", "/rest/socialActions/"+a+"/comments"))
	c2nd := New(connector.Options{Now: e.clk.Now, Limiter: connector.NewLimiter()})
	page, err = c2nd.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range page.Items {
		if seen[it.ExternalID] || it.ExternalID == c2 {
			t.Fatalf("%s twice", it.ExternalID)
		}
		seen[it.ExternalID] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("%s skipped", id)
		}
	}
	if len(seen) != 120 {
		t.Fatalf("%d", len(seen))
	}
	if n := len(e.f.all("GET", "/rest/socialActions/"+b+"/comments")); n < 4 {
		t.Fatalf("B read in %d requests; want pages of 50", n)
	}
	// Unchanged post A: one request (its total), no second page.
	if n := len(e.f.all("GET", "/rest/socialActions/"+a+"/comments")); n != aBefore+1 {
		t.Fatalf("A read %d times", n-aBefore)
	}
	late := e.f.addComment(b, "", "urn:li:person:p3", "spät")
	page, err = c2nd.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 1 || page.Items[0].ExternalID != late {
		t.Fatalf("%+v %v", page.Items, err)
	}
	page, err = c2nd.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("idle %+v %v", page.Items, err)
	}
}

func TestMetricsAndDelete(t *testing.T) {
	e := setup(t)
	p := e.f.addPost("A")
	e.f.posts[0].Impressions, e.f.posts[0].Likes, e.f.posts[0].Shares = 5000, 80, 7
	e.f.addComment(p, "", "urn:li:person:p1", "x")
	m, err := e.c.FetchMetrics(context.Background(), e.acct, []string{p, "urn:li:share:1"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Followers != 12345 || len(m.PostStats) != 1 {
		t.Fatalf("%+v", m)
	}
	if ps := m.PostStats[0]; ps.ID != p || ps.Impressions != 5000 || ps.Likes != 80 || ps.Shares != 7 || ps.Replies != 1 {
		t.Fatalf("%+v", ps)
	}
	if rq := e.f.last("GET", "/rest/organizationalEntityShareStatistics").RawQuery; !strings.Contains(rq, "shares=List(urn%3Ali%3Ashare%3A") {
		t.Fatalf("%s", rq)
	}
	if err := e.c.Delete(context.Background(), e.acct, p); err != nil || len(e.f.posts) != 0 {
		t.Fatalf("%v", err)
	}
	if err := e.c.Delete(context.Background(), e.acct, p); err != nil {
		t.Fatalf("twice: %v", err)
	}
}

func TestExpiredTokenRefreshesOnceAndRetries(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken = "tok-expired"
	if _, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.f.all("POST", "/rest/posts")); n != 2 || len(e.f.posts) != 1 {
		t.Fatalf("posts requests %d", n)
	}
	form, _ := url.ParseQuery(string(e.f.last("POST", "/oauth/v2/accessToken").Body))
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "rt-1" || form.Get("client_secret") != "csec-li" {
		t.Fatalf("%v", form)
	}
	if e.f.last("POST", "/rest/posts").Header.Get("Authorization") != "Bearer tok-1" {
		t.Fatal("retry without the new token")
	}
	// LinkedIn returned no refresh token: the old one is kept and saved.
	if len(e.saved) != 1 || e.saved[0].RefreshToken.Reveal() != "rt-1" || e.saved[0].AccessToken.Reveal() != "tok-1" ||
		!e.saved[0].ExpiresAt.Equal(e.clk.Now().Add(5183999*time.Second)) {
		t.Fatalf("%+v", e.saved)
	}
}

func TestRefreshRefusedNeedsReconnect(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken, e.acct.Credentials.RefreshToken = "tok-expired", "rt-revoked"
	_, err := e.c.FetchMetrics(context.Background(), e.acct, nil)
	ce := kindOf(t, err, connector.KindReconnectNeeded)
	if !strings.Contains(ce.Message, "refresh token is invalid") || e.acct.Credentials.RefreshToken.Reveal() != "rt-revoked" || len(e.saved) != 0 {
		t.Fatalf("%+v", ce)
	}
}

func TestRateLimitedUntilMidnightUTC(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			liErr(w, 429, 101, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")
			return true
		}
	})
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindRateLimited)
	if !ce.RetryAt.Equal(time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%v", ce.RetryAt)
	}
	_, err = e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	kindOf(t, err, connector.KindRateLimited)
	if len(e.f.requests) != 1 {
		t.Fatalf("%d requests", len(e.f.requests))
	}
}

func TestServerErrorIsTransient(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			liErr(w, 503, 0, "SERVICE_UNAVAILABLE", "Service Unavailable")
			return true
		}
	})
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Text: "x"}})
	kindOf(t, err, connector.KindTransient)
	if len(e.f.requests) != 1 {
		t.Fatal("POST retried")
	}
}

func TestTimeoutIsUnknownAndLookupReconciles(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.afterCreate = func(w http.ResponseWriter, r *http.Request) bool { <-r.Context().Done(); return true }
	})
	short := New(connector.Options{Now: e.clk.Now, Sleep: e.clk.Sleep, Limiter: connector.NewLimiter(), Timeout: 100 * time.Millisecond})
	req := connector.PublishRequest{IdempotencyKey: "d", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "Event (Samstag) #bmw"}}
	_, err := short.Publish(context.Background(), e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	e.f.set(func() { e.f.afterCreate = nil })
	p, found, err := e.c.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || p.ID != e.f.posts[0].URN {
		t.Fatalf("%v %v %+v", found, err, p)
	}
	if _, found, err := e.c.Lookup(context.Background(), e.acct, connector.PublishRequest{Variant: connector.Variant{Text: "nie"}}); err != nil || found {
		t.Fatalf("%v %v", found, err)
	}
	cm := e.f.addComment(p.ID, "", "urn:li:person:p1", "?")
	rreq := connector.PublishRequest{Variant: connector.Variant{Text: "Ja!"}, InReplyTo: &connector.ReplyTarget{ExternalID: cm}}
	if _, found, _ := e.c.Lookup(context.Background(), e.acct, rreq); found {
		t.Fatal("reply found before sending")
	}
	r, err := e.c.Publish(context.Background(), e.acct, rreq)
	if err != nil {
		t.Fatal(err)
	}
	if got, found, err := e.c.Lookup(context.Background(), e.acct, rreq); err != nil || !found || got.ID != r.ID {
		t.Fatalf("%v %v", found, err)
	}
}

func TestOAuth(t *testing.T) {
	e := setup(t)
	app := connector.App{ClientID: "cid-li", ClientSecret: "csec-li", RedirectURI: "https://hub.example/oauth/linkedin/callback"}
	u, err := e.c.AuthorizeURL(&connector.Account{}, app, "st", connector.PKCE{})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if pu.Host != "www.linkedin.com" || pu.Path != "/oauth/v2/authorization" || pu.Query().Get("client_id") != "cid-li" ||
		pu.Query().Get("scope") != strings.Join(DefaultScopes, " ") || pu.Query().Get("state") != "st" {
		t.Fatalf("%s", u)
	}
	e.f.set(func() { e.f.codes["code-ok"] = true })
	cr, err := e.c.Exchange(context.Background(), &connector.Account{BaseURL: e.f.srv.URL}, app, "code-ok", connector.PKCE{})
	if err != nil || cr.AccessToken.Reveal() != "tok-1" || cr.RefreshToken.Reveal() != "rt-1" || len(cr.Scopes) != 2 {
		t.Fatalf("%+v %v", cr, err)
	}
	_, err = e.c.Exchange(context.Background(), &connector.Account{BaseURL: e.f.srv.URL}, app, "code-ok", connector.PKCE{})
	kindOf(t, err, connector.KindReconnectNeeded)
}

func TestValidateAndCapabilities(t *testing.T) {
	c := New(connector.Options{})
	if err := connector.CheckCapabilities(c); err != nil {
		t.Fatal(err)
	}
	if ps := c.Validate(connector.Variant{Text: strings.Repeat("ß", 3000)}); ps != nil {
		t.Fatalf("%+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: strings.Repeat("ß", 3001)}); len(ps) != 1 || ps[0].Code != "too_long" {
		t.Fatalf("%+v", ps)
	}
	if got := unescapeLittleText(escapeLittleText(`a\b (c) #d`)); got != `a\b (c) #d` {
		t.Fatalf("%q", got)
	}
}

// After a sign-in, Profile finds the organisation page the channel is,
// by its vanity name among the pages the member administers.
func TestProfileFindsTheChannelsOrganisation(t *testing.T) {
	e := setup(t)
	acct := &connector.Account{ChannelID: "ch-li-2", BaseURL: e.f.srv.URL, Handle: "BMW-Group", Credentials: e.acct.Credentials}
	p, err := e.c.Profile(context.Background(), acct)
	if err != nil || p.ExternalID != "2414183" || acct.ExternalID != "2414183" || p.Handle != "bmw-group" {
		t.Fatalf("%+v %v (account %q)", p, err, acct.ExternalID)
	}
	r := e.f.last("GET", "/rest/organizationAcls")
	if r.Header.Get("Linkedin-Version") == "" || r.Header.Get("Authorization") != "Bearer tok-good" {
		t.Fatalf("headers: %v", r.Header)
	}
	acct = &connector.Account{ChannelID: "ch-li-3", BaseURL: e.f.srv.URL, Handle: "mini", Credentials: e.acct.Credentials}
	if _, err := e.c.Profile(context.Background(), acct); connector.KindOf(err) != connector.KindPermanent {
		t.Fatalf("a page the member does not administer: %v", err)
	}
}
