package analytics

import (
	"context"
	"sort"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// TopicReach is one topic's published posts and engagement on one
// platform.
type TopicReach struct {
	Topic       string `json:"topic"`
	Platform    string `json:"platform"`
	Posts       int64  `json:"posts"`
	Engagements int64  `json:"engagements"`
	Impressions int64  `json:"impressions"`
}

// TopicMix is how a topic's posts and engagement spread over platforms.
type TopicMix struct {
	Topic     string          `json:"topic"`
	Posts     int64           `json:"posts"`
	Engaged   int64           `json:"engagements"`
	Platforms []PlatformShare `json:"platforms"` // largest engagement share first
}

// PlatformShare is a platform's part of a topic.
type PlatformShare struct {
	Platform        string  `json:"platform"`
	Posts           int64   `json:"posts"`
	Engagements     int64   `json:"engagements"`
	Impressions     int64   `json:"impressions"`
	EngagementShare float64 `json:"engagement_share"` // of the topic's engagements, 0..1
	PerPost         float64 `json:"engagements_per_post"`
	// Audience is who the platform's channels carrying the topic reach:
	// their age groups and genders weighted by followers.
	Audience *AudienceMix `json:"audience"`
}

// TopicStore reads reach by campaign topic.
type TopicStore interface {
	TopicReach(ctx context.Context, unitPath string, p Period) ([]TopicReach, error)
}

// Topics answers the channel mix per topic: for the campaigns' topics,
// which platforms carried their posts and engagement in a period, within
// a unit's subtree, and who the audience of those platforms' channels is.
func (s *Service) Topics(ctx context.Context, p *access.Principal, unitKey, from, to, tz string) ([]TopicMix, Period, error) {
	ts, ok := s.store.(TopicStore)
	if !ok {
		return nil, Period{}, errs.E(errs.Unavailable, "the channel mix is not available")
	}
	u, err := s.org.Unit(ctx, p, unitKey)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, Period{}, errs.Field("unit", "unit %q not found", unitKey)
		}
		return nil, Period{}, err
	}
	if tz == "" {
		tz = u.TimeZone
	}
	per, err := ParsePeriod(from, to, tz, s.now())
	if err != nil {
		return nil, Period{}, err
	}
	rows, err := ts.TopicReach(ctx, u.Path, per)
	if err != nil {
		return nil, Period{}, err
	}
	byTopic := map[string]*TopicMix{}
	for _, r := range rows {
		m := byTopic[r.Topic]
		if m == nil {
			m = &TopicMix{Topic: r.Topic}
			byTopic[r.Topic] = m
		}
		m.Posts += r.Posts
		m.Engaged += r.Engagements
		m.Platforms = append(m.Platforms, PlatformShare{Platform: r.Platform, Posts: r.Posts, Engagements: r.Engagements, Impressions: r.Impressions})
	}
	out := []TopicMix{}
	for _, m := range byTopic {
		for i := range m.Platforms {
			ps := &m.Platforms[i]
			if m.Engaged > 0 {
				ps.EngagementShare = float64(ps.Engagements) / float64(m.Engaged)
			}
			if ps.Posts > 0 {
				ps.PerPost = float64(ps.Engagements) / float64(ps.Posts)
			}
		}
		sort.Slice(m.Platforms, func(i, j int) bool {
			if m.Platforms[i].Engagements != m.Platforms[j].Engagements {
				return m.Platforms[i].Engagements > m.Platforms[j].Engagements
			}
			return m.Platforms[i].Platform < m.Platforms[j].Platform
		})
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	if err := s.topicAudiences(ctx, u.Path, per, out); err != nil {
		return nil, Period{}, err
	}
	return out, per, nil
}
