package analytics

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Accounts opens a connected channel's account (connection.Service).
type Accounts interface {
	Account(ctx context.Context, channelID int64) (*connector.Account, connector.Connector, error)
}

// CollectStore is what the collector reads and writes.
type CollectStore interface {
	DueMetrics(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error)
	SavePostMetrics(ctx context.Context, deliveryID int64, step int, m PostMetrics, at time.Time) error
	// AdvancePostMetrics moves a delivery to its next step keeping its
	// last reading (the platform no longer knows the post).
	AdvancePostMetrics(ctx context.Context, deliveryID int64, step int, at time.Time) error
}

// Collector reads published posts' engagement from the platforms on a
// decaying schedule (about 1 h, 6 h, 24 h, 7 d and 28 d after publishing),
// one channel at a time so that each platform call asks for all of the
// channel's due posts at once.
type Collector struct {
	Store    CollectStore
	Accounts Accounts
	Log      *slog.Logger
	Now      func() time.Time
	// Interval is the pause between sweeps (default 1 minute).
	Interval time.Duration
	queue    Queue
}

// Queue is what the collector needs of the job queue.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// CollectArgs is the one job that sweeps due readings; it snoozes between
// sweeps, so the database holds the schedule.
type CollectArgs struct{}

// Kind names the job.
func (CollectArgs) Kind() string { return "collect_post_metrics" }

// RegisterWorkers adds the collector's worker.
func (c *Collector) RegisterWorkers(w *river.Workers) { river.AddWorker(w, &collectWorker{c: c}) }

// Start schedules the sweep job (once, however many nodes start).
func (c *Collector) Start(ctx context.Context, q Queue) error {
	c.queue = q
	_, err := q.Insert(ctx, CollectArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}})
	return err
}

type collectWorker struct {
	river.WorkerDefaults[CollectArgs]
	c *Collector
}

func (w *collectWorker) Work(ctx context.Context, job *river.Job[CollectArgs]) error {
	if _, err := w.c.Sweep(ctx); err != nil {
		w.c.log().Warn("post metrics sweep", "err", err)
	}
	iv := w.c.Interval
	if iv <= 0 {
		iv = time.Minute
	}
	return river.JobSnooze(iv)
}

func (c *Collector) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// Sweep takes the readings due now and returns how many it stored. A
// channel the platform refuses (rate limit, outage, not connected) is left
// for the next sweep.
func (c *Collector) Sweep(ctx context.Context) (int, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	due, err := c.Store.DueMetrics(ctx, now(), 1000)
	if err != nil {
		return 0, err
	}
	byChannel := map[int64][]DueDelivery{}
	var order []int64
	for _, d := range due {
		if _, ok := byChannel[d.ChannelID]; !ok {
			order = append(order, d.ChannelID)
		}
		byChannel[d.ChannelID] = append(byChannel[d.ChannelID], d)
	}
	stored := 0
	for _, ch := range order {
		ds := byChannel[ch]
		acct, conn, err := c.Accounts.Account(ctx, ch)
		if err != nil {
			continue
		}
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.PlatformPostID
		}
		m, err := connector.FetchMetrics(ctx, conn, acct, ids)
		if err != nil {
			c.log().Info("post metrics not read", "channel", ch, "err", err)
			continue
		}
		stats := map[string]connector.PostMetrics{}
		for _, st := range m.PostStats {
			stats[st.ID] = st
		}
		at := now()
		for _, d := range ds {
			st, ok := stats[d.PlatformPostID]
			if !ok {
				// Deleted on the platform, or not reported: keep the last
				// reading and move on a step, so it is not asked every sweep.
				if err := c.Store.AdvancePostMetrics(ctx, d.DeliveryID, d.Step+1, at); err != nil {
					return stored, err
				}
				continue
			}
			pm := PostMetrics{Likes: max(st.Likes, 0), Shares: max(st.Shares, 0), Replies: max(st.Replies, 0), Impressions: st.Impressions}
			if err := c.Store.SavePostMetrics(ctx, d.DeliveryID, d.Step+1, pm, at); err != nil {
				return stored, err
			}
			stored++
		}
	}
	return stored, nil
}
