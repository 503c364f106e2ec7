package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/org"
)

// HistoryDays is how much audience history the demo invents for its
// channels on real platforms.
const HistoryDays = 60

// AudienceStore is where the demo records its invented history.
type AudienceStore interface {
	Audience(ctx context.Context, channelID int64) ([]org.AudiencePoint, error)
	AddAudience(ctx context.Context, channelID int64, points []org.AudiencePoint) error
	SaveDemographics(ctx context.Context, channelID int64, r analytics.DemographicReading, at time.Time) error
}

// SeedAudience gives the demo organisation's active channels on the
// platforms the simulator can imitate (Facebook, Instagram, YouTube, X, …),
// which the demo does not connect anywhere, HistoryDays of simulated
// followers and audience demographics ending today, so that the analytics
// show each platform's line and where a young audience is reached. The
// figures are the simulator's invention (sim.AudienceOf), not the
// platforms'. Channels that already have a history are left alone, so
// starting the demo again adds nothing. It returns how many channels it
// gave a history.
func SeedAudience(ctx context.Context, orgSvc *org.Service, st AudienceStore, now time.Time) (int, error) {
	chs, _, err := orgSvc.Channels(ctx, access.SystemPrincipal(), org.ChannelFilter{Status: org.StatusActive, Limit: 10000})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range chs {
		if !slices.Contains(sim.Imitable(), c.Platform) {
			continue
		}
		if hist, err := st.Audience(ctx, c.ID); err != nil {
			return n, err
		} else if len(hist) > 0 {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(c.Platform + "/" + c.Handle + c.URL))
		seed := h.Sum64()
		start := 2000 + int64(seed%48000)   // followers 60 days ago
		perDay := 5 + int64((seed>>16)%120) // growth per day
		var pts []org.AudiencePoint
		for i := HistoryDays - 1; i >= 0; i-- {
			day := now.UTC().AddDate(0, 0, -i)
			followers := start + perDay*int64(HistoryDays-1-i)
			pts = append(pts, org.AudiencePoint{Day: day.Format("2006-01-02"), Followers: followers})
			// A breakdown a week, as a platform's insights move slowly.
			if i%7 == 0 {
				r, ok := analytics.ReadingOf(day.Format("2006-01-02"), sim.AudienceOf(c.Platform, c.Handle+c.URL, followers))
				if ok {
					if err := st.SaveDemographics(ctx, c.ID, r, now); err != nil {
						return n, fmt.Errorf("demo audience of channel %d: %w", c.ID, err)
					}
				}
			}
		}
		if err := st.AddAudience(ctx, c.ID, pts); err != nil {
			return n, fmt.Errorf("demo audience of channel %d: %w", c.ID, err)
		}
		n++
	}
	return n, nil
}
