package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/node"
)

// DeliverArgs is the job that publishes one delivery.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "publish_delivery" }

// deliveryUnique keeps one live job per delivery.
var deliveryUnique = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

// ScheduleLead is how long before its time a job is made due. River
// moves future jobs to "available" only every few seconds (its scheduler's
// interval, 5 s); so a job is due up to ScheduleLead early, and its
// worker waits for the exact time (a longer wait snoozes instead).
const ScheduleLead = 5 * time.Second

// enqueue inserts a delivery's job in tx's transaction (or alone when the
// store runs outside one). Without a queue the rows are enough:
// ResumeDeliveries schedules them when a queue starts.
func (s *Service) enqueue(ctx context.Context, tx Store, deliveryID int64, at time.Time, unique bool) error {
	if s.queue == nil {
		return nil
	}
	opts := s.insertOpts(at)
	if unique {
		opts.UniqueOpts = deliveryUnique
	}
	return s.insertJob(ctx, tx, DeliverArgs{DeliveryID: deliveryID}, opts)
}

// insertJob inserts a job in tx's transaction, or alone when the store
// runs outside one.
func (s *Service) insertJob(ctx context.Context, tx Store, args river.JobArgs, opts *river.InsertOpts) error {
	var err error
	if t := tx.Tx(); t != nil {
		_, err = s.queue.InsertTx(ctx, t, args, opts)
	} else {
		_, err = s.queue.Insert(ctx, args, opts)
	}
	return err
}

// insertOpts are a publishing job's options for a step due at at. A job
// given a time, even a past one, waits for River's scheduler, which runs
// on the leader node only (and after a crash only once the dead leader's
// term has run out, some 15 s): a job already due is inserted available.
func (s *Service) insertOpts(at time.Time) *river.InsertOpts {
	opts := &river.InsertOpts{MaxAttempts: 25}
	if early := at.Add(-ScheduleLead); early.After(s.Now()) {
		opts.ScheduledAt = early
	}
	return opts
}

// ResumeDeliveries makes sure every open delivery has a job: on start,
// after a restore, or when jobs were lost. Each post's open deliveries get
// fan-out jobs (see Fanout). A delivery that is due gets a job even if one
// exists (a job left "running" by a killed node would block a unique
// insert until River rescues it); duplicates are harmless, since an
// attempt begins only by a compare-and-set and a "publishing" one is
// reconciled after its lease.
func (s *Service) ResumeDeliveries(ctx context.Context) (int, error) {
	ds, err := s.Store.OpenDeliveries(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Now()
	// ds is ordered by delivery id; gather each post's ids in that order.
	byPost := map[int64][]int64{}
	var posts []int64
	at := map[int64]time.Time{}
	for _, d := range ds {
		if _, seen := byPost[d.PostID]; !seen {
			posts = append(posts, d.PostID)
			at[d.PostID] = d.PostAt
		}
		byPost[d.PostID] = append(byPost[d.PostID], d.ID)
	}
	for _, id := range posts {
		when := at[id]
		if when.Before(now) {
			when = now
		}
		if err := s.enqueueFanout(ctx, s.Store, id, byPost[id], when, at[id].After(now.Add(ScheduleLead))); err != nil {
			return 0, fmt.Errorf("publish: resume deliveries: %w", err)
		}
	}
	return len(ds), nil
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// Timeout bounds one step; it is below the lease.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 2 * time.Minute }

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	next, err := w.s.DeliverOnce(ctx, job.Args.DeliveryID)
	if err != nil {
		return err
	}
	if next > ScheduleLead {
		next -= ScheduleLead // see ScheduleLead
	}
	if next > 0 {
		return river.JobSnooze(next)
	}
	return nil
}

func (s *Service) backoff(failures int) time.Duration { return s.policy().Backoff(failures) }

// DeliverOnce runs one step of a delivery and says when to run the next
// (0: it is done, published or failed or waiting for a person). The
// delivery is marked publishing, with the attempt's start, before the
// platform is called; a delivery found publishing or unknown is first
// looked up on the platform, and published again only if the platform
// positively does not have it.
func (s *Service) DeliverOnce(ctx context.Context, id int64) (time.Duration, error) {
	return s.step(ctx, id, nil)
}

// step reads delivery id and its post and runs one step (see deliver).
func (s *Service) step(ctx context.Context, id int64, answered func()) (time.Duration, error) {
	d, err := s.Store.DeliveryByID(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !d.Status.open() {
		return 0, nil // published, failed, held, cancelled: nothing to do
	}
	post, err := s.Store.PostByID(ctx, d.PostID)
	if err != nil {
		return 0, err
	}
	return s.deliver(ctx, d, &post, answered)
}

// open reports whether a delivery still has work to do.
func (st DeliveryStatus) open() bool {
	return st == DeliveryScheduled || st == DeliveryPublishing || st == DeliveryUnknown
}

// deliver runs one step of delivery d of post (both freshly read).
// answered, if set, is called as soon as the platform has answered, before
// the answer is recorded (a fan-out frees its platform-call slot there).
func (s *Service) deliver(ctx context.Context, d Delivery, post *Post, answered func()) (time.Duration, error) {
	if answered == nil {
		answered = func() {}
	}
	if post.Stored != PostScheduled {
		return 0, nil
	}
	due := post.ScheduledAt
	if d.NotBefore != nil && d.NotBefore.After(due) {
		due = *d.NotBefore // a retry's time
	}
	now := s.Now()
	if wait := due.Sub(now); wait > ScheduleLead {
		return wait, nil // early (moved later, or a duplicate job): sleep in the queue
	} else if wait > 0 {
		// Woken up to ScheduleLead early on purpose (see ScheduleLead):
		// wait here, so that a post to thousands of channels does not
		// snooze every job once more, and a retry is not late by the
		// queue's scheduling interval.
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		}
		now = s.Now()
	}
	if d.Status == DeliveryPublishing && d.LastAttemptAt != nil && !s.SoleWorkerSince.After(*d.LastAttemptAt) {
		if left := d.LastAttemptAt.Add(s.Lease).Sub(now); left > 0 {
			hold, err := node.Hold(ctx, s.Nodes, s.Node, d.AttemptNode, now, left)
			if err != nil || hold > 0 {
				return hold, err // another attempt may still be running
			}
		}
	}
	acct, conn, err := s.Accounts.Account(ctx, d.ChannelID)
	if err != nil {
		if d.Status != DeliveryScheduled || d.Attempts > 0 {
			// An earlier attempt can't be reconciled yet; never fail it
			// blindly, since it may be published.
			d.Failures++
			d.Error, d.ErrorKind = "can't reconcile: "+err.Error(), "not_connected"
			if d.Failures >= s.MaxFailures {
				d.Status = DeliveryUnknown
				return 0, s.Store.SaveOutcome(ctx, d)
			}
			return s.backoff(d.Failures), s.Store.SaveOutcome(ctx, d)
		}
		if c := errs.CodeOf(err); c == errs.Internal {
			return 0, err
		}
		d.Status, d.Error, d.ErrorKind = DeliveryFailed, "channel not connected: "+err.Error(), "not_connected"
		return 0, s.Store.SaveOutcome(ctx, d)
	}
	media := map[int64]Media{}
	for _, mid := range post.MediaFor(d.ChannelID, d.Platform) {
		m, err := s.Store.MediaByID(ctx, mid)
		if errs.Is(err, errs.NotFound) {
			d.Status, d.Error, d.ErrorKind = DeliveryFailed, fmt.Sprintf("media %d is gone from the library", mid), "permanent"
			if d.Attempts > 0 {
				d.Status = DeliveryUnknown // an earlier attempt may have published it
			}
			return 0, s.Store.SaveOutcome(ctx, d)
		}
		if err != nil {
			return 0, err
		}
		media[mid] = m
	}
	req := connector.PublishRequest{IdempotencyKey: d.Key, Variant: s.variantFor(post, d.ChannelID, d.Platform, media)}
	if d.FirstAttemptAt != nil {
		req.FirstAttemptAt = *d.FirstAttemptAt
	}
	// Any earlier attempt may have reached the platform: ask first.
	if d.Status != DeliveryScheduled || d.Attempts > 0 {
		p, found, err := connector.Lookup(ctx, conn, acct, req)
		answered()
		if err != nil {
			return s.afterError(ctx, d, err, true)
		}
		if found {
			return 0, s.published(ctx, d, p)
		}
	}
	ok, err := s.Store.BeginAttempt(ctx, d.ID, d.Attempts, now, s.Node)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 5 * time.Second, nil // another worker started an attempt: look again later
	}
	d.Attempts++
	d.Status = DeliveryPublishing
	if d.FirstAttemptAt == nil {
		d.FirstAttemptAt = &now
		req.FirstAttemptAt = now
	}
	p, perr := connector.Publish(ctx, conn, acct, req)
	answered()
	if s.AfterAnswer != nil {
		if err := s.AfterAnswer(d.ID, perr); err != nil {
			return 0, err
		}
	}
	if perr != nil {
		return s.afterError(ctx, d, perr, false)
	}
	return 0, s.published(ctx, d, p)
}

func (s *Service) published(ctx context.Context, d Delivery, p connector.Published) error {
	now := s.Now()
	d.Status, d.PlatformPostID, d.URL, d.PublishedAt, d.Error, d.ErrorKind, d.NotBefore = DeliveryPublished, p.ID, p.URL, &now, "", "", nil
	return s.Store.SaveOutcome(ctx, d)
}

// afterError records a failed publish or lookup and says when to go on,
// by the policy deliveries share with replies.
func (s *Service) afterError(ctx context.Context, d Delivery, err error, lookup bool) (time.Duration, error) {
	a := connector.Attempt{State: string(d.Status), Failures: d.Failures}
	next := s.policy().AfterFailure(&a, err, lookup, s.Now())
	d.Status, d.Failures, d.Error, d.ErrorKind = DeliveryStatus(a.State), a.Failures, a.Error, a.ErrorKind
	d.NotBefore = nil
	if next > 0 {
		t := s.Now().Add(next)
		d.NotBefore = &t
	}
	if err := s.Store.SaveOutcome(ctx, d); err != nil {
		return 0, err
	}
	return next, nil
}

func (s *Service) policy() connector.AttemptPolicy {
	return connector.AttemptPolicy{RetryBase: s.RetryBase, MinWait: s.MinWait, MaxFailures: s.MaxFailures}
}
