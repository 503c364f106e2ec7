package sim

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
)

func total(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// young is the share of 13-24 year olds.
func young(d connector.Demographics) float64 {
	return (d.Age[connector.Age13to17] + d.Age[connector.Age18to24]) / total(d.Age)
}

// The connector reads the account's followers by age group and gender from
// GET /api/me/demographics; the counts add up to the followers.
func TestFetchDemographics(t *testing.T) {
	e := newEnv(t, Config{})
	if !e.conn.Capabilities().Demographics {
		t.Fatal("the simulator declares demographics")
	}
	d, err := connector.FetchDemographics(context.Background(), e.conn, e.acct)
	if err != nil {
		t.Fatal(err)
	}
	r := e.rec.last("GET", "/sim/api/me/demographics")
	if r.Header.Get("Authorization") != "Bearer "+e.acct.Credentials.AccessToken.Reveal() {
		t.Fatalf("request %+v", r)
	}
	m, _ := e.conn.FetchMetrics(context.Background(), e.acct, nil)
	if d.Empty() || d.Basis != "followers" || len(d.Age) != 7 || len(d.Gender) != 3 {
		t.Fatalf("%+v", d)
	}
	if total(d.Age) != float64(m.Followers) || total(d.Gender) != float64(m.Followers) {
		t.Fatalf("age %v gender %v, followers %d", total(d.Age), total(d.Gender), m.Followers)
	}
}

// An account imitating Instagram has a younger audience than one
// imitating Facebook, and the same handle always has the same mix.
func TestImitatedAudiencesDiffer(t *testing.T) {
	e := newEnv(t, Config{})
	connect := func(handle, imitates string) *connector.Account {
		a := &connector.Account{ChannelID: handle, BaseURL: e.acct.BaseURL,
			Credentials: connector.Credentials{Identifier: handle, Extra: map[string]string{"imitates": imitates}}}
		if _, err := e.conn.Connect(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.Unmarshal(e.rec.last("POST", "/sim/api/sessions").Body, &body)
		if body["imitates"] != imitates {
			t.Fatalf("session body %v", body)
		}
		return a
	}
	ig, fb := connect("mini_insta", "instagram"), connect("mini_fb", "facebook")
	dIG, err := e.conn.FetchDemographics(context.Background(), ig)
	if err != nil {
		t.Fatal(err)
	}
	dFB, err := e.conn.FetchDemographics(context.Background(), fb)
	if err != nil {
		t.Fatal(err)
	}
	if young(dIG) < 2*young(dFB) {
		t.Fatalf("instagram young share %.2f, facebook %.2f", young(dIG), young(dFB))
	}
	again := AudienceOf("instagram", "mini_insta", 1000)
	if again.Age[connector.Age18to24] != AudienceOf("instagram", "@MINI_insta", 1000).Age[connector.Age18to24] {
		t.Fatal("the mix depends on the handle only")
	}
	if d := AudienceOf("facebook", "small", MinDemographicFollowers-1); !d.Empty() || d.Age != nil {
		t.Fatalf("below the threshold nothing is reported: %+v", d)
	}
	// An unknown platform to imitate is refused.
	bad := &connector.Account{ChannelID: "bad", BaseURL: e.acct.BaseURL,
		Credentials: connector.Credentials{Identifier: "bad", Extra: map[string]string{"imitates": "myspace"}}}
	if _, err := e.conn.Connect(context.Background(), bad); err == nil {
		t.Fatal("imitating an unknown platform must be refused")
	}
}

// A rate-limited simulator answers 429; the connector says when to retry.
func TestDemographicsRateLimited(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetFaults(Faults{RateLimited: 1})
	_, err := e.conn.FetchDemographics(context.Background(), e.acct)
	kindOf(t, err, connector.KindRateLimited)
}
