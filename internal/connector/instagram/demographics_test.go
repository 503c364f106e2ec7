package instagram

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Follower demographics come from two follower_demographics requests
// (breakdown=age, breakdown=gender); Graph's F/M/U become female, male and
// other, and unknown buckets are left out.
func TestFetchDemographics(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.demographics = map[string]map[string]int{
			"age":    {"13-17": 120, "18-24": 3100, "25-34": 2900, "35-44": 1500, "45-54": 800, "55-64": 300, "65+": 80, "unknown": 5},
			"gender": {"F": 4100, "M": 4500, "U": 200},
		}
	})
	d, err := connector.FetchDemographics(context.Background(), e.c, e.acct)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"13-17": 120, "18-24": 3100, "25-34": 2900, "35-44": 1500, "45-54": 800, "55-64": 300, "65+": 80}
	if len(d.Age) != len(want) || d.Basis != "followers" {
		t.Fatalf("%+v", d)
	}
	for k, v := range want {
		if d.Age[k] != v {
			t.Fatalf("age %s: %v, want %v", k, d.Age[k], v)
		}
	}
	if d.Gender["female"] != 4100 || d.Gender["male"] != 4500 || d.Gender["other"] != 200 || len(d.Gender) != 3 {
		t.Fatalf("gender %+v", d.Gender)
	}
	reqs := e.f.all("GET", "/v21.0/"+e.f.igID+"/insights")
	if len(reqs) != 2 {
		t.Fatalf("%d insight requests", len(reqs))
	}
	for i, b := range []string{"age", "gender"} {
		q := reqs[i].Query
		if q.Get("metric") != "follower_demographics" || q.Get("period") != "lifetime" || q.Get("metric_type") != "total_value" || q.Get("breakdown") != b {
			t.Fatalf("request %d: %v", i, q)
		}
		if reqs[i].Header.Get("Authorization") != "Bearer page-tok" || q.Get("appsecret_proof") == "" {
			t.Fatalf("request %d not authorised: %v", i, reqs[i].Header)
		}
	}
}

// A small account's empty breakdowns, and a refusal of the metric (no
// instagram_manage_insights), are "not reported", not errors.
func TestDemographicsNotReported(t *testing.T) {
	e := setup(t)
	d, err := e.c.FetchDemographics(context.Background(), e.acct)
	if err != nil || !d.Empty() || d.Age != nil || d.Gender != nil {
		t.Fatalf("%+v %v", d, err)
	}
	e.f.set(func() {
		e.f.noInsights = true
		e.f.demographics = map[string]map[string]int{"age": {"18-24": 500}}
	})
	d, err = e.c.FetchDemographics(context.Background(), e.acct)
	if err != nil || !d.Empty() {
		t.Fatalf("%+v %v", d, err)
	}
}

// Rate limits and expired tokens are errors, so the caller waits or asks
// for a reconnect instead of recording "not reported".
func TestDemographicsErrors(t *testing.T) {
	e := setup(t)
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("X-Business-Use-Case-Usage", `{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":7}]}`)
			graphErr(w, 400, 80002, 0, "OAuthException", "There have been too many calls to this Instagram account. Wait a bit and try again.")
			return true
		}
	})
	_, err := e.c.FetchDemographics(context.Background(), e.acct)
	if ce := kindOf(t, err, connector.KindRateLimited); !ce.RetryAt.Equal(e.clk.Now().Add(7 * time.Minute)) {
		t.Fatalf("%+v", ce)
	}
	e2 := setup(t)
	e2.acct.Credentials.AccessToken = "old"
	_, err = e2.c.FetchDemographics(context.Background(), e2.acct)
	kindOf(t, err, connector.KindReconnectNeeded)
}
