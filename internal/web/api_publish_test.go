package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/node"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
)

type apiErr struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}

// connectSim connects a simulator channel by its handle.
func (e *testEnv) connectSim(id int64, handle string) {
	e.t.Helper()
	if _, err := e.conn.ConnectWithToken(context.Background(), access.SystemPrincipal(), id, connection.TokenInput{Identifier: handle}); err != nil {
		e.t.Fatalf("connect %s: %v", handle, err)
	}
}

// simPosts counts the posts an account has on the simulator.
func (e *testEnv) simPosts(handle string) int64 {
	e.t.Helper()
	tok, _, _, err := e.sim.Session(handle, "")
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.http.URL+connection.SimulatorPath+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var me sim.Me
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("sim me %s: %d %v", handle, resp.StatusCode, err)
	}
	return me.Posts
}

func (e *testEnv) countRows(table string) int {
	e.t.Helper()
	var n int
	if err := e.store.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// waitPost polls a post until done says so.
func (e *testEnv) waitPost(tok string, id int64, within time.Duration, done func(publish.Post) bool) publish.Post {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var p publish.Post
	for {
		if code := e.do(tok, "GET", fmt.Sprintf("/api/v1/posts/%d", id), nil, &p); code != 200 {
			e.t.Fatalf("get post: %d", code)
		}
		if done(p) {
			return p
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("post %d not done in %s: %s %+v", id, within, p.Summary, p.Deliveries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPostBadInputSchedulesNothing(t *testing.T) {
	e := newTestEnv(t)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	own := e.channelByHandle("simulator", "bmw_de")
	other := e.channelByHandle("simulator", "mini_de")
	long := strings.Repeat("ä", 501)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		field  string
		says   string
	}{
		{"no targets", map[string]any{"text": "hi"}, 400, "channels", "at least one"},
		{"unknown channel", map[string]any{"text": "hi", "channels": []int64{own, 987654}}, 404, "channels[1]", "987654"},
		{"out of scope", map[string]any{"text": "hi", "channels": []int64{other}}, 404, "channels[0]", fmt.Sprint(other)},
		{"unknown unit", map[string]any{"text": "hi", "units": []string{"nope"}}, 404, "units[0]", "nope"},
		{"too long", map[string]any{"text": long, "channels": []int64{own}}, 400, "text", fmt.Sprintf("channel %d", own)},
		{"variant too long", map[string]any{"text": "short", "variants": map[string]any{"simulator": map[string]string{"text": long}}, "channels": []int64{own}},
			400, "variants.simulator.text", "BMW Deutschland"},
		{"channel variant", map[string]any{"text": "short", "variants": map[string]any{fmt.Sprint(own): map[string]string{"text": long}}, "channels": []int64{own}},
			400, fmt.Sprintf("variants.%d.text", own), "500"},
		{"past", map[string]any{"text": "hi", "channels": []int64{own}, "scheduled_at": "2020-01-01T10:00:00Z"}, 400, "scheduled_at", "past"},
		{"bad time", map[string]any{"text": "hi", "channels": []int64{own}, "scheduled_at": "tomorrow"}, 400, "scheduled_at", "RFC 3339"},
		{"unknown media", map[string]any{"text": "hi", "channels": []int64{own}, "media": []int64{987654}}, 404, "media[0]", "987654"},
		{"unknown campaign", map[string]any{"text": "hi", "channels": []int64{own}, "campaign": 4242}, 404, "campaign", "4242"},
	}
	for _, c := range cases {
		var got apiErr
		if code := e.do(ed, "POST", "/api/v1/posts", c.body, &got); code != c.status || got.Error.Field != c.field || !strings.Contains(got.Error.Message, c.says) {
			t.Errorf("%s: %d %+v, want %d field %q saying %q", c.name, code, got.Error, c.status, c.field, c.says)
		}
	}
	// A viewer may not write at all; a channel readable but not writable is 403.
	view := e.user("view@example.com", "bmw-de", access.RoleViewer)
	if code := e.do(view, "POST", "/api/v1/posts", map[string]any{"text": "hi", "channels": []int64{own}}, nil); code != 403 {
		t.Errorf("viewer: %d", code)
	}
	for _, table := range []string{"posts", "deliveries", "post_variants"} {
		if n := e.countRows(table); n != 0 {
			t.Errorf("%d rows in %s after bad input", n, table)
		}
	}
	// The validate endpoint lists the problems without storing anything.
	var v struct {
		OK       bool              `json:"ok"`
		Problems []publish.Problem `json:"problems"`
	}
	if code := e.do(ed, "POST", "/api/v1/posts/validate", map[string]any{"text": long, "channels": []int64{own}}, &v); code != 200 || v.OK ||
		len(v.Problems) != 1 || v.Problems[0].Channel != own || v.Problems[0].Code != "too_long" {
		t.Errorf("validate: %d %+v", code, v)
	}
}

func TestPostApprovalFlow(t *testing.T) {
	e := newTestEnv(t)
	mgr := e.user("mgr@example.com", "bmw-de", access.RoleManager)
	dealerEd := e.user("dealer@example.com", "bmw-muenchen-nord", access.RoleEditor)
	miniAdmin := e.user("mini@example.com", "mini-de", access.RoleAdmin)
	dealerCh := e.channelByHandle("simulator", "bmw_muenchen_nord")
	miniCh := e.channelByHandle("simulator", "mini_de")

	// Without a policy an editor's post goes straight to scheduled.
	var p publish.Post
	if code := e.do(dealerEd, "POST", "/api/v1/posts", map[string]any{"text": "Frühlingsaktion", "channels": []int64{dealerCh},
		"scheduled_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, &p); code != 201 || p.Status != publish.PostScheduled {
		t.Fatalf("no policy: %d %+v", code, p)
	}
	// The market sets a policy; an editor of a dealer below cannot.
	if code := e.do(dealerEd, "PUT", "/api/v1/units/bmw-de/approval-policy", map[string]any{"required": true}, nil); code != 403 && code != 404 {
		t.Fatalf("dealer sets policy: %d", code)
	}
	if code := e.do(mgr, "PUT", "/api/v1/units/bmw-de/approval-policy", map[string]any{"required": true}, nil); code != 200 {
		t.Fatalf("policy: %d", code)
	}
	var pol struct{ Required bool }
	if e.do(dealerEd, "GET", "/api/v1/units/bmw-muenchen-nord/approval-policy", nil, &pol); !pol.Required {
		t.Fatal("the dealer does not inherit the market's policy")
	}
	if code := e.do(dealerEd, "POST", "/api/v1/posts", map[string]any{"text": "Tag der offenen Tür", "channels": []int64{dealerCh},
		"scheduled_at": time.Now().Add(2 * time.Hour).Format(time.RFC3339)}, &p); code != 201 || p.Status != publish.PostPending ||
		p.Deliveries[0].Status != publish.DeliveryHeld {
		t.Fatalf("with policy: %d %+v", code, p)
	}
	id := p.ID
	path := fmt.Sprintf("/api/v1/posts/%d", id)
	if code := e.do(dealerEd, "POST", path+"/approve", nil, nil); code != 403 {
		t.Fatalf("author approves own post: %d", code)
	}
	if code := e.do(miniAdmin, "POST", path+"/approve", nil, nil); code != 404 {
		t.Fatalf("another brand's admin approves: %d", code)
	}
	if code := e.do(mgr, "POST", path+"/reject", map[string]any{}, nil); code != 400 {
		t.Fatalf("reject without comment: %d", code)
	}
	if code := e.do(mgr, "POST", path+"/approve", map[string]any{"comment": "gut"}, &p); code != 200 || p.Status != publish.PostScheduled ||
		p.Deliveries[0].Status != publish.DeliveryScheduled {
		t.Fatalf("approve: %d %+v", code, p)
	}
	// Editing the approved post sends it back.
	if code := e.do(dealerEd, "PATCH", path, map[string]any{"text": "Tag der offenen Tür, mit Probefahrt"}, &p); code != 200 ||
		p.Status != publish.PostPending || p.Deliveries[0].Status != publish.DeliveryHeld {
		t.Fatalf("edit: %d %+v", code, p)
	}
	if code := e.do(mgr, "POST", path+"/reject", map[string]any{"comment": "Probefahrt nur mit Termin"}, &p); code != 200 || p.Status != publish.PostRejected {
		t.Fatalf("reject: %d %+v", code, p)
	}
	var actions []string
	for _, a := range p.Approvals {
		actions = append(actions, a.Action+":"+a.Who)
	}
	want := "submitted:dealer@example.com approved:mgr@example.com edited; sent back for approval:dealer@example.com rejected:mgr@example.com"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("audit trail:\n got %s\nwant %s", got, want)
	}
	// An admin of a unit without a policy goes straight to scheduled.
	if code := e.do(miniAdmin, "POST", "/api/v1/posts", map[string]any{"text": "MINI", "channels": []int64{miniCh}}, &p); code != 201 || p.Status == publish.PostPending {
		t.Fatalf("admin: %d %+v", code, p)
	}
	// The dealer sees its posts, the MINI admin only MINI's.
	var l items[publish.Post]
	if e.do(miniAdmin, "GET", "/api/v1/posts", nil, &l); len(l.Items) != 1 || l.Items[0].Unit != "mini-de" {
		t.Fatalf("mini list: %+v", l.Items)
	}
	if e.do(dealerEd, "GET", "/api/v1/posts?status=rejected", nil, &l); len(l.Items) != 1 || l.Items[0].ID != id {
		t.Fatalf("dealer list: %+v", l.Items)
	}
}

func TestCampaignsAndCalendar(t *testing.T) {
	e := newTestEnv(t)
	mgr := e.user("mgr@example.com", "bmw-de", access.RoleManager)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	var c publish.Campaign
	if code := e.do(ed, "POST", "/api/v1/campaigns", map[string]any{"unit": "bmw-de", "name": "X5"}, nil); code != 403 {
		t.Fatalf("editor plans campaign: %d", code)
	}
	if code := e.do(mgr, "POST", "/api/v1/campaigns", map[string]any{"unit": "bmw-de", "name": "Neuer X5", "topic": "X5", "tags": []string{"suv", "launch"},
		"starts_at": "2026-03-01", "ends_at": "2026-04-01"}, &c); code != 201 || c.Name != "Neuer X5" || len(c.Tags) != 2 {
		t.Fatalf("campaign: %d %+v", code, c)
	}
	ch := e.channelByHandle("simulator", "bmw_de")
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	var p publish.Post
	if code := e.do(ed, "POST", "/api/v1/posts", map[string]any{"text": "Der neue X5", "channels": []int64{ch}, "campaign": c.ID,
		"scheduled_at": at.Format(time.RFC3339)}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	if code := e.do(mgr, "PATCH", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), map[string]any{"name": "Neuer X5 (Launch)"}, &c); code != 200 ||
		c.Name != "Neuer X5 (Launch)" || len(c.Posts) != 1 {
		t.Fatalf("update campaign: %d %+v", code, c)
	}
	var cal struct{ Items []publish.Post }
	from := at.Add(-time.Hour).Format(time.RFC3339)
	to := at.Add(time.Hour).Format(time.RFC3339)
	if code := e.do(ed, "GET", "/api/v1/calendar?unit=bmw&from="+from+"&to="+to, nil, &cal); code != 404 && code != 400 {
		t.Fatalf("calendar outside scope: %d", code)
	}
	if code := e.do(ed, "GET", "/api/v1/calendar?unit=bmw-de&from="+from+"&to="+to, nil, &cal); code != 200 || len(cal.Items) != 1 || cal.Items[0].ID != p.ID {
		t.Fatalf("calendar: %d %+v", code, cal)
	}
	code, body := e.rawDo(ed, "GET", "/calendar/bmw-de.ics", "")
	if code != 200 || !strings.Contains(body, "BEGIN:VCALENDAR") || !strings.Contains(body, fmt.Sprintf("UID:post-%d@vernetzen", p.ID)) ||
		!strings.Contains(body, "DTSTART:"+at.Format("20060102T150405Z")) {
		t.Fatalf("ical: %d %s", code, body)
	}
	if code := e.do(mgr, "DELETE", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), nil, nil); code != 204 {
		t.Fatalf("delete campaign: %d", code)
	}
	if e.do(ed, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p); p.CampaignID != nil {
		t.Fatalf("post keeps deleted campaign")
	}
}

// Many channels, a platform that answers 429, 503 and slowly: every
// delivery ends published, and each account has exactly one post.
func TestDeliveriesExactlyOnceUnderFaults(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	sys := access.SystemPrincipal()
	const n = 24
	var ids []int64
	var handles []string
	for i := 0; i < n; i++ {
		h := fmt.Sprintf("fan_%02d", i)
		c, err := e.org.CreateChannel(ctx, sys, org.ChannelInput{Unit: []string{"bmw-de", "bmw-uk", "mini-de"}[i%3], Platform: "simulator", Handle: h})
		if err != nil {
			t.Fatal(err)
		}
		e.connectSim(c.ID, h)
		ids, handles = append(ids, c.ID), append(handles, h)
	}
	// One channel is not connected: it fails, and a retry after
	// connecting it publishes it without touching the others.
	lost, err := e.org.CreateChannel(ctx, sys, org.ChannelInput{Unit: "bmw-fr", Platform: "simulator", Handle: "not_connected"})
	if err != nil {
		t.Fatal(err)
	}
	e.startPublishing(t)
	e.sim.SetFaults(sim.Faults{RateLimited: 0.15, Unavailable: 0.15, Slow: 0.1, SlowDelay: 30 * time.Millisecond, RateLimitReset: time.Second})
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "Hello, everyone", "channels": append(append([]int64{}, ids...), lost.ID),
		"variants": map[string]any{fmt.Sprint(ids[0]): map[string]string{"text": "Hello, first"}}}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	p = e.waitPost(admin, p.ID, 90*time.Second, func(p publish.Post) bool {
		return p.Counts[publish.DeliveryPublished]+p.Counts[publish.DeliveryFailed] == n+1
	})
	e.sim.SetFaults(sim.Faults{})
	if p.Summary != fmt.Sprintf("%d published, 1 failed", n) || p.Status != publish.PostPartial {
		t.Fatalf("summary %q status %s", p.Summary, p.Status)
	}
	for _, d := range p.Deliveries {
		switch {
		case d.ChannelID == lost.ID:
			if d.Status != publish.DeliveryFailed || !strings.Contains(d.Error, "not connected") {
				t.Errorf("lost channel: %+v", d)
			}
		case d.Status != publish.DeliveryPublished || d.PlatformPostID == "" || !strings.HasPrefix(d.URL, e.http.URL) || d.PublishedAt == nil:
			t.Errorf("delivery: %+v", d)
		}
	}
	for _, h := range handles {
		if got := e.simPosts(h); got != 1 {
			t.Errorf("%s has %d posts, want 1", h, got)
		}
	}
	e.connectSim(lost.ID, "not_connected")
	if code := e.do(admin, "POST", fmt.Sprintf("/api/v1/posts/%d/retry", p.ID), nil, &p); code != 200 {
		t.Fatalf("retry: %d", code)
	}
	p = e.waitPost(admin, p.ID, 30*time.Second, func(p publish.Post) bool { return p.Status == publish.PostPublished })
	if e.simPosts("not_connected") != 1 || e.simPosts(handles[0]) != 1 {
		t.Fatal("retry published twice or not at all")
	}
	if code := e.do(admin, "POST", fmt.Sprintf("/api/v1/posts/%d/retry", p.ID), nil, nil); code != 409 {
		t.Fatalf("retry with nothing failed: %d", code)
	}
}

// A crash between the platform's answer and the mark leaves the delivery
// "publishing"; the next step looks it up and records it without a
// second post. A crash before the request leaves nothing on the platform;
// the next step publishes once.
func TestDeliveryCrashReconciles(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	a := e.channelByHandle("simulator", "bmw_de")
	b := e.channelByHandle("simulator", "bmw_uk")
	e.connectSim(a, "bmw_de")
	e.connectSim(b, "bmw_uk")
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "crash test", "channels": []int64{a, b}}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	da, db := p.Deliveries[0], p.Deliveries[1]
	svc := e.publish
	svc.Lease = time.Millisecond
	crash := errors.New("killed")
	svc.AfterAnswer = func(id int64, err error) error {
		if err != nil {
			t.Errorf("publish: %v", err)
		}
		return crash
	}
	if _, err := svc.DeliverOnce(ctx, da.ID); !errors.Is(err, crash) {
		t.Fatalf("crash step: %v", err)
	}
	svc.AfterAnswer = nil
	d, err := e.store.DeliveryByID(ctx, da.ID)
	if err != nil || d.Status != publish.DeliveryPublishing || d.FirstAttemptAt == nil || e.simPosts("bmw_de") != 1 {
		t.Fatalf("after crash: %+v %v", d, err)
	}
	time.Sleep(5 * time.Millisecond)
	if next, err := svc.DeliverOnce(ctx, da.ID); err != nil || next != 0 {
		t.Fatalf("reconcile: %v %v", next, err)
	}
	// Crash before the request: marked publishing, nothing sent.
	if ok, err := e.store.BeginAttempt(ctx, db.ID, 0, time.Now(), ""); !ok || err != nil {
		t.Fatalf("begin: %v %v", ok, err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := svc.DeliverOnce(ctx, db.ID); err != nil {
		t.Fatal(err)
	}
	// Running a finished delivery again does nothing.
	if _, err := svc.DeliverOnce(ctx, da.ID); err != nil {
		t.Fatal(err)
	}
	e.do(admin, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p)
	if p.Status != publish.PostPublished || e.simPosts("bmw_de") != 1 || e.simPosts("bmw_uk") != 1 {
		t.Fatalf("after reconcile: %s %+v", p.Summary, p.Deliveries)
	}
	if p.Deliveries[0].Attempts != 1 || p.Deliveries[1].Attempts != 2 {
		t.Fatalf("attempts: %d %d", p.Deliveries[0].Attempts, p.Deliveries[1].Attempts)
	}
}

// TestBenchDeliveries is the delivery benchmark (skipped unless
// VERNETZEN_BENCH_CHANNELS is set): one post to N simulator channels
// that answer 429 and 503 now and then. It reports the p50/p99/max of
// published_at − scheduled_at and, as the baseline measured in the same
// run, the same N publishes made directly through the connector with the
// same concurrency and no faults.
func TestBenchDeliveries(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VERNETZEN_BENCH_CHANNELS"))
	if n <= 0 {
		t.Skip("set VERNETZEN_BENCH_CHANNELS=N to run the delivery benchmark")
	}
	e := newTestEnvMap(t)
	ctx := context.Background()
	sys := access.SystemPrincipal()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	ids := make([]int64, n)
	for i := range ids {
		h := fmt.Sprintf("bench_%05d", i)
		c, err := e.org.CreateChannel(ctx, sys, org.ChannelInput{Unit: "bmw", Platform: "simulator", Handle: h})
		if err != nil {
			t.Fatal(err)
		}
		e.connectSim(c.ID, h)
		ids[i] = c.ID
	}
	// Baseline: the connector alone, 8 at a time, no faults.
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			acct, conn, err := e.conn.Account(ctx, id)
			if err == nil {
				_, err = connector.Publish(ctx, conn, acct, connector.PublishRequest{IdempotencyKey: fmt.Sprintf("baseline-%d", i),
					Variant: connector.Variant{Text: "baseline"}})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	baseline := time.Since(start)

	e.publish.RetryBase, e.publish.MinWait = 100*time.Millisecond, 100*time.Millisecond
	workers, _ := strconv.Atoi(os.Getenv("VERNETZEN_BENCH_WORKERS"))
	e.startPublishingWith(t, max(workers, 8))
	e.sim.SetFaults(sim.Faults{RateLimited: 0.01, Unavailable: 0.01, RateLimitReset: time.Second})
	at := time.Now().Add(12 * time.Second) // beyond ScheduleLead: the jobs wait in River's scheduled state, as for any post planned ahead
	var p publish.Post
	createStart := time.Now()
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "benchmark", "channels": ids, "scheduled_at": at.Format(time.RFC3339)}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	createTook := time.Since(createStart)
	at = p.ScheduledAt
	// Wait on the list (counts only), not the post with its n deliveries.
	for deadline := time.Now().Add(30 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var l items[publish.Post]
		if e.do(admin, "GET", "/api/v1/posts?limit=1", nil, &l); len(l.Items) == 1 && l.Items[0].Counts[publish.DeliveryPublished] == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not all published in time")
		}
	}
	e.do(admin, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p)
	e.sim.SetFaults(sim.Faults{})
	lat := make([]time.Duration, 0, n)
	var clean []time.Duration // deliveries the platform never refused: nothing but the hub's own delay
	for _, d := range p.Deliveries {
		lat = append(lat, d.PublishedAt.Sub(at))
		if d.Attempts == 1 {
			clean = append(clean, d.PublishedAt.Sub(at))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	sort.Slice(clean, func(i, j int) bool { return clean[i] < clean[j] })
	dups := 0
	for i := 0; i < n; i++ { // every account: one post, plus the baseline's
		if got := e.simPosts(fmt.Sprintf("bench_%05d", i)); got != 2 {
			dups++
		}
	}
	t.Logf("engine=%s channels=%d workers=%d: published_at-scheduled_at p50=%s p99=%s max=%s (first-try deliveries, %d: p99=%s); accounts without exactly one post: %d; baseline (connector alone, 8 parallel, no faults) %s for all = %s/channel; POST /api/v1/posts took %s",
		e.store.Engine(), n, max(workers, 8), lat[n/2].Round(time.Millisecond), lat[n*99/100].Round(time.Millisecond), lat[n-1].Round(time.Millisecond), len(clean), clean[len(clean)*99/100].Round(time.Millisecond), dups,
		baseline.Round(time.Millisecond), (baseline / time.Duration(n)).Round(time.Microsecond), createTook.Round(time.Millisecond))
	if dups > 0 {
		t.Fatal("duplicates or losses")
	}
}

// A brand offers a post to a market; a dealer below takes it up,
// localised, on its own channel; the brand sees who took it up and when
// it was published.
func TestSyndication(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	brand := e.user("brand@example.com", "bmw", access.RoleManager)
	dealer := e.user("dealer@example.com", "bmw-muenchen-nord", access.RoleEditor)
	mini := e.user("mini@example.com", "mini-de", access.RoleEditor)
	bc, err := e.org.CreateChannel(ctx, access.SystemPrincipal(), org.ChannelInput{Unit: "bmw", Platform: "simulator", Handle: "bmw_brand"})
	if err != nil {
		t.Fatal(err)
	}
	dc := e.channelByHandle("simulator", "bmw_muenchen_nord")
	ukc := e.channelByHandle("simulator", "bmw_uk")
	var p publish.Post
	if code := e.do(brand, "POST", "/api/v1/posts", map[string]any{"text": "The new BMW X5.", "channels": []int64{bc.ID},
		"scheduled_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	var got apiErr
	if code := e.do(brand, "POST", fmt.Sprintf("/api/v1/posts/%d/offers", p.ID), map[string]any{"units": []string{"bmw-de", "mini-de"}}, &got); code != 404 && code != 400 {
		t.Fatalf("offer outside: %d %+v", code, got)
	}
	var offers items[publish.Offer]
	if code := e.do(brand, "POST", fmt.Sprintf("/api/v1/posts/%d/offers", p.ID), map[string]any{"units": []string{"bmw-de", "bmw-uk"}, "note": "localise"}, &offers); code != 201 || len(offers.Items) != 2 {
		t.Fatalf("offer: %d %+v", code, offers)
	}
	if e.do(mini, "GET", "/api/v1/offers", nil, &offers); len(offers.Items) != 0 {
		t.Fatalf("MINI sees BMW's offers: %+v", offers.Items)
	}
	if e.do(dealer, "GET", "/api/v1/offers", nil, &offers); len(offers.Items) != 1 || offers.Items[0].Unit != "bmw-de" || offers.Items[0].Text != "The new BMW X5." {
		t.Fatalf("dealer's offers: %+v", offers.Items)
	}
	offer := offers.Items[0].ID
	if code := e.do(dealer, "POST", fmt.Sprintf("/api/v1/offers/%d/take", offer), map[string]any{"channels": []int64{ukc}}, &got); code != 404 {
		t.Fatalf("take on another market's channel: %d %+v", code, got)
	}
	var taken publish.Post
	if code := e.do(dealer, "POST", fmt.Sprintf("/api/v1/offers/%d/take", offer), map[string]any{"text": "Der neue BMW X5 – jetzt bei uns in München Nord.",
		"channels": []int64{dc}}, &taken); code != 201 || taken.OriginID == nil || *taken.OriginID != p.ID || taken.Unit != "bmw-muenchen-nord" {
		t.Fatalf("take up: %d %+v", code, taken)
	}
	e.connectSim(dc, "bmw_muenchen_nord")
	if _, err := e.publish.DeliverOnce(ctx, taken.Deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	if e.do(brand, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p); len(p.TakenUp) != 1 || p.TakenUp[0].Unit != "bmw-muenchen-nord" ||
		p.TakenUp[0].Status != publish.PostPublished || p.TakenUp[0].PublishedAt == nil {
		t.Fatalf("origin's take-ups: %+v", p.TakenUp)
	}
}

// Deliveries whose jobs were lost (a post stored without a queue, an
// attempt begun by a node that died) are picked up on start.
func TestResumeDeliveries(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	a, b := e.channelByHandle("simulator", "bmw_de"), e.channelByHandle("simulator", "mini_de")
	e.connectSim(a, "bmw_de")
	e.connectSim(b, "mini_de")
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "resume", "channels": []int64{a, b}}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	if ok, err := e.store.BeginAttempt(ctx, p.Deliveries[1].ID, 0, time.Now(), ""); !ok || err != nil {
		t.Fatal(ok, err)
	}
	e.publish.Lease = 10 * time.Millisecond
	e.startPublishing(t)
	if n, err := e.publish.ResumeDeliveries(ctx); err != nil || n != 2 {
		t.Fatalf("resume: %d %v", n, err)
	}
	e.waitPost(admin, p.ID, 30*time.Second, func(p publish.Post) bool { return p.Status == publish.PostPublished })
	if e.simPosts("bmw_de") != 1 || e.simPosts("mini_de") != 1 {
		t.Fatal("resumed deliveries published twice or not at all")
	}
}

// A process that alone works the database (SQLite, its data directory
// locked) reconciles an attempt left by a process that died at once; with
// other nodes possibly alive it waits out the lease.
func TestOrphanedAttemptReconciledAtOnceBySoleWorker(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	a := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(a, "bmw_de")
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "orphan test", "channels": []int64{a}}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	svc := e.publish
	crash := errors.New("killed")
	svc.AfterAnswer = func(int64, error) error { return crash }
	if _, err := svc.DeliverOnce(ctx, p.Deliveries[0].ID); !errors.Is(err, crash) {
		t.Fatalf("crash step: %v", err)
	}
	svc.AfterAnswer = nil
	// Another node might still be at it: wait out the lease.
	if next, err := svc.DeliverOnce(ctx, p.Deliveries[0].ID); err != nil || next < time.Minute {
		t.Fatalf("before the lease: next %v, %v", next, err)
	}
	// This process started after the attempt and works alone: reconcile now.
	svc.SoleWorkerSince = time.Now()
	if next, err := svc.DeliverOnce(ctx, p.Deliveries[0].ID); err != nil || next != 0 {
		t.Fatalf("sole worker: next %v, %v", next, err)
	}
	d, _ := e.store.DeliveryByID(ctx, p.Deliveries[0].ID)
	if d.Status != publish.DeliveryPublished || e.simPosts("bmw_de") != 1 || d.Attempts != 1 {
		t.Fatalf("after reconcile: %+v, %d posts on the platform", d, e.simPosts("bmw_de"))
	}
}

// Fan-out chunks are safe to run more than once and beside single
// delivery steps: two nodes working the same chunk at once, and a third
// stepping single deliveries, still publish every delivery once. A
// delivery whose platform asks it to wait longer than a fan-out keeps one
// (a long rate limit) is handed to a delivery job of its own, which
// publishes it later.
func TestFanoutChunksPublishOnce(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	sys := access.SystemPrincipal()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	const n = 40
	ids := make([]int64, n)
	for i := range ids {
		h := fmt.Sprintf("chunk_%02d", i)
		c, err := e.org.CreateChannel(ctx, sys, org.ChannelInput{Unit: "bmw-de", Platform: "simulator", Handle: h})
		if err != nil {
			t.Fatal(err)
		}
		e.connectSim(c.ID, h)
		ids[i] = c.ID
	}
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "chunked", "channels": ids}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	args := publish.FanoutArgs{PostID: p.ID, FirstID: p.Deliveries[0].ID, LastID: p.Deliveries[n-1].ID}
	e.sim.SetFaults(sim.Faults{Unavailable: 0.2, Slow: 0.2, SlowDelay: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.publish.Fanout(ctx, args); err != nil {
				t.Error(err)
			}
		}()
	}
	for _, d := range p.Deliveries[:10] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.publish.DeliverOnce(ctx, d.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e.sim.SetFaults(sim.Faults{})
	// What a chunk did not finish (a 503 twice in a row, an attempt
	// another worker had marked) is taken up by the queue.
	e.startPublishing(t)
	if _, err := e.publish.ResumeDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	p = e.waitPost(admin, p.ID, 60*time.Second, func(p publish.Post) bool { return p.Status == publish.PostPublished })
	for i := range ids {
		if got := e.simPosts(fmt.Sprintf("chunk_%02d", i)); got != 1 {
			t.Errorf("chunk_%02d has %d posts, want 1", i, got)
		}
	}

	// A rate limit beyond what a fan-out waits out goes to its own job.
	var q publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "limited", "channels": ids[:1]}, &q); code != 201 {
		t.Fatalf("post: %d", code)
	}
	e.sim.SetFaults(sim.Faults{RateLimited: 1, RateLimitReset: publish.ScheduleLead + time.Second})
	next, err := e.publish.Fanout(ctx, publish.FanoutArgs{PostID: q.ID, FirstID: q.Deliveries[0].ID, LastID: q.Deliveries[0].ID})
	if err != nil || next != 0 {
		t.Fatalf("fan-out: next %v, %v", next, err)
	}
	e.sim.SetFaults(sim.Faults{})
	d, _ := e.store.DeliveryByID(ctx, q.Deliveries[0].ID)
	if d.Status != publish.DeliveryScheduled || d.NotBefore == nil {
		t.Fatalf("rate-limited delivery: %+v", d)
	}
	e.waitPost(admin, q.ID, 60*time.Second, func(p publish.Post) bool { return p.Status == publish.PostPublished })
	if got := e.simPosts("chunk_00"); got != 2 {
		t.Fatalf("chunk_00 has %d posts, want 2", got)
	}
}

// On a database shared by several nodes, an attempt marked by a node that
// is alive is left to it (looked at again within node.DeadAfter, not
// after the whole lease); once that node's heartbeat has stopped, or it
// left, the attempt is reconciled at once.
func TestOrphanedAttemptOfDeadNodeReconciled(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	a := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(a, "bmw_de")
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "node test", "channels": []int64{a}}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	started := time.Now()
	if err := e.store.NodeHeartbeat(ctx, "node-a", "host-a", started, time.Now()); err != nil {
		t.Fatal(err)
	}
	svc := e.publish
	svc.Node, svc.Nodes = "node-a", e.store
	crash := errors.New("killed")
	svc.AfterAnswer = func(int64, error) error { return crash }
	if _, err := svc.DeliverOnce(ctx, p.Deliveries[0].ID); !errors.Is(err, crash) {
		t.Fatalf("crash step: %v", err)
	}
	svc.AfterAnswer = nil
	if d, _ := e.store.DeliveryByID(ctx, p.Deliveries[0].ID); d.AttemptNode != "node-a" || d.Status != publish.DeliveryPublishing {
		t.Fatalf("attempt not marked with its node: %+v", d)
	}
	// Node b takes over the queue; node a still beats.
	svc.Node = "node-b"
	if next, err := svc.DeliverOnce(ctx, p.Deliveries[0].ID); err != nil || next <= 0 || next > node.DeadAfter {
		t.Fatalf("node a alive: next %v, %v; want a look again within %v", next, err, node.DeadAfter)
	}
	// Node a falls silent.
	if err := e.store.NodeHeartbeat(ctx, "node-a", "host-a", started, time.Now().Add(-node.DeadAfter-time.Second)); err != nil {
		t.Fatal(err)
	}
	if next, err := svc.DeliverOnce(ctx, p.Deliveries[0].ID); err != nil || next != 0 {
		t.Fatalf("node a dead: next %v, %v", next, err)
	}
	d, _ := e.store.DeliveryByID(ctx, p.Deliveries[0].ID)
	if d.Status != publish.DeliveryPublished || e.simPosts("bmw_de") != 1 {
		t.Fatalf("after reconcile: %+v, %d posts on the platform", d, e.simPosts("bmw_de"))
	}
}

// A due delivery that nothing drives (its job lost, or held by a node
// that died) is given a job by the sweep and published once; one waiting
// for a retry time, or for approval, is left alone.
func TestSweepTakesUpForgottenDeliveries(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.com", "group", access.RoleAdmin)
	a, b := e.channelByHandle("simulator", "bmw_de"), e.channelByHandle("simulator", "mini_de")
	e.connectSim(a, "bmw_de")
	e.connectSim(b, "mini_de")
	// No queue yet: the post's rows are stored, its jobs are not (as if lost).
	var p publish.Post
	if code := e.do(admin, "POST", "/api/v1/posts", map[string]any{"text": "forgotten", "channels": []int64{a, b}}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	// The second waits for a retry time an hour ahead.
	d := p.Deliveries[1]
	later := time.Now().Add(time.Hour)
	d.NotBefore = &later
	if err := e.store.SaveOutcome(ctx, d); err != nil {
		t.Fatal(err)
	}
	e.startPublishing(t)
	time.Sleep(20 * time.Millisecond)
	e.publish.StaleAfter = 10 * time.Millisecond
	if n, err := e.publish.SweepStale(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want the one forgotten delivery", n, err)
	}
	e.waitPost(admin, p.ID, 30*time.Second, func(p publish.Post) bool { return p.Counts[publish.DeliveryPublished] == 1 })
	if e.simPosts("bmw_de") != 1 || e.simPosts("mini_de") != 0 {
		t.Fatalf("posts: bmw_de %d, mini_de %d", e.simPosts("bmw_de"), e.simPosts("mini_de"))
	}
	// Swept again: nothing forgotten any more.
	if n, err := e.publish.SweepStale(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
}
