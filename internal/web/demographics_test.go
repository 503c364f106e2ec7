package web

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/org"
)

// saveReading records a reading given as counts (or percentages), as the
// audience job does.
func (e *testEnv) saveReading(channelID int64, day string, age, gender map[string]float64) {
	e.t.Helper()
	r, ok := analytics.ReadingOf(day, connector.Demographics{Basis: "followers", Age: age, Gender: gender})
	if !ok {
		e.t.Fatal("nothing to save")
	}
	if err := e.store.SaveDemographics(context.Background(), channelID, r, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) followers(channelID int64, pts ...org.AudiencePoint) {
	e.t.Helper()
	if err := e.store.AddAudience(context.Background(), channelID, pts); err != nil {
		e.t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// shareOf finds a bucket's share; -1 when absent.
func shareOf(sh []analytics.Share, key string) float64 {
	for _, s := range sh {
		if s.Key == key {
			return s.Share
		}
	}
	return -1
}

func mixFor(t *testing.T, d analytics.AudienceDemographics, platform string) analytics.AudienceMix {
	t.Helper()
	for _, m := range d.Platforms {
		if m.Platform == platform {
			return m
		}
	}
	t.Fatalf("no %s in %+v", platform, d.Platforms)
	return analytics.AudienceMix{}
}

// The audience job records the simulator's demographics next to the
// followers, once per day however often it runs; a rate-limited
// demographics request keeps the follower reading and asks again when the
// limit lifts.
func TestAudienceJobRecordsDemographics(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	id := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(id, "bmw_de")
	for range 2 {
		if next, err := e.conn.RecordAudience(ctx, id); err != nil || next <= time.Minute {
			t.Fatalf("record: %v %v", next, err)
		}
	}
	hist, err := e.store.DemographicsHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Day != time.Now().UTC().Format("2006-01-02") || hist[0].Basis != "followers" {
		t.Fatalf("history %+v", hist)
	}
	var ageSum, genderSum float64
	for _, v := range hist[0].Age {
		ageSum += v
	}
	for _, v := range hist[0].Gender {
		genderSum += v
	}
	if len(hist[0].Age) != 7 || len(hist[0].Gender) != 3 || !near(ageSum, 1) || !near(genderSum, 1) {
		t.Fatalf("reading %+v", hist[0])
	}
	// Start the day's follower history afresh, then let only the
	// demographics request be rate limited.
	if _, err := e.store.DB().ExecContext(ctx, `DELETE FROM channel_audience WHERE channel_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	e.sim.SetFaults(sim.Faults{RateLimited: 1, Path: "/api/me/demographics", RateLimitReset: 20 * time.Second})
	next, err := e.conn.RecordAudience(ctx, id)
	if err != nil || next > 30*time.Second {
		t.Fatalf("rate limited: next %v, err %v", next, err)
	}
	if after, _ := e.store.Audience(ctx, id); len(after) != 1 || after[0].Followers <= 0 {
		t.Fatalf("the follower reading was lost: %+v", after)
	}
	if h, _ := e.store.DemographicsHistory(ctx, id); len(h) != 1 {
		t.Fatalf("history %+v", h)
	}
}

// TestDemographicsFigures checks the audience figures against readings
// built by hand: each channel's latest reading in the period, weighted by
// its latest followers on or before the period's end, each platform and
// all channels; breakdowns nobody reported are null ("not reported"), not
// zero; the unit scope is honoured; JSON, CSV and the page agree.
func TestDemographicsFigures(t *testing.T) {
	e := newTestEnv(t)
	ig := e.channelOfUnit("bmw", "instagram").ID
	fb := e.channelOfUnit("bmw", "facebook").ID
	fbI := e.channelOfUnit("bmw-i", "facebook").ID
	yt := e.channelOfUnit("bmw", "youtube").ID
	miniFB := e.channelOfUnit("mini", "facebook").ID

	// Instagram: the reading of 03-06 counts (03-03 is older, 02-20 and
	// 03-09 are outside the period); followers as of 03-05 (03-08 is after).
	e.saveReading(ig, "2025-02-20", map[string]float64{"65+": 10}, nil)
	e.saveReading(ig, "2025-03-03", map[string]float64{"13-17": 10}, map[string]float64{"female": 1})
	e.saveReading(ig, "2025-03-06", map[string]float64{"18-24": 400, "25-34": 400}, map[string]float64{"female": 60, "male": 40})
	e.saveReading(ig, "2025-03-09", map[string]float64{"65+": 10}, nil)
	e.followers(ig, org.AudiencePoint{Day: "2025-03-05", Followers: 1000}, org.AudiencePoint{Day: "2025-03-08", Followers: 99999})
	// Facebook: BMW with ages only, BMW i with both.
	e.saveReading(fb, "2025-03-02", map[string]float64{"35-44": 5}, nil)
	e.followers(fb, org.AudiencePoint{Day: "2025-02-01", Followers: 3000})
	e.saveReading(fbI, "2025-03-07", map[string]float64{"18-24": 1}, map[string]float64{"male": 1})
	e.followers(fbI, org.AudiencePoint{Day: "2025-03-07", Followers: 1000})
	// YouTube: a reading but no follower count, so it can't be weighted.
	e.saveReading(yt, "2025-03-04", map[string]float64{"18-24": 50, "25-34": 50}, nil)
	// MINI is outside BMW's subtree.
	e.saveReading(miniFB, "2025-03-04", map[string]float64{"13-17": 1}, nil)
	e.followers(miniFB, org.AudiencePoint{Day: "2025-03-04", Followers: 50000})

	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	var d analytics.AudienceDemographics
	if code := e.do(adm, "GET", "/api/v1/analytics/demographics?unit=bmw&from=2025-03-01&to=2025-03-07&tz=UTC", nil, &d); code != 200 {
		t.Fatalf("demographics: %d", code)
	}
	a := d.All
	if a.Reported != 3 || a.Followers != 5000 || !near(shareOf(a.Age, "18-24"), 0.3) || !near(shareOf(a.Age, "25-34"), 0.1) ||
		!near(shareOf(a.Age, "35-44"), 0.6) || !near(shareOf(a.Age, "13-17"), 0) || !near(shareOf(a.Gender, "female"), 0.3) ||
		!near(shareOf(a.Gender, "male"), 0.7) || !near(shareOf(a.Gender, "other"), 0) {
		t.Fatalf("all: %+v", a)
	}
	if m := mixFor(t, d, "instagram"); m.Channels != 1 || m.Reported != 1 || m.Followers != 1000 || !near(shareOf(m.Age, "18-24"), 0.5) ||
		!near(shareOf(m.Gender, "female"), 0.6) || *m.Young() != 0.5 {
		t.Fatalf("instagram: %+v", m)
	}
	m := mixFor(t, d, "facebook")
	if m.Reported != 2 || m.Followers != 4000 || !near(shareOf(m.Age, "18-24"), 0.25) || !near(shareOf(m.Age, "35-44"), 0.75) ||
		!near(shareOf(m.Gender, "male"), 1) || len(m.Age) != 7 {
		t.Fatalf("facebook: %+v", m)
	}
	if m.Channels < 2 {
		t.Fatalf("facebook channels %d", m.Channels)
	}
	if m := mixFor(t, d, "youtube"); m.Reported != 0 || m.Age != nil || m.Gender != nil || m.Young() != nil {
		t.Fatalf("youtube must be not reported: %+v", m)
	}
	// Not reported is null in JSON, not zeros.
	code, raw := e.rawDo(adm, "GET", "/api/v1/analytics/demographics?unit=bmw&from=2025-03-01&to=2025-03-07&tz=UTC", "")
	if code != 200 || !strings.Contains(raw, `"platform":"youtube","channels":1,"reported":0,"followers":0,"age":null,"gender":null`) {
		t.Fatalf("json: %s", raw)
	}
	// The CSV says the same.
	code, csvBody := e.rawDo(adm, "GET", "/api/v1/analytics/demographics?unit=bmw&from=2025-03-01&to=2025-03-07&tz=UTC&format=csv", "")
	if code != 200 || !strings.Contains(csvBody, "all,age,35-44,0.6000,") || !strings.Contains(csvBody, "instagram,gender,female,0.6000,1,1,1000,followers") ||
		!strings.Contains(csvBody, "youtube,age,,not reported,1,0,0,") || !strings.Contains(csvBody, "facebook,gender,male,1.0000,") {
		t.Fatalf("csv:\n%s", csvBody)
	}
	// A manager of MINI sees MINI's audience only, and not BMW's.
	mini := e.user("mini@example.com", "mini", access.RoleManager)
	if code := e.do(mini, "GET", "/api/v1/analytics/demographics?unit=bmw", nil, nil); code == 200 {
		t.Fatal("out of scope unit answered")
	}
	var md analytics.AudienceDemographics
	if code := e.do(mini, "GET", "/api/v1/analytics/demographics?unit=mini&from=2025-03-01&to=2025-03-07&tz=UTC", nil, &md); code != 200 ||
		md.All.Followers != 50000 || !near(shareOf(md.All.Age, "13-17"), 1) {
		t.Fatalf("mini: %d %+v", code, md.All)
	}
	// The page shows the table, with "not reported" for YouTube.
	b := e.browser()
	e.user("bmw@example.com", "bmw", access.RoleManager)
	b.login("bmw@example.com")
	code, body := b.get("/analytics?unit=bmw&from=2025-03-01&to=2025-03-07")
	if code != 200 || !strings.Contains(body, `id="audience-demographics"`) || !strings.Contains(body, "/api/v1/analytics/demographics?") ||
		!strings.Contains(body, "<td>3 of ") || !strings.Contains(body, ">30.0 %<") || !strings.Contains(body, `colspan="7">not reported</td>`) {
		t.Fatalf("page: %d\n%s", code, body)
	}
}

// TestTopicAudience checks the channel mix's audience: the channels that
// carried a topic, each once however many of its posts they published,
// weighted by followers; a channel without a reading makes the platform
// "not reported" only when none has one.
func TestTopicAudience(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	var camp struct {
		ID int64 `json:"id"`
	}
	e.do(adm, "POST", "/api/v1/campaigns", map[string]any{"unit": "bmw", "name": "Gen Z", "topic": "young drivers"}, &camp)
	uk, fr, de := e.channelByHandle("simulator", "bmw_uk"), e.channelByHandle("simulator", "bmw_france"), e.channelByHandle("simulator", "bmw_de")
	for _, c := range []struct {
		id     int64
		handle string
	}{{uk, "bmw_uk"}, {fr, "bmw_france"}, {de, "bmw_de"}} {
		e.connectSim(c.id, c.handle)
	}
	publish := func(channels ...int64) {
		var p struct {
			ID int64 `json:"id"`
		}
		if code := e.do(adm, "POST", "/api/v1/posts", map[string]any{"text": "Your first BMW", "channels": channels, "campaign": camp.ID}, &p); code != 201 {
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
	publish(uk, fr)
	publish(uk) // bmw_uk twice: still one channel
	today := time.Now().UTC().Format("2006-01-02")
	e.saveReading(uk, today, map[string]float64{"13-17": 30, "18-24": 70}, map[string]float64{"female": 1, "male": 1})
	e.followers(uk, org.AudiencePoint{Day: today, Followers: 3000})
	e.saveReading(fr, today, map[string]float64{"45-54": 1}, nil)
	e.followers(fr, org.AudiencePoint{Day: today, Followers: 1000})
	// bmw_de did not carry the topic: its young audience must not count.
	e.saveReading(de, today, map[string]float64{"13-17": 1}, nil)
	e.followers(de, org.AudiencePoint{Day: today, Followers: 100000})

	var res struct {
		Topics []analytics.TopicMix `json:"topics"`
	}
	if code := e.do(adm, "GET", "/api/v1/analytics/topics?unit=bmw&tz=UTC", nil, &res); code != 200 || len(res.Topics) != 1 || len(res.Topics[0].Platforms) != 1 {
		t.Fatalf("topics: %d %+v", code, res.Topics)
	}
	ps := res.Topics[0].Platforms[0]
	a := ps.Audience
	if ps.Posts != 3 || a == nil || a.Channels != 2 || a.Reported != 2 || a.Followers != 4000 ||
		!near(shareOf(a.Age, "13-17"), 0.225) || !near(shareOf(a.Age, "18-24"), 0.525) || !near(shareOf(a.Age, "45-54"), 0.25) ||
		!near(shareOf(a.Gender, "female"), 0.5) || !near(*a.Young(), 0.75) {
		t.Fatalf("audience: %+v %+v", ps, a)
	}
	code, csvBody := e.rawDo(adm, "GET", "/api/v1/analytics/topics?unit=bmw&tz=UTC&format=csv", "")
	if code != 200 || !strings.Contains(csvBody, "audience_followers,age_13-17") ||
		!strings.Contains(csvBody, "young drivers,simulator,3,") || !strings.Contains(csvBody, ",2,2,4000,0.2250,0.5250,0.0000,0.0000,0.2500,0.0000,0.0000,0.5000,0.5000,0.0000") {
		t.Fatalf("csv:\n%s", csvBody)
	}
	// Within BMW UK only its own channel counts; without readings the
	// audience is "not reported".
	if e.do(adm, "GET", "/api/v1/analytics/topics?unit=bmw-uk&tz=UTC", nil, &res); res.Topics[0].Platforms[0].Audience.Followers != 3000 {
		t.Fatalf("bmw-uk: %+v", res.Topics[0].Platforms[0].Audience)
	}
	if _, err := e.store.DB().ExecContext(ctx, `DELETE FROM channel_demographics`); err != nil {
		t.Fatal(err)
	}
	code, csvBody = e.rawDo(adm, "GET", "/api/v1/analytics/topics?unit=bmw&tz=UTC&format=csv", "")
	if code != 200 || !strings.Contains(csvBody, ",2,0,0,not reported,not reported") {
		t.Fatalf("csv without readings:\n%s", csvBody)
	}
	b := e.browser()
	b.login("admin@example.com")
	_, body := b.get("/analytics?unit=bmw")
	if !strings.Contains(body, `id="topic-audience"`) || !strings.Contains(body, "<td>young drivers</td>") || !strings.Contains(body, "not reported") {
		t.Fatalf("page:\n%s", body)
	}
}
