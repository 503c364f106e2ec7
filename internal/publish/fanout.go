package publish

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/errs"
)

// Fan-out. A post to thousands of channels is due at one moment, and the
// queue's own bookkeeping (fetching a job, completing it) costs a write
// transaction or two per job: with one job per delivery, SQLite's single
// writer would pace the whole post. So a post's first attempts run as
// fan-out jobs of up to FanoutChunk deliveries each: the job waits for the
// post's time, reads the chunk's deliveries in one query and works them
// concurrently (bounded by Config.Concurrency across all fan-outs of the
// process), while the attempt marks and outcomes are group-committed.
// Every delivery step is the same as a single delivery job's (the
// attempt is marked by compare-and-set before the platform is called), so
// a chunk run twice, or beside a delivery job, publishes nothing twice.
// Whatever needs a later step (a retry after a 503, a rate limit's reset,
// an attempt to reconcile) gets a delivery job of its own for that time.
// Chunks let several nodes share one post, and bound what a node that dies
// mid-chunk leaves to the queue's rescue.

// slot is one platform call in flight (Config.Concurrency of them): held
// from before the attempt is marked until the platform has answered, so
// that waiting for the outcome's write does not hold back the next call.
type slot struct {
	s    *Service
	held bool
}

func (sl *slot) acquire(ctx context.Context) error {
	select {
	case sl.s.slots <- struct{}{}:
		sl.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (sl *slot) release() {
	if sl.held {
		sl.held = false
		<-sl.s.slots
	}
}

// inProcessWait is the longest wait a fan-out keeps a delivery for.
const inProcessWait = ScheduleLead

// FanoutChunk is how many deliveries one fan-out job works at most.
const FanoutChunk = 250

// FanoutArgs is the job that makes the first attempts of a post's
// deliveries with ids from FirstID to LastID.
type FanoutArgs struct {
	PostID  int64 `json:"post_id"`
	FirstID int64 `json:"first_id"`
	LastID  int64 `json:"last_id"`
}

// Kind names the job.
func (FanoutArgs) Kind() string { return "publish_fanout" }

var fanoutUnique = river.UniqueOpts{ByArgs: true, ByState: deliveryUnique.ByState}

// enqueueFanout inserts fan-out jobs covering the given deliveries (ids
// ascending, all of postID), chunked by FanoutChunk.
func (s *Service) enqueueFanout(ctx context.Context, tx Store, postID int64, ids []int64, at time.Time, unique bool) error {
	if s.queue == nil {
		return nil
	}
	for len(ids) > 0 {
		n := min(len(ids), FanoutChunk)
		args := FanoutArgs{PostID: postID, FirstID: ids[0], LastID: ids[n-1]}
		ids = ids[n:]
		opts := s.insertOpts(at)
		if unique {
			opts.UniqueOpts = fanoutUnique
		}
		if err := s.insertJob(ctx, tx, args, opts); err != nil {
			return fmt.Errorf("publish: enqueue fan-out of post %d: %w", postID, err)
		}
	}
	return nil
}

type fanoutWorker struct {
	river.WorkerDefaults[FanoutArgs]
	s *Service
}

// Timeout allows a chunk its platform calls, queued behind other chunks'.
func (w *fanoutWorker) Timeout(*river.Job[FanoutArgs]) time.Duration { return 10 * time.Minute }

func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[FanoutArgs]) error {
	next, err := w.s.Fanout(ctx, job.Args)
	if err != nil {
		return err
	}
	if next > ScheduleLead {
		return river.JobSnooze(next - ScheduleLead)
	}
	if next > 0 {
		return river.JobSnooze(next)
	}
	return nil
}

// Fanout makes the first attempts of one chunk of a post's deliveries and
// hands each delivery that needs a later step to a delivery job. It says
// when to run again if the post is not yet due (moved later).
func (s *Service) Fanout(ctx context.Context, a FanoutArgs) (time.Duration, error) {
	post, err := s.Store.PostByID(ctx, a.PostID)
	if errs.Is(err, errs.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if post.Stored != PostScheduled {
		return 0, nil
	}
	if wait := post.ScheduledAt.Sub(s.Now()); wait > ScheduleLead {
		return wait, nil
	} else if wait > 0 {
		t := time.NewTimer(wait) // woken early on purpose: see ScheduleLead
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		}
		// Read again what may have changed while waiting (cancelled,
		// moved, edited).
		if post, err = s.Store.PostByID(ctx, a.PostID); err != nil {
			return 0, err
		}
		if post.Stored != PostScheduled {
			return 0, nil
		}
		if post.ScheduledAt.After(s.Now()) {
			return post.ScheduledAt.Sub(s.Now()), nil
		}
	}
	ds, err := s.Store.OpenDeliveriesOf(ctx, a.PostID, a.FirstID, a.LastID)
	if err != nil {
		return 0, err
	}
	type later struct {
		id int64
		at time.Time
	}
	var (
		mu    sync.Mutex
		again []later
		wg    sync.WaitGroup
	)
	for _, d := range ds {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			// Shutting down: what was not started stays scheduled; the
			// job is retried, and a restart resumes every open delivery.
			wg.Wait()
			return 0, ctx.Err()
		}
		wg.Add(1)
		go func(d Delivery) {
			defer wg.Done()
			sl := &slot{s: s, held: true}
			defer sl.release()
			next, err := s.deliver(ctx, d, &post, sl.release)
			// A short wait (a quick retry after a 503, a rate limit that
			// resets in a second or two) is waited out here, without a
			// slot: the queue's scheduler would round it up to its own
			// interval. A longer one goes to a job of its own.
			for err == nil && next > 0 && next <= inProcessWait {
				sl.release()
				t := time.NewTimer(next)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					err = ctx.Err()
					continue
				}
				if err = sl.acquire(ctx); err != nil {
					continue
				}
				next, err = s.step(ctx, d.ID, sl.release)
			}
			sl.release()
			if err != nil {
				if ctx.Err() == nil {
					s.Log.Warn("delivery step failed; its job will retry", "delivery", d.ID, "err", err)
				}
				next = s.RetryBase
			}
			if next > 0 {
				mu.Lock()
				again = append(again, later{d.ID, s.Now().Add(next)})
				mu.Unlock()
			}
		}(d)
	}
	wg.Wait()
	if len(again) == 0 {
		return 0, nil
	}
	// Even when shutting down: a delivery that is not finished must have
	// a job (a restart would resume it too, but another node would not).
	ctx = context.WithoutCancel(ctx)
	err = s.InTx(ctx, func(tx Store) error {
		for _, l := range again {
			if err := s.enqueue(ctx, tx, l.id, l.at, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("publish: hand %d deliveries of post %d to their own jobs: %w", len(again), a.PostID, err)
	}
	return 0, nil
}
