package analytics

import (
	"context"
	"sort"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// DemographicReading is one channel's audience breakdown on one day as
// shares (0..1) per age group and per gender. A nil map means the
// platform did not report that breakdown: "not reported", never zero.
type DemographicReading struct {
	Day    string             // YYYY-MM-DD, UTC
	Basis  string             // "followers" or "viewers"
	Age    map[string]float64 // keys connector.AgeGroups
	Gender map[string]float64 // keys connector.Genders
}

// ReadingOf turns what a connector reported (counts or percentages) into
// shares; ok is false when nothing was reported.
func ReadingOf(day string, d connector.Demographics) (DemographicReading, bool) {
	r := DemographicReading{Day: day, Basis: d.Basis, Age: shares(d.Age, connector.AgeGroups), Gender: shares(d.Gender, connector.Genders)}
	if r.Basis == "" {
		r.Basis = "followers"
	}
	return r, r.Age != nil || r.Gender != nil
}

// shares normalises the known keys' positive values to sum to 1; nil when
// there is nothing positive.
func shares(m map[string]float64, keys []string) map[string]float64 {
	var total float64
	for _, k := range keys {
		if v := m[k]; v > 0 {
			total += v
		}
	}
	if total <= 0 {
		return nil
	}
	out := make(map[string]float64, len(keys))
	for _, k := range keys {
		out[k] = max(m[k], 0) / total
	}
	return out
}

// ChannelDemographics is a subtree channel with its latest demographic
// reading in a period and its followers, the reading's weight.
type ChannelDemographics struct {
	ChannelID int64
	Platform  string
	// Followers is the channel's latest follower count on or before the
	// period's last day (nil: never counted).
	Followers *int64
	// Reading is the channel's latest reading in the period (nil: none).
	Reading *DemographicReading
}

// TopicChannel is a channel that published a campaign topic's post in a
// period.
type TopicChannel struct {
	Topic     string
	ChannelID int64
}

// DemographicsStore reads the recorded demographics.
type DemographicsStore interface {
	// ChannelDemographics lists the subtree's channels (retired ones only
	// with a reading) and their latest reading between two days.
	ChannelDemographics(ctx context.Context, unitPath, fromDay, toDay string) ([]ChannelDemographics, error)
	// TopicChannels lists, once each, the subtree's channels that
	// published a post of a campaign with a topic in the period.
	TopicChannels(ctx context.Context, unitPath string, p Period) ([]TopicChannel, error)
}

// Share is one bucket's part of an audience, 0..1.
type Share struct {
	Key   string  `json:"key"`
	Share float64 `json:"share"`
}

// AudienceMix is who the audience of a set of channels is: each channel's
// latest breakdown in the period weighted by its followers, each channel
// counted once.
type AudienceMix struct {
	Platform string `json:"platform"` // "" for all platforms together
	// Channels is how many channels the mix is about; Reported how many of
	// them have a breakdown and a follower count, and Followers the sum of
	// those channels' followers (the weights).
	Channels  int   `json:"channels"`
	Reported  int   `json:"reported"`
	Followers int64 `json:"followers"`
	// Age and Gender are the weighted shares, in connector.AgeGroups and
	// connector.Genders order; null when no channel reported them.
	Age    []Share `json:"age"`
	Gender []Share `json:"gender"`
	// Bases says what the platforms described: "followers" and/or
	// "viewers" (YouTube reports its viewers, not its subscribers).
	Bases []string `json:"bases"`
}

// Young is the share of 13-24 year olds, or nil when ages are not
// reported: the figure a manager looks for.
func (m AudienceMix) Young() *float64 {
	if m.Age == nil {
		return nil
	}
	var y float64
	for _, s := range m.Age {
		if s.Key == connector.Age13to17 || s.Key == connector.Age18to24 {
			y += s.Share
		}
	}
	return &y
}

// mixOf weights the channels' readings by their followers.
func mixOf(platform string, chans []ChannelDemographics) AudienceMix {
	m := AudienceMix{Platform: platform, Channels: len(chans), Bases: []string{}}
	age, gender := map[string]float64{}, map[string]float64{}
	var ageW, genderW float64
	bases := map[string]bool{}
	for _, c := range chans {
		if c.Reading == nil || c.Followers == nil || *c.Followers <= 0 {
			continue
		}
		w := float64(*c.Followers)
		m.Reported++
		m.Followers += *c.Followers
		bases[c.Reading.Basis] = true
		if c.Reading.Age != nil {
			ageW += w
			for k, v := range c.Reading.Age {
				age[k] += w * v
			}
		}
		if c.Reading.Gender != nil {
			genderW += w
			for k, v := range c.Reading.Gender {
				gender[k] += w * v
			}
		}
	}
	m.Age = weighted(age, ageW, connector.AgeGroups)
	m.Gender = weighted(gender, genderW, connector.Genders)
	for b := range bases {
		m.Bases = append(m.Bases, b)
	}
	sort.Strings(m.Bases)
	return m
}

func weighted(sum map[string]float64, weight float64, keys []string) []Share {
	if weight <= 0 {
		return nil
	}
	out := make([]Share, len(keys))
	for i, k := range keys {
		out[i] = Share{Key: k, Share: sum[k] / weight}
	}
	return out
}

// AudienceDemographics is who the audience of a unit's subtree is, over
// all its channels and by platform, from each channel's latest reading in
// the period.
type AudienceDemographics struct {
	Unit      string        `json:"unit"`
	UnitName  string        `json:"unit_name"`
	Period    Period        `json:"period"`
	All       AudienceMix   `json:"all"`
	Platforms []AudienceMix `json:"platforms"` // by platform name
}

// Demographics answers the audience by age group and gender for a unit's
// subtree over a period (default the last 28 days in the unit's time
// zone), by platform and over all channels.
func (s *Service) Demographics(ctx context.Context, p *access.Principal, unitKey, from, to, tz string) (AudienceDemographics, error) {
	ds, ok := s.store.(DemographicsStore)
	if !ok {
		return AudienceDemographics{}, errs.E(errs.Unavailable, "audience demographics are not available")
	}
	u, err := s.org.Unit(ctx, p, unitKey)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return AudienceDemographics{}, errs.Field("unit", "unit %q not found", unitKey)
		}
		return AudienceDemographics{}, err
	}
	if tz == "" {
		tz = u.TimeZone
	}
	per, err := ParsePeriod(from, to, tz, s.now())
	if err != nil {
		return AudienceDemographics{}, err
	}
	chans, err := ds.ChannelDemographics(ctx, u.Path, per.From, per.To)
	if err != nil {
		return AudienceDemographics{}, err
	}
	out := AudienceDemographics{Unit: u.Key, UnitName: u.Name, Period: per, All: mixOf("", chans), Platforms: []AudienceMix{}}
	byPlatform := map[string][]ChannelDemographics{}
	for _, c := range chans {
		byPlatform[c.Platform] = append(byPlatform[c.Platform], c)
	}
	for pl, cs := range byPlatform {
		out.Platforms = append(out.Platforms, mixOf(pl, cs))
	}
	sort.Slice(out.Platforms, func(i, j int) bool { return out.Platforms[i].Platform < out.Platforms[j].Platform })
	return out, nil
}

// topicAudiences sets, on each topic's platform shares, the audience mix
// of the subtree's channels that carried the topic on that platform.
func (s *Service) topicAudiences(ctx context.Context, path string, per Period, mixes []TopicMix) error {
	ds, ok := s.store.(DemographicsStore)
	if !ok || len(mixes) == 0 {
		return nil
	}
	chans, err := ds.ChannelDemographics(ctx, path, per.From, per.To)
	if err != nil {
		return err
	}
	carried, err := ds.TopicChannels(ctx, path, per)
	if err != nil {
		return err
	}
	byID := make(map[int64]ChannelDemographics, len(chans))
	for _, c := range chans {
		byID[c.ChannelID] = c
	}
	type key struct{ topic, platform string }
	sets := map[key][]ChannelDemographics{}
	seen := map[key]map[int64]bool{}
	for _, tc := range carried {
		c, ok := byID[tc.ChannelID]
		if !ok {
			continue // retired without a reading: nothing to say about it
		}
		k := key{tc.Topic, c.Platform}
		if seen[k] == nil {
			seen[k] = map[int64]bool{}
		}
		if seen[k][c.ChannelID] {
			continue
		}
		seen[k][c.ChannelID] = true
		sets[k] = append(sets[k], c)
	}
	for i := range mixes {
		for j := range mixes[i].Platforms {
			ps := &mixes[i].Platforms[j]
			m := mixOf(ps.Platform, sets[key{mixes[i].Topic, ps.Platform}])
			ps.Audience = &m
		}
	}
	return nil
}
