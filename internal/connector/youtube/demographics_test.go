package youtube

import (
	"context"
	"math"
	"net/http"
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Viewer demographics come from one YouTube Analytics report over the 28
// days ending three days back (Pacific); shares are summed per age group
// and per gender.
func TestFetchDemographics(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.viewers = [][3]any{
			{"age13-17", "female", 1.5}, {"age18-24", "female", 6.0}, {"age25-34", "female", 7.5},
			{"age13-17", "male", 3.5}, {"age18-24", "male", 14.0}, {"age25-34", "male", 30.0}, {"age35-44", "male", 20.0},
			{"age65-", "male", 2.5}, {"age45-54", "user_specified", 1.0}, {"age55-64", "male", 14.0},
		}
	})
	d, err := connector.FetchDemographics(context.Background(), e.c, e.acct)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"13-17": 5, "18-24": 20, "25-34": 37.5, "35-44": 20, "45-54": 1, "55-64": 14, "65+": 2.5}
	for k, v := range want {
		if math.Abs(d.Age[k]-v) > 1e-9 {
			t.Fatalf("age %s: %v, want %v (%v)", k, d.Age[k], v, d.Age)
		}
	}
	if d.Gender["female"] != 15 || d.Gender["male"] != 84 || d.Gender["other"] != 1 || d.Basis != "viewers" {
		t.Fatalf("%+v", d)
	}
	r := e.f.last("GET", "/v2/reports")
	q := r.Query
	// The clock says 2025-03-01 20:00 UTC, noon in California: the report
	// ends 2025-02-26 and starts 27 days earlier.
	if q.Get("ids") != "channel==MINE" || q.Get("metrics") != "viewerPercentage" || q.Get("dimensions") != "ageGroup,gender" ||
		q.Get("startDate") != "2025-01-30" || q.Get("endDate") != "2025-02-26" || r.Header.Get("Authorization") != "Bearer ya29.good" {
		t.Fatalf("request %v %v", q, r.Header)
	}
}

// No rows, or no analytics scope, is "not reported"; an exhausted quota
// is a rate limit.
func TestDemographicsNotReportedAndQuota(t *testing.T) {
	e := setup(t)
	d, err := e.c.FetchDemographics(context.Background(), e.acct)
	if err != nil || !d.Empty() || d.Age != nil {
		t.Fatalf("%+v %v", d, err)
	}
	e.f.set(func() { e.f.noAnalytics = true; e.f.viewers = [][3]any{{"age18-24", "male", 100.0}} })
	d, err = e.c.FetchDemographics(context.Background(), e.acct)
	if err != nil || !d.Empty() {
		t.Fatalf("%+v %v", d, err)
	}
	e2 := setup(t)
	e2.f.set(func() {
		e2.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			gErr(w, 403, "quotaExceeded", "youtube.quota", "The request cannot be completed because you have exceeded your quota.")
			return true
		}
	})
	_, err = e2.c.FetchDemographics(context.Background(), e2.acct)
	kindOf(t, err, connector.KindRateLimited)
}

// The scope to read analytics is asked for when a channel is connected.
func TestAnalyticsScopeRequested(t *testing.T) {
	found := false
	for _, s := range DefaultScopes {
		found = found || s == AnalyticsScope
	}
	if !found {
		t.Fatal("yt-analytics.readonly missing from DefaultScopes")
	}
}
