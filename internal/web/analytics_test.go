package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/org"
)

func (e *testEnv) channelOfUnit(unit, platform string) org.Channel {
	e.t.Helper()
	chs, _, err := e.org.Channels(context.Background(), access.SystemPrincipal(), org.ChannelFilter{Unit: unit, Platform: platform})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range chs {
		if c.Unit == unit {
			return c
		}
	}
	e.t.Fatalf("no %s channel on %s", platform, unit)
	return org.Channel{}
}

func vals(series []*int64) string {
	var b strings.Builder
	for i, v := range series {
		if i > 0 {
			b.WriteByte(' ')
		}
		if v == nil {
			b.WriteByte('-')
		} else {
			fmt.Fprint(&b, *v)
		}
	}
	return b.String()
}

// TestOverviewFigures checks every figure of the overview against data
// built by hand: readings carried forward up to seven days and gaps after,
// a retired channel's history, a channel outside the subtree left out,
// day boundaries in the unit's time zone, and an empty previous period.
func TestOverviewFigures(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	sys := access.SystemPrincipal()
	fb := e.channelOfUnit("bmw", "facebook")
	x := e.channelOfUnit("bmw-i", "x")
	yt := e.channelOfUnit("bmw", "youtube")
	mini := e.channelOfUnit("mini", "facebook")
	add := func(c org.Channel, pts ...org.AudiencePoint) {
		if err := e.org.AddAudience(ctx, sys, c.ID, pts); err != nil {
			t.Fatal(err)
		}
	}
	add(fb, org.AudiencePoint{Day: "2026-10-01", Followers: 100}, org.AudiencePoint{Day: "2026-10-05", Followers: 110}, org.AudiencePoint{Day: "2026-10-10", Followers: 130})
	add(x, org.AudiencePoint{Day: "2026-10-01", Followers: 50}, org.AudiencePoint{Day: "2026-10-28", Followers: 80})
	add(yt, org.AudiencePoint{Day: "2026-10-03", Followers: 1000})
	add(mini, org.AudiencePoint{Day: "2026-10-01", Followers: 999})
	if _, err := e.org.RetireChannel(ctx, sys, yt.ID); err != nil {
		t.Fatal(err)
	}
	// Two inbound messages around midnight in Berlin: 23:30 on the 10th
	// (21:30 UTC) is inside the period there, 00:30 on the 11th is not.
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	var res ingestAnswer
	if code := e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		map[string]any{"channel": fb.ID, "external_id": "m1", "kind": "comment", "author": map[string]string{"external_id": "a1", "name": "A"},
			"text": "Great video!", "created_at": "2026-10-10T21:30:00Z"},
		map[string]any{"channel": fb.ID, "external_id": "m2", "kind": "comment", "author": map[string]string{"external_id": "a2", "name": "B"},
			"text": "Great video again!", "created_at": "2026-10-10T22:30:00Z"},
		map[string]any{"channel": mini.ID, "external_id": "m3", "kind": "comment", "author": map[string]string{"external_id": "a3", "name": "C"},
			"text": "Great video!", "created_at": "2026-10-05T10:00:00Z"},
	}}, &res); code != 202 {
		t.Fatalf("ingest: %d", code)
	}

	var o analytics.Overview
	if code := e.do(adm, "GET", "/api/v1/analytics/overview?unit=bmw&from=2026-10-01&to=2026-10-10&tz=Europe/Berlin", nil, &o); code != 200 {
		t.Fatalf("overview: %d", code)
	}
	if o.Period.From != "2026-10-01" || o.Previous.From != "2026-09-21" || o.Previous.To != "2026-09-30" || len(o.Days) != 10 {
		t.Fatalf("periods: %+v %+v %d days", o.Period, o.Previous, len(o.Days))
	}
	want := map[string]string{
		"facebook": "100 100 100 100 110 110 110 110 110 130",
		"x":        "50 50 50 50 50 50 50 50 - -",
		"youtube":  "- - 1000 1000 1000 1000 1000 1000 1000 1000",
	}
	if len(o.Audience) != len(want) {
		t.Fatalf("platforms: %+v", o.Audience)
	}
	for _, a := range o.Audience {
		if got := vals(a.Series); got != want[a.Platform] {
			t.Errorf("%s series %q, want %q", a.Platform, got, want[a.Platform])
		}
		if a.PreviousGrowth != nil {
			t.Errorf("%s: growth in an empty previous period: %d", a.Platform, *a.PreviousGrowth)
		}
		switch a.Platform {
		case "facebook":
			if a.Growth == nil || *a.Growth != 30 || *a.Start != 100 || *a.End != 130 {
				t.Errorf("facebook growth %v start %v end %v", a.Growth, a.Start, a.End)
			}
		default:
			if a.Growth != nil {
				t.Errorf("%s: growth %d from a channel not read at both ends", a.Platform, *a.Growth)
			}
		}
	}
	if len(o.Inbound) != 1 || o.Inbound[0].Current != 1 || o.Inbound[0].Previous != 0 {
		t.Fatalf("inbound in Berlin's period: %+v", o.Inbound)
	}
	// The same period in UTC holds both messages.
	e.do(adm, "GET", "/api/v1/analytics/overview?unit=bmw&from=2026-10-01&to=2026-10-10&tz=UTC", nil, &o)
	if len(o.Inbound) != 1 || o.Inbound[0].Current != 2 {
		t.Fatalf("inbound in UTC: %+v", o.Inbound)
	}

	// A viewer of MINI sees MINI's figures only, and no inbox or leads.
	viewer := e.user("viewer@example.com", "mini", access.RoleViewer)
	if code := e.do(viewer, "GET", "/api/v1/analytics/overview?unit=bmw", nil, nil); code != 400 {
		t.Fatalf("overview of a unit out of scope: %d", code)
	}
	var m analytics.Overview
	e.do(viewer, "GET", "/api/v1/analytics/overview?unit=mini&from=2026-10-01&to=2026-10-10", nil, &m)
	if len(m.Audience) != 1 || m.Inbound != nil || m.Leads != nil {
		t.Fatalf("viewer's overview: %+v", m)
	}
	// Bad input.
	for _, q := range []string{"from=2026-13-01", "from=2026-10-10&to=2026-10-01", "from=2020-01-01&to=2026-01-01"} {
		if code := e.do(adm, "GET", "/api/v1/analytics/overview?unit=bmw&"+q, nil, nil); code != 400 {
			t.Errorf("%s: %d", q, code)
		}
	}
	// CSV.
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/analytics/overview?unit=bmw&from=2026-10-01&to=2026-10-10&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+adm)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "audience_growth,facebook,30,,2026-10-01..2026-10-10") {
		t.Fatalf("csv: %d\n%s", resp.StatusCode, body)
	}
}

func TestUIAnalyticsPage(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	fb := e.channelOfUnit("mini", "facebook")
	if err := e.org.AddAudience(ctx, access.SystemPrincipal(), fb.ID, []org.AudiencePoint{{Day: "2026-10-01", Followers: 500}, {Day: "2026-10-10", Followers: 540}}); err != nil {
		t.Fatal(err)
	}
	e.user("mini@example.com", "mini", access.RoleManager)
	b := e.browser()
	b.login("mini@example.com")
	code, body := b.get("/analytics?from=2026-10-01&to=2026-10-10")
	if code != 200 || !strings.Contains(body, `id="audience-data"`) || !strings.Contains(body, "<td>Facebook</td><td>500</td><td>540</td><td>40</td>") ||
		!strings.Contains(body, "uplot.min.js") || !strings.Contains(body, "format=csv") {
		t.Fatalf("analytics page: %d\n%s", code, body)
	}
	// Every table the page shows downloads as CSV, from the page's links.
	for _, api := range []string{"overview", "care", "funnel"} {
		i := strings.Index(body, `href="/api/v1/analytics/`+api+`?`)
		if i < 0 {
			t.Fatalf("no CSV link for %s", api)
		}
		link := html.UnescapeString(body[i+len(`href="`) : i+len(`href="`)+strings.Index(body[i+len(`href="`):], `"`)])
		if code, csv := b.get(link); code != 200 || !strings.Contains(csv, ",") || strings.HasPrefix(csv, "{") {
			t.Fatalf("%s CSV: %d\n%.300s", api, code, csv)
		}
	}
	// A unit out of scope is an error on the page, not someone else's numbers.
	code, body = b.get("/analytics?unit=bmw")
	if code != 400 || strings.Contains(body, `id="audience-data"`) {
		t.Fatalf("out of scope: %d", code)
	}
	if code, _ := b.get("/analytics?from=yesterday"); code != 400 {
		t.Fatalf("bad date: %d", code)
	}
}

// Published posts' engagement is read on the decaying schedule and shows
// in the overview: nothing before the first hour, one reading after it,
// the next only after six hours.
func TestPostMetricsCollectedAndShown(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	id := e.channelByHandle("simulator", "bmw_uk")
	e.connectSim(id, "bmw_uk")
	var created struct {
		ID int64 `json:"id"`
	}
	if code := e.do(adm, "POST", "/api/v1/posts", map[string]any{"text": "Track day at Silverstone", "channels": []int64{id}}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var post struct {
		Deliveries []struct {
			ID int64 `json:"id"`
		} `json:"deliveries"`
	}
	e.do(adm, "GET", fmt.Sprintf("/api/v1/posts/%d", created.ID), nil, &post)
	if _, err := e.publish.DeliverOnce(ctx, post.Deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := &analytics.Collector{Store: e.store, Accounts: e.conn, Now: func() time.Time { return now }}
	if n, err := c.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the first hour: %d %v", n, err)
	}
	// The simulated network lets the post gather reactions meanwhile.
	e.clock.Add(3 * time.Hour)
	e.sim.Advance()
	now = now.Add(2 * time.Hour)
	if n, err := c.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after an hour: %d %v", n, err)
	}
	if n, _ := c.Sweep(ctx); n != 0 {
		t.Fatalf("read again before six hours: %d", n)
	}
	var o analytics.Overview
	if code := e.do(adm, "GET", "/api/v1/analytics/overview?unit=bmw-uk&tz=UTC", nil, &o); code != 200 {
		t.Fatalf("overview: %d", code)
	}
	if len(o.Engagement) != 1 || o.Engagement[0].Platform != "simulator" || o.Engagement[0].Posts != 1 || o.Engagement[0].PerPost == "" {
		t.Fatalf("engagement: %+v", o.Engagement)
	}
	if len(o.TopPosts) != 1 || o.TopPosts[0].PostID != created.ID || o.TopPosts[0].Text != "Track day at Silverstone" {
		t.Fatalf("top posts: %+v", o.TopPosts)
	}
}

func TestLeadFunnel(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	de, uk := e.channelOf("bmw-de"), e.channelOf("bmw-uk")
	var res ingestAnswer
	if code := e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "f1", "p1", "Was kostet ein X5 im Leasing? Ich möchte bestellen."),
		msgIn(de, "f2", "p2", "Ich möchte einen iX3 probefahren, welcher Händler?"),
		msgIn(uk, "f3", "p3", "How much would leasing a new X3 cost? I'd like a test drive."),
	}}, &res); code != 202 || res.Accepted != 3 {
		t.Fatalf("ingest: %d %+v", code, res)
	}
	var ls struct {
		Items []struct {
			ID   int64  `json:"id"`
			Unit string `json:"unit"`
		} `json:"items"`
	}
	e.do(adm, "GET", "/api/v1/leads", nil, &ls)
	if len(ls.Items) != 3 {
		t.Fatalf("leads: %+v", ls.Items)
	}
	// Work the German leads: one contacted, one won.
	n := 0
	for _, l := range ls.Items {
		if l.Unit != "bmw-de" {
			continue
		}
		state := map[int]string{0: "contacted", 1: "won"}[n]
		body := map[string]string{"state": state}
		if state == "won" {
			body["outcome"] = "ordered an iX3"
		}
		if code := e.do(adm, "PATCH", fmt.Sprintf("/api/v1/leads/%d", l.ID), body, nil); code != 200 {
			t.Fatalf("set %s: %d", state, code)
		}
		n++
	}
	var f analytics.Funnel
	if code := e.do(adm, "GET", "/api/v1/analytics/funnel?unit=bmw", nil, &f); code != 200 {
		t.Fatalf("funnel: %d", code)
	}
	rows := map[string]analytics.FunnelRow{}
	for _, r := range f.Rows {
		rows[r.Unit] = r
	}
	if d := rows["bmw-de"]; d.Leads != 2 || d.Contacted != 1 || d.Won != 1 || d.ReachedContact != 2 || d.ReachedQualified != 1 || d.MedianContact == "" {
		t.Fatalf("bmw-de: %+v", d)
	}
	if u := rows["bmw-uk"]; u.Leads != 1 || u.New != 1 || u.ReachedContact != 0 || u.MedianContact != "" {
		t.Fatalf("bmw-uk: %+v", u)
	}
	if f.Total.Leads != 3 || f.Total.Won != 1 {
		t.Fatalf("total: %+v", f.Total)
	}
	// Sales of the UK market see only the UK; a viewer may not read leads.
	sales := e.user("sales@example.com", "bmw-uk", access.RoleSales)
	var fu analytics.Funnel
	if code := e.do(sales, "GET", "/api/v1/analytics/funnel?unit=bmw-uk", nil, &fu); code != 200 || fu.Total.Leads != 1 {
		t.Fatalf("sales funnel: %d %+v", code, fu.Total)
	}
	if code := e.do(sales, "GET", "/api/v1/analytics/funnel?unit=bmw-de", nil, nil); code != 400 {
		t.Fatalf("sales of the UK reading Germany: %d", code)
	}
	viewer := e.user("viewer@example.com", "bmw", access.RoleViewer)
	if code := e.do(viewer, "GET", "/api/v1/analytics/funnel?unit=bmw", nil, nil); code != 403 {
		t.Fatalf("viewer: %d", code)
	}
}

func TestCampaignReport(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	dealer := e.user("dealer@example.com", "bmw-muenchen-nord", access.RoleEditor)
	var camp struct {
		ID int64 `json:"id"`
	}
	if code := e.do(adm, "POST", "/api/v1/campaigns", map[string]any{"unit": "bmw", "name": "X5 launch", "topic": "X5"}, &camp); code != 201 {
		t.Fatalf("campaign: %d", code)
	}
	bc, err := e.org.CreateChannel(ctx, access.SystemPrincipal(), org.ChannelInput{Unit: "bmw", Platform: "simulator", Handle: "bmw_brand"})
	if err != nil {
		t.Fatal(err)
	}
	e.connectSim(bc.ID, "bmw_brand")
	dc := e.channelByHandle("simulator", "bmw_muenchen_nord")
	e.connectSim(dc, "bmw_muenchen_nord")
	var p struct {
		ID         int64 `json:"id"`
		Deliveries []struct {
			ID             int64  `json:"id"`
			PlatformPostID string `json:"platform_post_id"`
		} `json:"deliveries"`
	}
	if code := e.do(adm, "POST", "/api/v1/posts", map[string]any{"text": "The new BMW X5.", "channels": []int64{bc.ID}, "campaign": camp.ID}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	e.do(adm, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p)
	if _, err := e.publish.DeliverOnce(ctx, p.Deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	e.do(adm, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p)
	var offers struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if code := e.do(adm, "POST", fmt.Sprintf("/api/v1/posts/%d/offers", p.ID), map[string]any{"units": []string{"bmw-de"}}, &offers); code != 201 {
		t.Fatalf("offer: %d", code)
	}
	var taken struct {
		ID         int64 `json:"id"`
		Deliveries []struct {
			ID int64 `json:"id"`
		} `json:"deliveries"`
	}
	if code := e.do(dealer, "POST", fmt.Sprintf("/api/v1/offers/%d/take", offers.Items[0].ID), map[string]any{"text": "Der neue X5 – bei uns in München.", "channels": []int64{dc}}, &taken); code != 201 {
		t.Fatalf("take up: %d", code)
	}
	if _, err := e.publish.DeliverOnce(ctx, taken.Deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	// Someone answers the brand's post wanting to buy; someone else posts
	// on the channel about something else.
	reply := msgIn(bc.ID, "r1", "buyer", "What would leasing the new X5 cost? I'd like to order one.")
	reply["in_reply_to"] = p.Deliveries[0].PlatformPostID
	other := msgIn(bc.ID, "r2", "fan", "Great video!")
	var res ingestAnswer
	if code := e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{reply, other}}, &res); code != 202 {
		t.Fatalf("ingest: %d", code)
	}
	var rep analytics.CampaignReport
	if code := e.do(adm, "GET", fmt.Sprintf("/api/v1/analytics/campaigns/%d", camp.ID), nil, &rep); code != 200 {
		t.Fatalf("report: %d", code)
	}
	if len(rep.ByPlatform) != 1 || rep.ByPlatform[0].Key != "simulator" || rep.ByPlatform[0].Posts != 2 {
		t.Fatalf("by platform: %+v", rep.ByPlatform)
	}
	units := map[string]int64{}
	for _, r := range rep.ByUnit {
		units[r.Key] = r.Posts
	}
	if len(units) != 2 || units["bmw"] != 1 || units["bmw-muenchen-nord"] != 1 {
		t.Fatalf("by unit: %+v", rep.ByUnit)
	}
	if len(rep.TakenUp) != 1 || rep.TakenUp[0].Unit != "bmw-muenchen-nord" || rep.TakenUp[0].PublishedAt == nil {
		t.Fatalf("taken up: %+v", rep.TakenUp)
	}
	if len(rep.Inbound) != 1 || rep.Inbound[0].Key != "purchase" || rep.Inbound[0].Current != 1 {
		t.Fatalf("inbound: %+v", rep.Inbound)
	}
	if len(rep.Leads) != 1 || rep.Leads[0].Key != "new" || rep.Leads[0].Current != 1 {
		t.Fatalf("leads: %+v", rep.Leads)
	}
	// The campaign page shows the report, and its CSV downloads.
	b := e.browser()
	e.user("brand@example.com", "bmw", access.RoleManager)
	b.login("brand@example.com")
	if code, body := b.get(fmt.Sprintf("/campaigns/%d", camp.ID)); code != 200 || !strings.Contains(body, "Taken up by markets and dealers") || !strings.Contains(body, "format=csv") {
		t.Fatalf("campaign page: %d", code)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/analytics/campaigns/%d?format=csv", e.http.URL, camp.ID), nil)
	req.Header.Set("Authorization", "Bearer "+adm)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(csvBody), "platform,simulator,,2,") || !strings.Contains(string(csvBody), "taken_up,bmw-muenchen-nord") {
		t.Fatalf("campaign csv:\n%s", csvBody)
	}
	// A MINI manager can't see BMW's campaign.
	mini := e.user("mini@example.com", "mini", access.RoleManager)
	if code := e.do(mini, "GET", fmt.Sprintf("/api/v1/analytics/campaigns/%d", camp.ID), nil, nil); code != 404 {
		t.Fatalf("out of scope: %d", code)
	}
}

func TestChannelMixPerTopic(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	var camp, other struct {
		ID int64 `json:"id"`
	}
	e.do(adm, "POST", "/api/v1/campaigns", map[string]any{"unit": "bmw", "name": "M Town", "topic": "motorsport"}, &camp)
	e.do(adm, "POST", "/api/v1/campaigns", map[string]any{"unit": "bmw", "name": "Untopical"}, &other)
	a, b := e.channelByHandle("simulator", "bmw_uk"), e.channelByHandle("simulator", "bmw_france")
	e.connectSim(a, "bmw_uk")
	e.connectSim(b, "bmw_france")
	for _, c := range []struct {
		campaign int64
		text     string
	}{{camp.ID, "Race weekend"}, {other.ID, "Something else"}} {
		var p struct {
			ID int64 `json:"id"`
		}
		if code := e.do(adm, "POST", "/api/v1/posts", map[string]any{"text": c.text, "channels": []int64{a, b}, "campaign": c.campaign}, &p); code != 201 {
			t.Fatalf("post: %d", code)
		}
		var full struct {
			Deliveries []struct {
				ID int64 `json:"id"`
			} `json:"deliveries"`
		}
		e.do(adm, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &full)
		for _, d := range full.Deliveries {
			if _, err := e.publish.DeliverOnce(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	var res struct {
		Topics []analytics.TopicMix `json:"topics"`
	}
	if code := e.do(adm, "GET", "/api/v1/analytics/topics?unit=bmw&tz=UTC", nil, &res); code != 200 {
		t.Fatalf("topics: %d", code)
	}
	if len(res.Topics) != 1 || res.Topics[0].Topic != "motorsport" || res.Topics[0].Posts != 2 || len(res.Topics[0].Platforms) != 1 ||
		res.Topics[0].Platforms[0].Platform != "simulator" || res.Topics[0].Platforms[0].Posts != 2 {
		t.Fatalf("mix: %+v", res.Topics)
	}
	// Within one market, only its channel counts.
	if e.do(adm, "GET", "/api/v1/analytics/topics?unit=bmw-uk&tz=UTC", nil, &res); len(res.Topics) != 1 || res.Topics[0].Posts != 1 {
		t.Fatalf("bmw-uk mix: %+v", res.Topics)
	}
}

func TestCareReport(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	uk := e.channelByHandle("simulator", "bmw_uk")
	e.connectSim(uk, "bmw_uk")
	var res ingestAnswer
	if code := e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(uk, "c1", "a1", "My iDrive keeps crashing after the update, please help."),
		msgIn(uk, "c2", "a2", "How much would leasing a new X3 cost? I'd like a test drive."),
		msgIn(uk, "c3", "a3", "My navigation shows the wrong map since yesterday."),
	}}, &res); code != 202 || res.Accepted != 3 {
		t.Fatalf("ingest: %d %+v", code, res)
	}
	var list struct {
		Items []struct {
			ID         int64  `json:"id"`
			ExternalID string `json:"external_id"`
		} `json:"items"`
	}
	e.do(adm, "GET", "/api/v1/messages?unit=bmw-uk", nil, &list)
	ids := map[string]int64{}
	for _, m := range list.Items {
		ids[m.ExternalID] = m.ID
	}
	if code := e.do(adm, "POST", fmt.Sprintf("/api/v1/messages/%d/replies", ids["c1"]), map[string]string{"text": "Sorry about that, we'll call you."}, nil); code != 201 {
		t.Fatalf("reply: %d", code)
	}
	// c3 waited past its SLA without an answer.
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE messages SET sla_due_at = $1 WHERE id = $2`, time.Now().Add(-time.Hour).UnixMilli(), ids["c3"]); err != nil {
		t.Fatal(err)
	}
	var c analytics.Care
	if code := e.do(adm, "GET", "/api/v1/analytics/care?unit=bmw&tz=UTC", nil, &c); code != 200 {
		t.Fatalf("care: %d", code)
	}
	if c.Total.Messages != 3 || c.Total.Responded != 1 || c.Total.Breached != 1 || c.Total.Median == "" {
		t.Fatalf("total: %+v", c.Total)
	}
	if len(c.ByUnit) != 1 || c.ByUnit[0].Key != "bmw-uk" || len(c.ByQueue) < 2 {
		t.Fatalf("by unit %+v, by queue %+v", c.ByUnit, c.ByQueue)
	}
	viewer := e.user("viewer@example.com", "bmw", access.RoleViewer)
	if code := e.do(viewer, "GET", "/api/v1/analytics/care?unit=bmw", nil, nil); code != 403 {
		t.Fatalf("viewer: %d", code)
	}
}
