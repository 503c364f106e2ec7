package connector

import (
	"context"
	"time"
)

// Age groups as the platforms that report audience ages bucket them
// (Instagram's follower_demographics, YouTube Analytics' ageGroup).
const (
	Age13to17 = "13-17"
	Age18to24 = "18-24"
	Age25to34 = "25-34"
	Age35to44 = "35-44"
	Age45to54 = "45-54"
	Age55to64 = "55-64"
	Age65plus = "65+"
)

// AgeGroups lists the age groups youngest first.
var AgeGroups = []string{Age13to17, Age18to24, Age25to34, Age35to44, Age45to54, Age55to64, Age65plus}

// Genders as the hub keeps them: platforms that report more (YouTube's
// "user_specified") or say "U" (unknown, Instagram) map to GenderOther.
const (
	GenderFemale = "female"
	GenderMale   = "male"
	GenderOther  = "other"
)

// Genders lists the genders in display order.
var Genders = []string{GenderFemale, GenderMale, GenderOther}

// Demographics is an account's audience by age group and by gender, as
// the platform reports it: counts of followers (Instagram) or shares of
// viewers in percent (YouTube). Either map may be nil when the platform
// does not report that breakdown (yet: Instagram needs 100 followers).
// Only the proportions are meant to be compared across platforms; the
// hub weights them by the channel's followers itself.
type Demographics struct {
	At     time.Time
	Age    map[string]float64 // keys: AgeGroups
	Gender map[string]float64 // keys: Genders
	// Basis says what the numbers describe: "followers" or "viewers".
	Basis string
}

// Empty reports whether neither breakdown has a positive value.
func (d Demographics) Empty() bool {
	return sum(d.Age) <= 0 && sum(d.Gender) <= 0
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		if v > 0 {
			s += v
		}
	}
	return s
}

// DemographicsFetcher is implemented by platforms that report who an
// account's audience is. It is optional and independent of
// MetricsFetcher: a platform may count followers without saying who they
// are.
type DemographicsFetcher interface {
	// FetchDemographics returns the account's latest audience breakdown.
	// A platform that has no breakdown for this account (too few
	// followers, not a professional account) answers an empty
	// Demographics and a nil error: "not reported" is not a failure.
	FetchDemographics(ctx context.Context, acct *Account) (Demographics, error)
}

// FetchDemographics calls c's DemographicsFetcher, or returns a Permanent
// error if the platform does not report demographics.
func FetchDemographics(ctx context.Context, c Connector, acct *Account) (Demographics, error) {
	f, ok := c.(DemographicsFetcher)
	if !ok || !c.Capabilities().Demographics {
		return Demographics{}, Unsupported(c.Platform(), "fetch demographics")
	}
	return f.FetchDemographics(ctx, acct)
}
