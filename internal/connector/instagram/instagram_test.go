package instagram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	f    *fakeIG
	c    *Connector
	acct *connector.Account
	clk  *fakeClock
}

func setup(t *testing.T) *env {
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := &env{clk: clk, f: newFakeIG(t, clk.Now)}
	e.c = New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
	e.acct = &connector.Account{ChannelID: "ch-ig", BaseURL: e.f.srv.URL + "/v21.0", ExternalID: e.f.igID, Handle: "@bmw_nl",
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

func jpeg() connector.Media {
	return connector.Media{Kind: connector.MediaImage, ContentType: "image/jpeg", URL: "https://cdn.example/m3.jpg", AltText: "Ein blauer M3"}
}

func TestPublishImageThroughContainer(t *testing.T) {
	e := setup(t)
	req := connector.PublishRequest{IdempotencyKey: "d-1", Variant: connector.Variant{Text: "Der neue M3 #bmw #m3", Media: []connector.Media{jpeg()}}}
	p, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.f.media) != 1 || p.ID != e.f.media[0].ID || p.URL != "https://www.instagram.com/p/"+p.ID+"/" {
		t.Fatalf("%+v", p)
	}
	cr := e.f.last("POST", "/v21.0/"+e.f.igID+"/media")
	if cr.Form.Get("image_url") != "https://cdn.example/m3.jpg" || cr.Form.Get("caption") != "Der neue M3 #bmw #m3" || cr.Form.Get("alt_text") != "Ein blauer M3" {
		t.Fatalf("container form %v", cr.Form)
	}
	var cid string
	for id := range e.f.containers {
		cid = id
	}
	if polls := e.f.all("GET", "/v21.0/"+cid); len(polls) != 2 || e.clk.sleeps != 1 {
		t.Fatalf("status polls=%d sleeps=%d: want IN_PROGRESS then FINISHED", len(polls), e.clk.sleeps)
	}
	if pub := e.f.last("POST", "/v21.0/"+e.f.igID+"/media_publish"); pub.Form.Get("creation_id") != cid ||
		pub.Header.Get("Authorization") != "Bearer page-tok" || pub.Query.Get("appsecret_proof") == "" {
		t.Fatalf("publish %+v", pub)
	}
}

func TestPublishVideoAsReel(t *testing.T) {
	e := setup(t)
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "v", Variant: connector.Variant{Text: "Reel",
		Media: []connector.Media{{Kind: connector.MediaVideo, ContentType: "video/mp4", URL: "https://cdn.example/clip.mp4"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if f := e.f.last("POST", "/v21.0/"+e.f.igID+"/media").Form; f.Get("media_type") != "REELS" || f.Get("video_url") != "https://cdn.example/clip.mp4" || f.Get("image_url") != "" {
		t.Fatalf("%v", f)
	}
}

func TestContainerErrorIsPermanent(t *testing.T) {
	e := setup(t)
	e.f.set(func() { e.f.failStatus = "2207026: unsupported image format" })
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "x", Variant: connector.Variant{Media: []connector.Media{jpeg()}}})
	ce := kindOf(t, err, connector.KindPermanent)
	if ce.Code != "ERROR" || !strings.Contains(ce.Message, "unsupported image format") || len(e.f.all("POST", "/v21.0/"+e.f.igID+"/media_publish")) != 0 {
		t.Fatalf("%+v", ce)
	}
}

func TestValidate(t *testing.T) {
	c := New(connector.Options{})
	if ps := c.Validate(connector.Variant{Text: "nur Text"}); len(ps) != 1 || ps[0].Code != "required" {
		t.Fatalf("%+v", ps)
	}
	if ps := c.Validate(connector.Variant{Media: []connector.Media{{Kind: connector.MediaImage, ContentType: "image/jpeg"}}}); len(ps) != 1 || ps[0].Field != "media[0]" {
		t.Fatalf("no URL: %+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: strings.Repeat("ü", 2200), Media: []connector.Media{jpeg()}}); ps != nil {
		t.Fatalf("2200: %+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: strings.Repeat("ü", 2201), Media: []connector.Media{jpeg()}}); len(ps) != 1 || ps[0].Code != "too_long" {
		t.Fatalf("2201: %+v", ps)
	}
	tags := strings.Repeat("#tag ", 30)
	if ps := c.Validate(connector.Variant{Text: tags + "C#", Media: []connector.Media{jpeg()}}); ps != nil {
		t.Fatalf("30 hashtags: %+v", ps)
	}
	if ps := c.Validate(connector.Variant{Text: tags + "#one_more", Media: []connector.Media{jpeg()}}); len(ps) != 1 || ps[0].Code != "too_many_hashtags" {
		t.Fatalf("31 hashtags: %+v", ps)
	}
	png := jpeg()
	png.ContentType = "image/png"
	if ps := c.Validate(connector.Variant{Media: []connector.Media{png}}); len(ps) != 1 || ps[0].Code != "media_type" {
		t.Fatalf("png: %+v", ps)
	}
	if err := connector.CheckCapabilities(c); err != nil {
		t.Fatal(err)
	}
	kindOf(t, c.Delete(context.Background(), &connector.Account{}, "1"), connector.KindPermanent)
}

func TestReplyAndLookupReply(t *testing.T) {
	e := setup(t)
	m := e.f.addMedia("Post")
	cm := e.f.addComment(m, "", "555", "carfan", "Preis?")
	req := connector.PublishRequest{IdempotencyKey: "r", Variant: connector.Variant{Text: "Schreib uns eine DM!"},
		InReplyTo: &connector.ReplyTarget{ExternalID: cm, Kind: connector.KindComment}}
	if _, found, err := e.c.Lookup(context.Background(), e.acct, req); err != nil || found {
		t.Fatalf("before: %v %v", found, err)
	}
	p, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	if f := e.f.last("POST", "/v21.0/"+cm+"/replies").Form; f.Get("message") != "Schreib uns eine DM!" {
		t.Fatalf("%v", f)
	}
	if got, found, err := e.c.Lookup(context.Background(), e.acct, req); err != nil || !found || got.ID != p.ID {
		t.Fatalf("after: %v %v", found, err)
	}
}

func TestFetchCommentsAcrossRestart(t *testing.T) {
	e := setup(t)
	a := e.f.addMedia("A")
	b := e.f.addMedia("B")
	e.clk.Advance(time.Minute)
	c1 := e.f.addComment(a, "", "555", "carfan", "Wow")
	e.clk.Advance(time.Minute)
	own := e.f.addComment(a, c1, e.f.igID, "bmw_nl", "Danke!")
	e.clk.Advance(time.Minute)
	r1 := e.f.addComment(a, c1, "556", "ada", "Finde ich auch")
	ownTop := e.f.addComment(b, "", e.f.igID, "bmw_nl", "Mehr dazu im Link")
	r2 := e.f.addComment(b, ownTop, "557", "bob", "Welcher Link?")

	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]connector.InboundItem{}
	for _, it := range page.Items {
		got[it.ExternalID] = it
	}
	if len(page.Items) != 3 || got[own].ExternalID != "" || got[ownTop].ExternalID != "" {
		t.Fatalf("items %+v", page.Items)
	}
	if it := got[c1]; it.Kind != connector.KindComment || it.InReplyTo != a || it.Author.Handle != "@carfan" || it.Text != "Wow" {
		t.Fatalf("%+v", it)
	}
	if it := got[r1]; it.Kind != connector.KindComment || it.InReplyTo != c1 || it.ThreadID != a {
		t.Fatalf("reply to someone else %+v", it)
	}
	if it := got[r2]; it.Kind != connector.KindReply || it.InReplyTo != ownTop {
		t.Fatalf("reply to us %+v", it)
	}
	if page.Items[0].ExternalID != c1 {
		t.Fatalf("not oldest first: %+v", page.Items)
	}
	cursor := page.Cursor

	// 120 comments on B while down (three pages of 50), several per second.
	var want []string
	for i := range 120 {
		if i%7 == 0 {
			e.clk.Advance(time.Second)
		}
		want = append(want, e.f.addComment(b, "", "600", "eve", "Frage "+strconv.Itoa(i)))
	}
	aReads := len(e.f.all("GET", "/v21.0/"+a+"/comments"))
	c2 := New(connector.Options{Now: e.clk.Now, Limiter: connector.NewLimiter()})
	page, err = c2.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range page.Items {
		if seen[it.ExternalID] || it.ExternalID == r2 {
			t.Fatalf("%s twice", it.ExternalID)
		}
		seen[it.ExternalID] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("%s skipped", id)
		}
	}
	if len(seen) != 120 || len(e.f.all("GET", "/v21.0/"+a+"/comments")) != aReads {
		t.Fatalf("%d items; A read again: %v", len(seen), len(e.f.all("GET", "/v21.0/"+a+"/comments")) != aReads)
	}
	if after := e.f.last("GET", "/v21.0/"+b+"/comments").Query.Get("after"); after == "" {
		t.Fatal("paging without after cursor")
	}
	// One more in the same second as the last ones, then an idle poll.
	late := e.f.addComment(b, "", "601", "zoe", "spät")
	page, err = c2.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 1 || page.Items[0].ExternalID != late {
		t.Fatalf("late %+v %v", page.Items, err)
	}
	page, err = c2.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("idle %+v %v", page.Items, err)
	}
}

func TestMetrics(t *testing.T) {
	e := setup(t)
	m := e.f.addMedia("A")
	e.f.media[0].Likes, e.f.media[0].Views = 77, 3000
	e.f.addComment(m, "", "555", "carfan", "x")
	got, err := e.c.FetchMetrics(context.Background(), e.acct, []string{m, "404"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Followers != 8800 || got.Following != 120 || got.Posts != 1 || len(got.PostStats) != 1 {
		t.Fatalf("%+v", got)
	}
	if ps := got.PostStats[0]; ps.Likes != 77 || ps.Replies != 1 || ps.Impressions != 3000 || ps.Shares != 3 {
		t.Fatalf("%+v", ps)
	}
}

func TestExpiredTokenNeedsReconnect(t *testing.T) {
	e := setup(t)
	e.acct.Credentials.AccessToken = "old"
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Media: []connector.Media{jpeg()}}})
	if ce := kindOf(t, err, connector.KindReconnectNeeded); ce.Code != "190/460" {
		t.Fatalf("%+v", ce)
	}
}

func TestRateLimitedWithRegainTime(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("X-Business-Use-Case-Usage", `{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":12}]}`)
			graphErr(w, 400, 80002, 0, "OAuthException", "There have been too many calls to this Instagram account. Wait a bit and try again.")
			return true
		}
	})
	_, err := e.c.FetchInbound(context.Background(), e.acct, "")
	ce := kindOf(t, err, connector.KindRateLimited)
	if !ce.RetryAt.Equal(e.clk.Now().Add(12 * time.Minute)) {
		t.Fatalf("%+v", ce)
	}
	_, err = e.c.FetchMetrics(context.Background(), e.acct, nil)
	kindOf(t, err, connector.KindRateLimited)
	if n := len(e.f.all("GET", "/v21.0/"+e.f.igID+"/media")); n != 1 || len(e.f.requests) != 1 {
		t.Fatalf("%d requests", len(e.f.requests))
	}
}

func TestServerErrorIsTransient(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/media_publish") {
				graphErr(w, 503, 2, 0, "OAuthException", "Service temporarily unavailable")
				return true
			}
			return false
		}
	})
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "k", Variant: connector.Variant{Media: []connector.Media{jpeg()}}})
	kindOf(t, err, connector.KindTransient)
	if len(e.f.all("POST", "/v21.0/"+e.f.igID+"/media_publish")) != 1 {
		t.Fatal("non-idempotent publish retried")
	}
}

func TestTimeoutIsUnknownAndLookupReconciles(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.afterPublish = func(w http.ResponseWriter, r *http.Request) bool { <-r.Context().Done(); return true }
	})
	short := New(connector.Options{Now: e.clk.Now, Sleep: e.clk.Sleep, Limiter: connector.NewLimiter(), Timeout: 100 * time.Millisecond})
	req := connector.PublishRequest{IdempotencyKey: "d", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "Sommerfest  #bmw", Media: []connector.Media{jpeg()}}}
	_, err := short.Publish(context.Background(), e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	e.f.set(func() { e.f.afterPublish = nil })
	p, found, err := e.c.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || p.ID != e.f.media[0].ID || p.URL == "" {
		t.Fatalf("%v %v %+v", found, err, p)
	}
	if q := e.f.last("GET", "/v21.0/"+e.f.igID+"/media").Query; q.Get("since") != strconv.FormatInt(req.FirstAttemptAt.Add(-5*time.Minute).Unix(), 10) {
		t.Fatalf("%v", q)
	}
	other := req
	other.Variant.Text = "anders"
	if _, found, err := e.c.Lookup(context.Background(), e.acct, other); err != nil || found {
		t.Fatalf("%v %v", found, err)
	}
}

func TestWebhook(t *testing.T) {
	e := setup(t)
	app := e.acct.App
	if ch, ok := e.c.WebhookChallenge(httptest.NewRequest("GET", "/hooks/instagram?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42", nil), app); !ok || ch != "42" {
		t.Fatal("challenge refused")
	}
	if _, ok := e.c.WebhookChallenge(httptest.NewRequest("GET", "/hooks/instagram?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42", nil), app); ok {
		t.Fatal("wrong verify token accepted")
	}
	body := []byte(`{"object":"instagram","entry":[{"id":"17841400000000001","time":1740830400,"changes":[
{"field":"comments","value":{"from":{"id":"555","username":"carfan"},"media":{"id":"17900001","media_product_type":"FEED"},"id":"17900100","text":"Top"}},
{"field":"comments","value":{"from":{"id":"17841400000000001","username":"bmw_nl"},"media":{"id":"17900001"},"id":"17900101","parent_id":"17900100","text":"Danke"}},
{"field":"comments","value":{"from":{"id":"556","username":"ada"},"media":{"id":"17900001"},"id":"17900102","parent_id":"17900100","text":"Ja"}}]}]}`)
	m := hmac.New(sha256.New, []byte("app-secret"))
	m.Write(body)
	r := httptest.NewRequest("POST", "/hooks/instagram", strings.NewReader(string(body)))
	r.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	if err := e.c.VerifyWebhook(r, body, app); err != nil {
		t.Fatal(err)
	}
	if err := e.c.VerifyWebhook(r, append([]byte(" "), body...), app); err == nil {
		t.Fatal("altered body accepted")
	}
	r.Header.Del("X-Hub-Signature-256")
	if err := e.c.VerifyWebhook(r, body, app); err == nil {
		t.Fatal("unsigned accepted")
	}
	evs, err := e.c.ParseWebhook(body)
	if err != nil || len(evs) != 2 {
		t.Fatalf("%+v %v", evs, err)
	}
	if ev := evs[0]; ev.AccountExternalID != e.f.igID || ev.Item.ExternalID != "17900100" || ev.Item.InReplyTo != "17900001" || ev.Item.Author.Handle != "@carfan" {
		t.Fatalf("%+v", ev)
	}
	if evs[1].Item.InReplyTo != "17900100" {
		t.Fatalf("%+v", evs[1])
	}
}

func TestConnectThroughPage(t *testing.T) {
	e := setup(t)
	saved := 0
	acct := &connector.Account{ChannelID: "new", BaseURL: e.acct.BaseURL, App: e.acct.App,
		Credentials:     connector.Credentials{AccessToken: "page-tok", Extra: map[string]string{"page_id": e.f.pageID}},
		SaveCredentials: func(context.Context, connector.Credentials) error { saved++; return nil }}
	prof, err := e.c.Connect(context.Background(), acct)
	if err != nil || prof.ExternalID != e.f.igID || acct.ExternalID != e.f.igID || acct.Handle != "@bmw_nl" || prof.Followers != 8800 || saved != 1 {
		t.Fatalf("%+v %v", prof, err)
	}
	if q := e.f.last("GET", "/v21.0/"+e.f.pageID).Query; q.Get("fields") != "instagram_business_account" {
		t.Fatalf("%v", q)
	}
}
