package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// The sweep. Every delivery is driven by a queue job, inserted in the
// transaction that made it due; a restart re-registers them all
// (ResumeDeliveries). What the sweep covers is the rest: a node that died
// holding a fan-out chunk, on a database other nodes go on working, leaves
// that chunk's deliveries until the queue rescues the job (minutes); a job
// lost some other way would leave its delivery forever. Once a minute the
// sweep gives every due delivery that nothing has touched for StaleAfter a
// job of its own: the compare-and-set on the attempt keeps a delivery that
// is in fact still being worked from being published twice.

// SweepArgs is the job that looks for forgotten deliveries.
type SweepArgs struct{}

// Kind names the job.
func (SweepArgs) Kind() string { return "publish_sweep" }

// SweepEvery is how often the sweep runs.
const SweepEvery = time.Minute

// StartSweeper makes sure the sweep job exists (one per database).
func (s *Service) StartSweeper(ctx context.Context) error {
	if s.queue == nil {
		return nil
	}
	_, err := s.queue.Insert(ctx, SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: deliveryUnique.ByState}})
	if err != nil {
		return fmt.Errorf("publish: start the sweep: %w", err)
	}
	return nil
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	if _, err := w.s.SweepStale(ctx); err != nil {
		w.s.Log.Warn("publish: sweep", "err", err)
	}
	return river.JobSnooze(SweepEvery)
}

// SweepStale gives the due deliveries that nothing has touched for
// StaleAfter a job each (at most 1,000 a sweep) and says how many.
func (s *Service) SweepStale(ctx context.Context) (int, error) {
	if s.queue == nil {
		return 0, nil
	}
	ids, err := s.Store.StaleDeliveries(ctx, s.Now().Add(-s.StaleAfter), 1000)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	err = s.InTx(ctx, func(tx Store) error {
		for _, id := range ids {
			if err := s.enqueue(ctx, tx, id, s.Now(), true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("publish: sweep: %w", err)
	}
	s.Log.Warn("publish: due deliveries without a live job were given one", "deliveries", len(ids))
	return len(ids), nil
}
