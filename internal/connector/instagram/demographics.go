package instagram

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// instagramGender maps follower_demographics' gender values (F, M, U).
var instagramGender = map[string]string{"F": connector.GenderFemale, "M": connector.GenderMale, "U": connector.GenderOther}

// FetchDemographics implements connector.DemographicsFetcher with the
// account insight follower_demographics (period=lifetime,
// metric_type=total_value), once with breakdown=age and once with
// breakdown=gender: counts of followers per bucket. Instagram reports it
// only for professional accounts with at least 100 followers and with
// instagram_manage_insights granted; otherwise Graph refuses the metric,
// which is "not reported" (an empty answer), not a failure. Rate limits,
// expired tokens and outages are errors as everywhere.
func (c *Connector) FetchDemographics(ctx context.Context, acct *connector.Account) (connector.Demographics, error) {
	id, err := c.userID(ctx, acct)
	if err != nil {
		return connector.Demographics{}, err
	}
	d := connector.Demographics{At: c.now(), Basis: "followers"}
	for _, breakdown := range []string{"age", "gender"} {
		counts, err := c.followerBreakdown(ctx, acct, id, breakdown)
		if connector.KindOf(err) == connector.KindPermanent {
			return connector.Demographics{At: d.At, Basis: d.Basis}, nil
		}
		if err != nil {
			return connector.Demographics{}, err
		}
		m := map[string]float64{}
		for k, v := range counts {
			switch breakdown {
			case "age":
				if isAgeGroup(k) {
					m[k] += v
				}
			case "gender":
				if g, ok := instagramGender[k]; ok {
					m[g] += v
				}
			}
		}
		if len(m) == 0 {
			continue
		}
		if breakdown == "age" {
			d.Age = m
		} else {
			d.Gender = m
		}
	}
	return d, nil
}

func isAgeGroup(k string) bool {
	for _, g := range connector.AgeGroups {
		if g == k {
			return true
		}
	}
	return false
}

// followerBreakdown asks for follower_demographics by one dimension and
// returns the value per dimension value.
func (c *Connector) followerBreakdown(ctx context.Context, acct *connector.Account, igID, breakdown string) (map[string]float64, error) {
	q := url.Values{"metric": {"follower_demographics"}, "period": {"lifetime"}, "metric_type": {"total_value"}, "breakdown": {breakdown}}
	var out struct {
		Data []struct {
			Name       string `json:"name"`
			TotalValue struct {
				Breakdowns []struct {
					DimensionKeys []string `json:"dimension_keys"`
					Results       []struct {
						DimensionValues []string `json:"dimension_values"`
						Value           float64  `json:"value"`
					} `json:"results"`
				} `json:"breakdowns"`
			} `json:"total_value"`
		} `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "demographics", Method: http.MethodGet,
		URL: base(acct) + "/" + url.PathEscape(igID) + "/insights?" + q.Encode()}, &out); err != nil {
		return nil, err
	}
	counts := map[string]float64{}
	for _, m := range out.Data {
		if m.Name != "follower_demographics" {
			continue
		}
		for _, b := range m.TotalValue.Breakdowns {
			if len(b.DimensionKeys) != 1 || b.DimensionKeys[0] != breakdown {
				continue
			}
			for _, r := range b.Results {
				if len(r.DimensionValues) == 1 && r.Value > 0 {
					counts[r.DimensionValues[0]] += r.Value
				}
			}
		}
	}
	return counts, nil
}
