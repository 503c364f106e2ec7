package youtube

import (
	"bytes"
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
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	f     *fakeYouTube
	c     *Connector
	acct  *connector.Account
	clk   *fakeClock
	saved []connector.Credentials
}

const chunk = 256 << 10

func setup(t *testing.T) *env {
	clk := &fakeClock{t: time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC)}
	e := &env{clk: clk, f: newFakeYouTube(t, clk.Now)}
	e.c = newTestConnector(clk)
	e.acct = &connector.Account{ChannelID: "ch-yt", BaseURL: e.f.srv.URL, ExternalID: e.f.channel,
		Credentials: connector.Credentials{AccessToken: "ya29.good", RefreshToken: "1//rt"},
		App:         connector.App{ClientID: "cid.apps.googleusercontent.com", ClientSecret: "GOCSPX-secret"},
		SaveCredentials: func(ctx context.Context, c connector.Credentials) error {
			e.saved = append(e.saved, c)
			return nil
		}}
	return e
}

func newTestConnector(clk *fakeClock) *Connector {
	c := New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
	c.chunk = chunk
	return c
}

func kindOf(t *testing.T, err error, want connector.Kind) *connector.Error {
	t.Helper()
	var e *connector.Error
	if !errors.As(err, &e) || e.Kind != want {
		t.Fatalf("error %v: want kind %s", err, want)
	}
	return e
}

func clip(n int) ([]byte, connector.Media) {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return data, connector.Media{Kind: connector.MediaVideo, ContentType: "video/mp4", Filename: "m3.mp4", Size: int64(n),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func TestResumableUploadInChunks(t *testing.T) {
	e := setup(t)
	data, m := clip(2*chunk + 1000)
	req := connector.PublishRequest{IdempotencyKey: "d", Variant: connector.Variant{Text: "Der neue M3 im Test\nAlle Details: https://bmw.de/m3", Media: []connector.Media{m}}}
	if ps := e.c.Validate(req.Variant); ps != nil {
		t.Fatalf("%+v", ps)
	}
	p, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.f.videos) != 1 || p.ID != e.f.videos[0].ID || p.URL != "https://www.youtube.com/watch?v="+p.ID || !bytes.Equal(e.f.videos[0].Data, data) {
		t.Fatalf("%+v", p)
	}
	init := e.f.last("POST", "/upload/youtube/v3/videos")
	if init.Header.Get("X-Upload-Content-Length") != strconv.Itoa(len(data)) || init.Header.Get("X-Upload-Content-Type") != "video/mp4" ||
		init.Header.Get("Authorization") != "Bearer ya29.good" {
		t.Fatalf("%v", init.Header)
	}
	var meta map[string]map[string]any
	json.Unmarshal(init.Body, &meta)
	if meta["snippet"]["title"] != "Der neue M3 im Test" || meta["snippet"]["description"] != req.Variant.Text || meta["status"]["privacyStatus"] != "public" {
		t.Fatalf("%v", meta)
	}
	puts := e.f.all("PUT", "/upload/youtube/v3/videos")
	var ranges []string
	for _, p := range puts {
		ranges = append(ranges, p.Header.Get("Content-Range"))
	}
	want := []string{"bytes 0-262143/525288", "bytes 262144-524287/525288", "bytes 524288-525287/525288"}
	if strings.Join(ranges, "|") != strings.Join(want, "|") {
		t.Fatalf("ranges %v", ranges)
	}
}

func TestUploadResumesAfterInterruption(t *testing.T) {
	e := setup(t)
	data, m := clip(2*chunk + 1000)
	e.f.set(func() {
		e.f.onChunk = func(n int, s *session, body []byte) (int, bool) {
			if n == 2 {
				return 1000, true // the connection drops after 1000 bytes of the second chunk
			}
			return len(body), false
		}
	})
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d", Variant: connector.Variant{Text: "Clip", Media: []connector.Media{m}}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.f.videos[0].Data, data) || p.ID != e.f.videos[0].ID || e.f.statusQs != 1 {
		t.Fatalf("data intact=%v status queries=%d", bytes.Equal(e.f.videos[0].Data, data), e.f.statusQs)
	}
	puts := e.f.all("PUT", "/upload/youtube/v3/videos")
	if got := puts[2].Header.Get("Content-Range"); got != "bytes */525288" {
		t.Fatalf("status query %q", got)
	}
	if got := puts[3].Header.Get("Content-Range"); got != "bytes 263144-525287/525288" && !strings.HasPrefix(got, "bytes 263144-") {
		t.Fatalf("resume %q", got)
	}
}

func TestLostFinalAnswerIsRecoveredFromTheSession(t *testing.T) {
	e := setup(t)
	_, m := clip(chunk)
	e.f.set(func() {
		e.f.onChunk = func(n int, s *session, body []byte) (int, bool) { return len(body), true }
	})
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d", Variant: connector.Variant{Text: "Clip", Media: []connector.Media{m}}})
	if err != nil || len(e.f.videos) != 1 || p.ID != e.f.videos[0].ID {
		t.Fatalf("%v videos=%d", err, len(e.f.videos))
	}
}

func TestUnknownUploadIsReconciledByLookup(t *testing.T) {
	e := setup(t)
	_, m := clip(chunk)
	e.f.set(func() {
		e.f.onChunk = func(n int, s *session, body []byte) (int, bool) { return len(body), true }
		e.f.onStatus = func(int) bool { return true }
	})
	req := connector.PublishRequest{IdempotencyKey: "d", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "Sommerfest 2025\nBilder vom Fest", Media: []connector.Media{m}}}
	_, err := e.c.Publish(context.Background(), e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	p, found, err := e.c.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || p.ID != e.f.videos[0].ID {
		t.Fatalf("%v %v %+v", found, err, p)
	}
	if e.f.last("GET", "/youtube/v3/playlistItems").Query.Get("playlistId") != "UUvernetzen0000000000000" {
		t.Fatal("uploads playlist not used")
	}
	other := req
	other.Variant.Text = "Anderes Video"
	if _, found, err := e.c.Lookup(context.Background(), e.acct, other); err != nil || found {
		t.Fatalf("%v %v", found, err)
	}
}

func TestValidate(t *testing.T) {
	c := New(connector.Options{})
	_, m := clip(10)
	if ps := c.Validate(connector.Variant{Text: "nur Text"}); len(ps) != 1 || ps[0].Code != "required" {
		t.Fatalf("%+v", ps)
	}
	if ps := c.Validate(connector.Variant{Media: []connector.Media{m}}); len(ps) != 1 || ps[0].Field != "text" {
		t.Fatalf("%+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: "a <b>", Media: []connector.Media{m}}); len(ps) != 1 || ps[0].Code != "invalid_character" {
		t.Fatalf("%+v", ps)
	}
	if got := titleOf("\n  " + strings.Repeat("x", 150) + "\nrest"); len([]rune(got)) != MaxTitle {
		t.Fatalf("%q", got)
	}
	if err := connector.CheckCapabilities(c); err != nil {
		t.Fatal(err)
	}
}

func TestReplyToComment(t *testing.T) {
	e := setup(t)
	top := e.f.addComment("vid1", "UCfan", "Fan", "Super!")
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r", Variant: connector.Variant{Text: "Danke!"},
		InReplyTo: &connector.ReplyTarget{ExternalID: top + ".reply7", ThreadID: "vid1"}})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]map[string]string
	json.Unmarshal(e.f.last("POST", "/youtube/v3/comments").Body, &body)
	if body["snippet"]["parentId"] != top || body["snippet"]["textOriginal"] != "Danke!" || !strings.HasPrefix(p.ID, top+".") ||
		!strings.Contains(p.URL, "watch?v=vid1&lc=") {
		t.Fatalf("%v %+v", body, p)
	}
	req := connector.PublishRequest{Variant: connector.Variant{Text: "Danke!"}, InReplyTo: &connector.ReplyTarget{ExternalID: top}}
	if got, found, err := e.c.Lookup(context.Background(), e.acct, req); err != nil || !found || got.ID != p.ID {
		t.Fatalf("%v %v", found, err)
	}
}

func TestFetchCommentsAcrossRestart(t *testing.T) {
	e := setup(t)
	old := e.f.addComment("vid1", "UCfan", "Fan", "alt")
	e.clk.Advance(time.Second)
	first := e.f.addComment("vid1", "UCfan", "Fan", "Erster")
	own := e.f.addComment("vid1", e.f.channel, "Vernetzen", "Danke euch")
	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].ExternalID != old || page.Items[1].ExternalID != first || page.More {
		t.Fatalf("start %+v (own %s excluded)", page.Items, own)
	}
	if it := page.Items[1]; it.Kind != connector.KindComment || it.InReplyTo != "vid1" || it.Author.Name != "Fan" || it.Author.ExternalID != "UCfan" ||
		it.Text != "Erster" || it.URL != "https://www.youtube.com/watch?v=vid1&lc="+first {
		t.Fatalf("%+v", it)
	}
	cursor := page.Cursor

	// 250 comments arrive while the hub is down, several per second.
	var want []string
	for i := range 250 {
		if i%3 == 0 {
			e.clk.Advance(time.Second)
		}
		want = append(want, e.f.addComment("vid"+strconv.Itoa(i%4), "UCx"+strconv.Itoa(i), "User", "Frage "+strconv.Itoa(i)))
	}
	c2 := newTestConnector(e.clk)
	seen := map[string]bool{}
	late := ""
	for calls := 0; ; calls++ {
		if calls > 10 {
			t.Fatal("no end")
		}
		page, err := c2.FetchInbound(context.Background(), e.acct, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if calls > 0 && e.f.last("GET", "/youtube/v3/commentThreads").Query.Get("pageToken") == "" {
			t.Fatal("backlog page without pageToken")
		}
		for i, it := range page.Items {
			if seen[it.ExternalID] || it.ExternalID == first || it.ExternalID == old {
				t.Fatalf("%s twice", it.ExternalID)
			}
			if i > 0 && it.CreatedAt.Before(page.Items[i-1].CreatedAt) {
				t.Fatal("page not oldest first")
			}
			seen[it.ExternalID] = true
		}
		cursor = page.Cursor
		if calls == 0 {
			late = e.f.addComment("vid1", "UClate", "Late", "mitten drin") // shifts the pages
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
		t.Fatalf("%d", len(seen))
	}
	page, err = c2.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil || len(page.Items) != 1 || page.Items[0].ExternalID != late {
		t.Fatalf("%+v %v", page.Items, err)
	}
	page, err = c2.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 0 || page.More {
		t.Fatalf("idle %+v %v", page.Items, err)
	}
}

func TestMetricsAndDelete(t *testing.T) {
	e := setup(t)
	_, m := clip(100)
	p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "d", Variant: connector.Variant{Text: "V", Media: []connector.Media{m}}})
	if err != nil {
		t.Fatal(err)
	}
	e.f.videos[0].Views, e.f.videos[0].Likes, e.f.videos[0].Comments = 1234, 56, 7
	got, err := e.c.FetchMetrics(context.Background(), e.acct, []string{p.ID, "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Followers != 1500 || got.Posts != 1 || len(got.PostStats) != 1 {
		t.Fatalf("%+v", got)
	}
	if ps := got.PostStats[0]; ps.Likes != 56 || ps.Replies != 7 || ps.Impressions != 1234 || ps.Shares != -1 {
		t.Fatalf("%+v", ps)
	}
	if q := e.f.last("GET", "/youtube/v3/channels").Query; q.Get("part") != "statistics" || q.Get("id") != e.f.channel {
		t.Fatalf("%v", q)
	}
	if err := e.c.Delete(context.Background(), e.acct, p.ID); err != nil || len(e.f.videos) != 0 {
		t.Fatal(err)
	}
	if err := e.c.Delete(context.Background(), e.acct, p.ID); err != nil {
		t.Fatalf("twice: %v", err)
	}
}

func TestExpiredTokenRefreshesOnceAndRetries(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken = "ya29.expired"
	if _, err := e.c.FetchMetrics(context.Background(), e.acct, nil); err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(string(e.f.last("POST", "/token").Body))
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "1//rt" || form.Get("client_id") != "cid.apps.googleusercontent.com" {
		t.Fatalf("%v", form)
	}
	if n := len(e.f.all("GET", "/youtube/v3/channels")); n != 2 || e.f.last("GET", "/youtube/v3/channels").Header.Get("Authorization") != "Bearer ya29.new1" {
		t.Fatalf("%d", n)
	}
	if len(e.saved) != 1 || e.saved[0].RefreshToken.Reveal() != "1//rt" || !e.saved[0].ExpiresAt.Equal(e.clk.Now().Add(3599*time.Second)) {
		t.Fatalf("%+v", e.saved)
	}
	// Expired by the clock: refreshed before the request.
	e.clk.Advance(time.Hour)
	if _, err := e.c.FetchMetrics(context.Background(), e.acct, nil); err != nil {
		t.Fatal(err)
	}
	if len(e.f.all("POST", "/token")) != 2 || len(e.f.all("GET", "/youtube/v3/channels")) != 3 {
		t.Fatal("no proactive refresh")
	}
}

func TestRefreshRefusedNeedsReconnect(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken, e.acct.Credentials.RefreshToken = "ya29.expired", "1//revoked"
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if ce := kindOf(t, err, connector.KindReconnectNeeded); ce.Code != "invalid_grant" || e.acct.Credentials.RefreshToken.Reveal() != "1//revoked" {
		t.Fatalf("%+v", ce)
	}
}

func TestQuotaExceededBlocksAppUntilMidnightPacific(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			gErr(w, 403, "quotaExceeded", "youtube.quota", "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.")
			return true
		}
	})
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindRateLimited)
	// 20:00 UTC on 1 March 2025 is 12:00 PST; the quota resets at 08:00 UTC on 2 March.
	if !ce.RetryAt.Equal(time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)) || ce.Scope != connector.ScopeApp {
		t.Fatalf("%v %v", ce.RetryAt, ce.Scope)
	}
	other := *e.acct
	other.ChannelID = "ch-other"
	_, err = e.c.FetchMetrics(context.Background(), &other, nil)
	kindOf(t, err, connector.KindRateLimited)
	if len(e.f.requests) != 1 {
		t.Fatalf("%d requests", len(e.f.requests))
	}
	// In summer (PDT) midnight Pacific is 07:00 UTC.
	if got := nextPacificMidnight(time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2025, 7, 2, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("%v", got)
	}
}

func TestServerErrorIsTransientAfterBackoff(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			gErr(w, 503, "backendError", "global", "Backend Error")
			return true
		}
	})
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	kindOf(t, err, connector.KindTransient)
	if n := len(e.f.requests); n != 3 || e.clk.sleeps != 2 {
		t.Fatalf("requests=%d sleeps=%d: an idempotent GET is retried with backoff", n, e.clk.sleeps)
	}
}

func TestOAuth(t *testing.T) {
	e := setup(t)
	app := connector.App{ClientID: "cid.apps.googleusercontent.com", ClientSecret: "GOCSPX-secret", RedirectURI: "https://hub.example/oauth/youtube/callback"}
	pkce := connector.NewPKCE()
	u, _ := e.c.AuthorizeURL(nil, app, "st", pkce)
	pu, _ := url.Parse(u)
	q := pu.Query()
	if pu.Host != "accounts.google.com" || q.Get("access_type") != "offline" || q.Get("code_challenge") != pkce.Challenge ||
		q.Get("code_challenge_method") != "S256" || !strings.Contains(q.Get("scope"), "youtube.upload") {
		t.Fatalf("%s", u)
	}
	e.f.set(func() { e.f.codes["4/code"] = pkce.Verifier })
	acct := &connector.Account{ChannelID: "new", BaseURL: e.f.srv.URL}
	cr, err := e.c.Exchange(context.Background(), acct, app, "4/code", pkce)
	if err != nil || cr.RefreshToken.Reveal() != "1//rt" || cr.AccessToken.Reveal() == "" {
		t.Fatalf("%+v %v", cr, err)
	}
	acct.Credentials = cr
	prof, err := e.c.Profile(context.Background(), acct)
	if err != nil || prof.ExternalID != e.f.channel || prof.Followers != 1500 || acct.Handle != "@vernetzen" {
		t.Fatalf("%+v %v", prof, err)
	}
	_, err = e.c.Exchange(context.Background(), acct, app, "4/code", pkce)
	kindOf(t, err, connector.KindReconnectNeeded)
}
