package youtube

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// DefaultAnalyticsBase is the YouTube Analytics API's host; Account.BaseURL
// overrides it like the Data API's (tests serve both from one server).
const DefaultAnalyticsBase = "https://youtubeanalytics.googleapis.com"

// AnalyticsScope lets the hub read the channel's YouTube Analytics reports.
const AnalyticsScope = "https://www.googleapis.com/auth/yt-analytics.readonly"

// demographicsDays is the window of the viewer demographics report; it
// ends a few days back because YouTube Analytics data arrives late.
const (
	demographicsDays = 28
	demographicsLag  = 3
)

func analyticsBase(acct *connector.Account) string {
	if acct != nil {
		if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
			return b
		}
	}
	return DefaultAnalyticsBase
}

// youtubeGender maps the report's gender values; "user_specified" is a
// gender the viewer gave in their own words.
var youtubeGender = map[string]string{"female": connector.GenderFemale, "male": connector.GenderMale, "user_specified": connector.GenderOther}

// youtubeAge maps ageGroup values ("age18-24", "age65-") to the hub's.
func youtubeAge(v string) (string, bool) {
	g, ok := strings.CutPrefix(v, "age")
	if !ok {
		return "", false
	}
	if g == "65-" {
		g = connector.Age65plus
	}
	for _, a := range connector.AgeGroups {
		if a == g {
			return g, true
		}
	}
	return "", false
}

// FetchDemographics implements connector.DemographicsFetcher with a
// YouTube Analytics report (reports.query: ids=channel==MINE,
// dimensions=ageGroup,gender, metrics=viewerPercentage) over the last 28
// days for which data is complete. YouTube reports the share of the
// channel's signed-in viewers, not of its subscribers, in percent; the
// answer says so (Basis "viewers"). A channel without the analytics
// scope, or without enough viewers, is "not reported".
func (c *Connector) FetchDemographics(ctx context.Context, acct *connector.Account) (connector.Demographics, error) {
	now := c.now()
	end := now.In(pacific).AddDate(0, 0, -demographicsLag)
	start := end.AddDate(0, 0, -(demographicsDays - 1))
	q := url.Values{"ids": {"channel==MINE"}, "startDate": {start.Format("2006-01-02")}, "endDate": {end.Format("2006-01-02")},
		"metrics": {"viewerPercentage"}, "dimensions": {"ageGroup,gender"}, "sort": {"gender,ageGroup"}}
	var out struct {
		ColumnHeaders []struct {
			Name string `json:"name"`
		} `json:"columnHeaders"`
		Rows [][]json.RawMessage `json:"rows"`
	}
	_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "demographics", Method: http.MethodGet,
		URL: analyticsBase(acct) + "/v2/reports?" + q.Encode()}, &out)
	d := connector.Demographics{At: now, Basis: "viewers"}
	if connector.KindOf(err) == connector.KindPermanent {
		return d, nil
	}
	if err != nil {
		return connector.Demographics{}, err
	}
	// Columns are found by name, as the report's columnHeaders say.
	col := map[string]int{}
	for i, h := range out.ColumnHeaders {
		col[h.Name] = i
	}
	ai, ok1 := col["ageGroup"]
	gi, ok2 := col["gender"]
	vi, ok3 := col["viewerPercentage"]
	if !ok1 || !ok2 || !ok3 {
		return d, nil
	}
	age, gender := map[string]float64{}, map[string]float64{}
	for _, row := range out.Rows {
		if len(row) != len(out.ColumnHeaders) {
			continue
		}
		var a, g string
		var v float64
		if json.Unmarshal(row[ai], &a) != nil || json.Unmarshal(row[gi], &g) != nil || json.Unmarshal(row[vi], &v) != nil || v <= 0 {
			continue
		}
		if ag, ok := youtubeAge(a); ok {
			age[ag] += v
		}
		if gg, ok := youtubeGender[g]; ok {
			gender[gg] += v
		}
	}
	if len(age) > 0 {
		d.Age = age
	}
	if len(gender) > 0 {
		d.Gender = gender
	}
	return d, nil
}
