package connection

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/org"
)

// AudienceArgs is the job that records a connected channel's audience
// (followers) into its daily history, like PollArgs a job that snoozes
// between runs for as long as the channel is connected.
type AudienceArgs struct {
	ChannelID int64 `json:"channel_id"`
}

// Kind names the job.
func (AudienceArgs) Kind() string { return "poll_audience" }

func (s *Service) scheduleAudience(ctx context.Context, tx *sql.Tx, channelID int64) error {
	if s.queue == nil {
		return nil
	}
	opts := &river.InsertOpts{UniqueOpts: pollUnique, MaxAttempts: 25}
	var err error
	if tx != nil {
		_, err = s.queue.InsertTx(ctx, tx, AudienceArgs{ChannelID: channelID}, opts)
	} else {
		_, err = s.queue.Insert(ctx, AudienceArgs{ChannelID: channelID}, opts)
	}
	return err
}

type audienceWorker struct {
	river.WorkerDefaults[AudienceArgs]
	s *Service
}

func (w *audienceWorker) Timeout(*river.Job[AudienceArgs]) time.Duration { return time.Minute }

func (w *audienceWorker) Work(ctx context.Context, job *river.Job[AudienceArgs]) error {
	next, err := w.s.RecordAudience(ctx, job.Args.ChannelID)
	if err != nil {
		return err
	}
	if next < 0 {
		return nil
	}
	return river.JobSnooze(next)
}

// RecordAudience asks the platform for a channel's followers and, where
// the platform reports them, its audience demographics, and records them
// as today's point (UTC) of the channel's histories (a second reading the
// same day replaces the first). It says when to ask next (negative:
// stop). Failures only delay: inbound polling is what tracks a
// connection's health. The follower count is stored before demographics
// are asked for, so a failure there never loses it.
func (s *Service) RecordAudience(ctx context.Context, channelID int64) (time.Duration, error) {
	conn, found, err := s.Store.ConnectionByChannel(ctx, channelID)
	if err != nil {
		return 0, err
	}
	if !found || conn.State != StateConnected {
		return -1, nil
	}
	c, ok := s.Registry.Get(conn.Platform)
	if !ok {
		return -1, nil
	}
	_, metrics := c.(connector.MetricsFetcher)
	_, demographics := c.(connector.DemographicsFetcher)
	demographics = demographics && c.Capabilities().Demographics
	if !metrics && !demographics {
		return -1, nil
	}
	acct, err := s.account(ctx, conn)
	if err != nil {
		return -1, nil
	}
	if metrics {
		m, err := connector.FetchMetrics(ctx, c, acct, nil)
		if err != nil {
			return s.audienceRetry(channelID, "audience poll failed", err), nil
		}
		at := m.At
		if at.IsZero() {
			at = s.Now()
		}
		point := org.AudiencePoint{Day: at.UTC().Format("2006-01-02"), Followers: m.Followers}
		if err := s.Store.AddAudience(ctx, channelID, []org.AudiencePoint{point}); err != nil {
			return 0, err
		}
	}
	if demographics {
		d, err := connector.FetchDemographics(ctx, c, acct)
		if err != nil {
			return s.audienceRetry(channelID, "demographics poll failed", err), nil
		}
		at := d.At
		if at.IsZero() {
			at = s.Now()
		}
		// Nothing reported (too few followers, no permission) leaves the
		// day without a reading: a gap, not zeros.
		if r, ok := analytics.ReadingOf(at.UTC().Format("2006-01-02"), d); ok {
			if err := s.Store.SaveDemographics(ctx, channelID, r, s.Now()); err != nil {
				return 0, err
			}
		}
	}
	return s.AudienceInterval, nil
}

// audienceRetry is when to read again after a failed reading: when the
// platform's rate limit lifts, or the next regular reading.
func (s *Service) audienceRetry(channelID int64, msg string, err error) time.Duration {
	if connector.KindOf(err) == connector.KindRateLimited {
		return max(time.Until(connector.RetryAt(err)), time.Second)
	}
	s.Log.Warn(msg, "channel", channelID, "err", err)
	return s.AudienceInterval
}
