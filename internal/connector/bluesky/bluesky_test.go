package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
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
	f     *fakePDS
	c     *Connector
	acct  *connector.Account
	clk   *fakeClock
	saved []connector.Credentials
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{f: newFakePDS(t), clk: &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}}
	e.c = New(connector.Options{Now: e.clk.Now, Sleep: e.clk.Sleep, Limiter: connector.NewLimiter()})
	e.acct = &connector.Account{ChannelID: "bs-1", BaseURL: e.f.srv.URL,
		Credentials:     connector.Credentials{Identifier: "bmw.bsky.social", AppPassword: "app-pass-1"},
		SaveCredentials: func(ctx context.Context, c connector.Credentials) error { e.saved = append(e.saved, c); return nil }}
	if _, err := e.c.Connect(context.Background(), e.acct); err != nil {
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

func TestConnect(t *testing.T) {
	e := newEnv(t)
	r := e.f.last("/xrpc/com.atproto.server.createSession")
	var body map[string]string
	json.Unmarshal(r.Body, &body)
	if r.Method != "POST" || body["identifier"] != "bmw.bsky.social" || body["password"] != "app-pass-1" || r.Header.Get("Authorization") != "" {
		t.Fatalf("createSession %s %v", r.Method, body)
	}
	if e.acct.ExternalID != myDID || e.acct.Handle != "bmw.bsky.social" || len(e.saved) != 1 {
		t.Fatalf("%+v saved=%d", e.acct, len(e.saved))
	}
	if want := time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC); !e.acct.Credentials.ExpiresAt.Equal(want) {
		t.Fatalf("expiry from JWT: %v", e.acct.Credentials.ExpiresAt)
	}
	bad := &connector.Account{BaseURL: e.f.srv.URL, Credentials: connector.Credentials{Identifier: "bmw.bsky.social", AppPassword: "wrong"}}
	_, err := e.c.Connect(context.Background(), bad)
	if ce := kindOf(t, err, connector.KindReconnectNeeded); ce.Message != "Invalid identifier or password" {
		t.Fatalf("%q", ce.Message)
	}
}

func TestPublishWithFacetsAndImage(t *testing.T) {
	e := newEnv(t)
	text := "Grüße @alice.bsky.social! Neu: https://bmw.de/ü-m3 #BMW 🚗 @nobody.example."
	first := e.clk.Now()
	img := connector.Media{Kind: connector.MediaImage, ContentType: "image/png", AltText: "Ein M3", Width: 1200, Height: 800,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PNGDATA")), nil }}
	req := connector.PublishRequest{IdempotencyKey: "delivery-1", FirstAttemptAt: first,
		Variant: connector.Variant{Text: text, Language: "de", Media: []connector.Media{img}}}
	if ps := e.c.Validate(req.Variant); ps != nil {
		t.Fatalf("%+v", ps)
	}
	p, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	rkey := RecordKey("delivery-1", first)
	if p.ID != "at://"+myDID+"/app.bsky.feed.post/"+rkey || p.URL != "https://bsky.app/profile/bmw.bsky.social/post/"+rkey {
		t.Fatalf("%+v", p)
	}

	up := e.f.last("/xrpc/com.atproto.repo.uploadBlob")
	if up.Header.Get("Content-Type") != "image/png" || string(up.Body) != "PNGDATA" || !strings.HasPrefix(up.Header.Get("Authorization"), "Bearer ") {
		t.Fatalf("uploadBlob %v %q", up.Header, up.Body)
	}
	cr := e.f.last("/xrpc/com.atproto.repo.createRecord")
	var in struct {
		Repo, Collection, Rkey string
		Record                 struct {
			Type      string `json:"$type"`
			Text      string
			CreatedAt string
			Langs     []string
			Facets    []struct {
				Index    ByteSlice
				Features []map[string]string
			}
			Embed struct {
				Type   string `json:"$type"`
				Images []struct {
					Alt         string
					Image       map[string]any
					AspectRatio map[string]int
				}
			}
		}
	}
	if err := json.Unmarshal(cr.Body, &in); err != nil {
		t.Fatal(err)
	}
	if in.Repo != myDID || in.Collection != "app.bsky.feed.post" || in.Rkey != rkey || in.Record.Type != "app.bsky.feed.post" ||
		in.Record.Text != text || in.Record.CreatedAt != "2025-03-01T12:00:00.000Z" || in.Record.Langs[0] != "de" {
		t.Fatalf("createRecord %s", cr.Body)
	}
	b := []byte(text)
	span := func(s string) ByteSlice {
		i := bytes.Index(b, []byte(s))
		return ByteSlice{i, i + len(s)}
	}
	want := []struct {
		idx  ByteSlice
		typ  string
		attr string
	}{
		{span("@alice.bsky.social"), "app.bsky.richtext.facet#mention", "did:plc:alice"},
		{span("https://bmw.de/ü-m3"), "app.bsky.richtext.facet#link", "https://bmw.de/ü-m3"},
		{span("#BMW"), "app.bsky.richtext.facet#tag", "BMW"},
	}
	if len(in.Record.Facets) != len(want) {
		t.Fatalf("facets %+v", in.Record.Facets)
	}
	for i, w := range want {
		f := in.Record.Facets[i]
		got := f.Features[0]["did"] + f.Features[0]["uri"] + f.Features[0]["tag"]
		if f.Index != w.idx || f.Features[0]["$type"] != w.typ || got != w.attr {
			t.Errorf("facet %d: %+v, want %+v", i, f, w)
		}
	}
	if im := in.Record.Embed; im.Type != "app.bsky.embed.images" || len(im.Images) != 1 || im.Images[0].Alt != "Ein M3" ||
		im.Images[0].Image["$type"] != "blob" || im.Images[0].AspectRatio["width"] != 1200 {
		t.Fatalf("embed %+v", im)
	}
}

func TestRetryOfSameDeliveryDoesNotDuplicate(t *testing.T) {
	e := newEnv(t)
	req := connector.PublishRequest{IdempotencyKey: "d-2", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "Einmal"}}
	p1, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Sleep(context.Background(), time.Hour) // a retry much later
	p2, err := e.c.Publish(context.Background(), e.acct, req)
	if err != nil || p2.ID != p1.ID || len(e.f.records) != 1 {
		t.Fatalf("retry: %v %s %s records=%d", err, p1.ID, p2.ID, len(e.f.records))
	}
}

func TestLostAnswerThenLookup(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.f.afterPost = func(w http.ResponseWriter, r *http.Request) bool {
		cancel()
		<-r.Context().Done()
		return true
	}
	req := connector.PublishRequest{IdempotencyKey: "d-3", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "Verloren?"}}
	_, err := e.c.Publish(ctx, e.acct, req)
	kindOf(t, err, connector.KindUnknown)
	e.f.afterPost = nil
	p, found, err := e.c.Lookup(context.Background(), e.acct, req)
	if err != nil || !found || !strings.HasSuffix(p.ID, RecordKey("d-3", req.FirstAttemptAt)) {
		t.Fatalf("lookup %+v %v %v", p, found, err)
	}
	q := e.f.last("/xrpc/com.atproto.repo.getRecord").Query
	if q["repo"][0] != myDID || q["collection"][0] != "app.bsky.feed.post" {
		t.Fatalf("getRecord query %v", q)
	}
	_, found, err = e.c.Lookup(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "never", FirstAttemptAt: e.clk.Now()})
	if err != nil || found {
		t.Fatalf("unknown delivery: %v %v", found, err)
	}
	// Should another post ever hold the key, it is never taken for ours.
	other := req
	other.Variant.Text = "Etwas anderes"
	_, found, err = e.c.Lookup(context.Background(), e.acct, other)
	if ce := kindOf(t, err, connector.KindPermanent); found || ce.Code != "rkey_collision" {
		t.Fatalf("collision: %v %+v", found, ce)
	}
}

func TestReplyUsesRootAndParent(t *testing.T) {
	e := newEnv(t)
	root := "at://did:plc:x/app.bsky.feed.post/root1"
	parent := "at://did:plc:fan/app.bsky.feed.post/par"
	e.f.posts[parent] = json.RawMessage(`{"$type":"app.bsky.feed.post","text":"?","createdAt":"2025-03-01T10:00:00Z","reply":{"root":{"uri":"` + root + `","cid":"rootcid"},"parent":{"uri":"` + root + `","cid":"rootcid"}}}`)
	_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "r-1", FirstAttemptAt: e.clk.Now(),
		Variant: connector.Variant{Text: "Danke!"}, InReplyTo: &connector.ReplyTarget{ExternalID: parent, Kind: connector.KindReply}})
	if err != nil {
		t.Fatal(err)
	}
	var in struct{ Record struct{ Reply replyRef } }
	json.Unmarshal(e.f.last("/xrpc/com.atproto.repo.createRecord").Body, &in)
	if in.Record.Reply.Root != (strongRef{root, "rootcid"}) || in.Record.Reply.Parent.URI != parent || in.Record.Reply.Parent.CID == "" {
		t.Fatalf("reply ref %+v", in.Record.Reply)
	}
}

func TestExpiredAccessTokenRefreshesOnce(t *testing.T) {
	e := newEnv(t)
	old := e.acct.Credentials
	e.f.expired[old.AccessToken.Reveal()] = true
	if _, err := e.c.FetchMetrics(context.Background(), e.acct, nil); err != nil {
		t.Fatal(err)
	}
	rr := e.f.last("/xrpc/com.atproto.server.refreshSession")
	if rr.Method != "POST" || rr.Header.Get("Authorization") != "Bearer "+old.RefreshToken.Reveal() {
		t.Fatalf("refreshSession %s %v", rr.Method, rr.Header)
	}
	if len(e.saved) != 2 || e.saved[1].RefreshToken == old.RefreshToken || e.saved[1].AppPassword != old.AppPassword {
		t.Fatalf("saved %d; new refresh JWT must be saved, app password kept", len(e.saved))
	}
	if e.f.count("/xrpc/app.bsky.actor.getProfile") != 3 || e.f.count("/xrpc/com.atproto.server.refreshSession") != 1 {
		t.Fatal("want one refresh and one retry")
	}
}

func TestExpiredRefreshTokenFallsBackToAppPassword(t *testing.T) {
	e := newEnv(t)
	e.f.expired[e.acct.Credentials.AccessToken.Reveal()] = true
	e.f.refresh = map[string]bool{} // every refresh JWT expired
	if _, err := e.c.FetchMetrics(context.Background(), e.acct, nil); err != nil {
		t.Fatal(err)
	}
	if e.f.count("/xrpc/com.atproto.server.createSession") != 2 {
		t.Fatal("expected a new session from the app password")
	}
	// The user revoked the app password: reconnect needed.
	e.f.expired[e.acct.Credentials.AccessToken.Reveal()] = true
	e.f.refresh = map[string]bool{}
	e.f.password = "revoked"
	_, err := e.c.FetchMetrics(context.Background(), e.acct, nil)
	kindOf(t, err, connector.KindReconnectNeeded)
}

func TestNotificationsAcrossRestart(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ours := "at://" + myDID + "/app.bsky.feed.post/ours"
	ourReply := "at://" + myDID + "/app.bsky.feed.post/ourreply"
	e.f.addNotif("mention", "hallo @bmw", t0, "", "")
	e.f.addNotif("like", "", t0.Add(time.Second), "", "")
	page, err := e.c.FetchInbound(context.Background(), e.acct, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].Kind != connector.KindMention || page.Items[0].Text != "hallo @bmw" {
		t.Fatalf("first %+v %v", page, err)
	}
	cursor := page.Cursor

	// 130 notifications arrive, several sharing one timestamp.
	var want []string
	for i := range 130 {
		at := t0.Add(time.Minute + time.Duration(i/3)*time.Second)
		switch i % 4 {
		case 0:
			want = append(want, e.f.addNotif("reply", "Kommentar", at, ours, ours))
		case 1:
			want = append(want, e.f.addNotif("reply", "Antwort", at, ourReply, ours))
		case 2:
			want = append(want, e.f.addNotif("mention", "Erwähnung", at, "", ""))
		case 3:
			e.f.addNotif("repost", "", at, "", "")
		}
	}
	c2 := New(connector.Options{Limiter: connector.NewLimiter()}) // a new process
	page, err = c2.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != len(want) {
		t.Fatalf("got %d items, want %d", len(page.Items), len(want))
	}
	for i, it := range page.Items {
		if it.ExternalID != want[i] {
			t.Fatalf("item %d is %s, want %s (oldest first, none twice)", i, it.ExternalID, want[i])
		}
	}
	if k := page.Items[0]; k.Kind != connector.KindComment || k.InReplyTo != ours || k.ThreadID != ours || k.Author.Handle != "@fan.bsky.social" || k.Language != "de" {
		t.Fatalf("comment %+v", k)
	}
	if page.Items[1].Kind != connector.KindReply {
		t.Fatalf("reply kind %s", page.Items[1].Kind)
	}
	cursor = page.Cursor

	// One more at the watermark's exact instant, and one later.
	last := t0.Add(time.Minute + 43*time.Second)
	tie := e.f.addNotif("mention", "gleichzeitig", last, "", "")
	later := e.f.addNotif("mention", "später", last.Add(time.Second), "", "")
	page, err = c2.FetchInbound(context.Background(), e.acct, cursor)
	if err != nil || len(page.Items) != 2 || page.Items[0].ExternalID != tie || page.Items[1].ExternalID != later {
		t.Fatalf("tie handling: %+v %v", page.Items, err)
	}
	page, err = c2.FetchInbound(context.Background(), e.acct, page.Cursor)
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("idle poll %+v %v", page.Items, err)
	}
}

func TestMetricsBatches(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 30 {
		p, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: "m" + string(rune('a'+i)), FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	m, err := e.c.FetchMetrics(context.Background(), e.acct, ids)
	if err != nil {
		t.Fatal(err)
	}
	if m.Followers != 4321 || m.Following != 12 || len(m.PostStats) != 30 || e.f.count("/xrpc/app.bsky.feed.getPosts") != 2 {
		t.Fatalf("%+v getPosts=%d", m, e.f.count("/xrpc/app.bsky.feed.getPosts"))
	}
	if s := m.PostStats[0]; s.Likes != 10 || s.Shares != 3 || s.Replies != 3 || s.Impressions != -1 {
		t.Fatalf("%+v", s)
	}
	if err := e.c.Delete(context.Background(), e.acct, ids[0]); err != nil || len(e.f.records) != 29 {
		t.Fatalf("delete %v", err)
	}
}

func TestRateLimitAndServerErrors(t *testing.T) {
	e := newEnv(t)
	reset := e.clk.Now().Add(10 * time.Minute)
	e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("RateLimit-Limit", "5000")
		w.Header().Set("RateLimit-Remaining", "0")
		w.Header().Set("RateLimit-Reset", strconvI(reset.Unix()))
		xrpcError(w, 429, "RateLimitExceeded", "Rate Limit Exceeded")
		return true
	}
	req := connector.PublishRequest{IdempotencyKey: "k", FirstAttemptAt: e.clk.Now(), Variant: connector.Variant{Text: "x"}}
	_, err := e.c.Publish(context.Background(), e.acct, req)
	if ce := kindOf(t, err, connector.KindRateLimited); !ce.RetryAt.Equal(reset) || ce.Code != "RateLimitExceeded" {
		t.Fatalf("%+v", ce)
	}
	n := len(e.f.requests)
	_, err = e.c.FetchInbound(context.Background(), e.acct, "")
	kindOf(t, err, connector.KindRateLimited)
	if len(e.f.requests) != n {
		t.Fatal("hammered while rate limited")
	}

	e2 := newEnv(t)
	e2.f.override = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "createRecord") {
			xrpcError(w, 502, "UpstreamFailure", "Upstream Failure")
			return true
		}
		return false
	}
	_, err = e2.c.Publish(context.Background(), e2.acct, req)
	kindOf(t, err, connector.KindUnknown) // a gateway error on a write may have been done
	e2.f.override = func(w http.ResponseWriter, r *http.Request) bool {
		xrpcError(w, 500, "InternalServerError", "Internal Server Error")
		return true
	}
	_, err = e2.c.Publish(context.Background(), e2.acct, req)
	kindOf(t, err, connector.KindTransient)
}

func strconvI(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRecordKey(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	k := RecordKey("delivery-1", at)
	if len(k) != 13 || !strings.ContainsRune("234567abcdefghij", rune(k[0])) || strings.Trim(k, tidAlphabet) != "" {
		t.Fatalf("not a TID: %q", k)
	}
	if RecordKey("delivery-1", at) != k || RecordKey("delivery-2", at) == k {
		t.Fatal("record key must be a function of the delivery")
	}
	if RecordKey("delivery-1", at.Add(time.Second)) <= k {
		t.Fatal("TIDs sort by time")
	}
	if z := RecordKey("x", time.Time{}); len(z) != 13 || z != RecordKey("x", time.Time{}) {
		t.Fatal("zero first attempt")
	}
}
