package inbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/node"
)

// Delivery states of a reply, as a post's.
const (
	ReplyScheduled  = "scheduled"
	ReplyPublishing = "publishing"
	ReplyPublished  = "published"
	ReplyFailed     = "failed"
	ReplyUnknown    = "unknown"
)

// Reply is an answer sent back through the channel's connector, with a
// delivery like a post's.
type Reply struct {
	ID             int64      `json:"id"`
	MessageID      int64      `json:"message"`
	ChannelID      int64      `json:"channel"`
	Conversation   string     `json:"conversation"`
	UserID         int64      `json:"user_id,omitempty"`
	Author         string     `json:"author,omitempty"`
	Text           string     `json:"text"`
	Key            string     `json:"-"` // the idempotency key, random per reply
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	Failures       int        `json:"-"`
	PlatformPostID string     `json:"platform_post_id"`
	URL            string     `json:"url"`
	Error          string     `json:"error"`
	ErrorKind      string     `json:"error_kind,omitempty"`
	FirstAttemptAt *time.Time `json:"-"`
	LastAttemptAt  *time.Time `json:"-"`
	AttemptNode    string     `json:"-"` // the node that marked the latest attempt
	NotBefore      *time.Time `json:"-"`
	PublishedAt    *time.Time `json:"published_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// ReplyStore is what replies need from the database.
type ReplyStore interface {
	// CreateReply stores a new reply, marks the conversation's first
	// response if it has none, and calls enqueue in the same transaction
	// (tx is nil when the store runs without one).
	CreateReply(ctx context.Context, r *Reply, enqueue func(tx *sql.Tx) error) error
	ReplyByID(ctx context.Context, id int64) (Reply, error)
	Replies(ctx context.Context, channelID int64, conversation string) ([]Reply, error)
	// BeginReplyAttempt marks a reply publishing if its attempts are
	// still attempts (a compare-and-set); false: another worker began.
	BeginReplyAttempt(ctx context.Context, id int64, attempts int, at time.Time, node string) (bool, error)
	SaveReply(ctx context.Context, r Reply) error
	OpenReplies(ctx context.Context) ([]Reply, error)
}

// Accounts gives a channel's connected account and connector
// (connection.Service).
type Accounts interface {
	Account(ctx context.Context, channelID int64) (*connector.Account, connector.Connector, error)
}

// Queue inserts jobs (jobs.Queue).
type Queue interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// UseQueue sets the job queue replies are delivered by.
func (s *Service) UseQueue(q Queue) { s.queue = q }

// RegisterWorkers adds the inbox's job workers to the queue.
func (s *Service) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &replyWorker{s: s})
}

// ReplyArgs is the job that delivers one reply.
type ReplyArgs struct {
	ReplyID int64 `json:"reply_id"`
}

// Kind names the job.
func (ReplyArgs) Kind() string { return "inbox_reply" }

const maxReply = 8000

func newKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "reply-" + hex.EncodeToString(b)
}

// Reply answers a message through its channel's connector: the text is
// validated against the platform's rules, the reply stored with its job
// in one transaction, and delivered by the queue.
func (s *Service) Reply(ctx context.Context, p *access.Principal, messageID int64, text string) (Reply, error) {
	m, err := s.messageFor(ctx, p, messageID, access.AnswerInbox)
	if err != nil {
		return Reply{}, err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Reply{}, errs.Field("text", "is required")
	}
	if len(text) > maxReply {
		return Reply{}, errs.Field("text", "is longer than %d bytes", maxReply)
	}
	if err := s.validateReply(ctx, m, text); err != nil {
		return Reply{}, err
	}
	r := Reply{MessageID: m.ID, ChannelID: m.ChannelID, Conversation: m.Conversation, UserID: p.User.ID, Author: p.User.Email,
		Text: text, Key: newKey(), Status: ReplyScheduled}
	err = s.cfg.Store.CreateReply(ctx, &r, func(tx *sql.Tx) error {
		if s.queue == nil {
			return nil // ResumeReplies schedules it when a queue starts
		}
		var err error
		if tx != nil {
			_, err = s.queue.InsertTx(ctx, tx, ReplyArgs{ReplyID: r.ID}, &river.InsertOpts{MaxAttempts: 25})
		} else {
			_, err = s.queue.Insert(ctx, ReplyArgs{ReplyID: r.ID}, &river.InsertOpts{MaxAttempts: 25})
		}
		return err
	})
	if err != nil {
		return Reply{}, err
	}
	return r, nil
}

// validateReply checks the text against the channel's platform rules.
func (s *Service) validateReply(ctx context.Context, m Message, text string) error {
	dir, err := s.directory(ctx, false)
	if err != nil {
		return err
	}
	ch, ok := dir.channels[m.ChannelID]
	if !ok {
		if dir, err = s.directory(ctx, true); err != nil {
			return err
		}
		ch = dir.channels[m.ChannelID]
	}
	if s.cfg.Registry == nil {
		return nil
	}
	c, ok := s.cfg.Registry.Get(ch.Platform)
	if !ok {
		return errs.E(errs.Conflict, "no connector for %s: this channel can't send replies", ch.Platform)
	}
	if _, pub := c.(connector.Publisher); !pub || !c.Capabilities().Reply {
		return errs.E(errs.Conflict, "%s can't send replies", ch.Platform)
	}
	if probs := c.Validate(connector.Variant{Text: text}); len(probs) > 0 {
		field := probs[0].Field
		if field == "" {
			field = "text"
		}
		return errs.Field(field, "%s", probs[0].Message)
	}
	return nil
}

// ResumeReplies makes sure every open reply has a job: on start, or when
// jobs were lost. Duplicates are harmless: an attempt begins only by a
// compare-and-set, and a publishing one is looked up after its lease.
func (s *Service) ResumeReplies(ctx context.Context) (int, error) {
	if s.queue == nil {
		return 0, nil
	}
	rs, err := s.cfg.Store.OpenReplies(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range rs {
		if _, err := s.queue.Insert(ctx, ReplyArgs{ReplyID: r.ID}, &river.InsertOpts{MaxAttempts: 25}); err != nil {
			return 0, fmt.Errorf("inbox: resume reply %d: %w", r.ID, err)
		}
	}
	return len(rs), nil
}

type replyWorker struct {
	river.WorkerDefaults[ReplyArgs]
	s *Service
}

func (w *replyWorker) Timeout(*river.Job[ReplyArgs]) time.Duration { return 2 * time.Minute }

// inWorkerWait is the longest wait a reply's job sleeps through instead of
// snoozing: River makes a snoozed job due again only every few seconds,
// which would make a short 429 reset or backoff cost that long.
const inWorkerWait = 5 * time.Second

func (w *replyWorker) Work(ctx context.Context, job *river.Job[ReplyArgs]) error {
	for {
		next, err := w.s.DeliverReply(ctx, job.Args.ReplyID)
		if err != nil {
			return err
		}
		if next <= 0 {
			return nil
		}
		if next > inWorkerWait {
			return river.JobSnooze(next)
		}
		t := time.NewTimer(next)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func (s *Service) replyBackoff(failures int) time.Duration { return s.replyPolicy().Backoff(failures) }

// DeliverReply runs one step of a reply's delivery and says when to run
// the next (0: done). As a post's: the reply is marked publishing before
// the platform is called; one found publishing or unknown, or after any
// attempt, is first looked up on the platform and sent again only if the
// platform positively does not have it.
func (s *Service) DeliverReply(ctx context.Context, id int64) (time.Duration, error) {
	r, err := s.cfg.Store.ReplyByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	switch r.Status {
	case ReplyScheduled, ReplyPublishing, ReplyUnknown:
	default:
		return 0, nil
	}
	now := s.cfg.Now()
	if r.NotBefore != nil {
		if wait := r.NotBefore.Sub(now); wait > 0 {
			return wait, nil
		}
	}
	if r.Status == ReplyPublishing && r.LastAttemptAt != nil && !s.cfg.SoleWorkerSince.After(*r.LastAttemptAt) {
		if left := r.LastAttemptAt.Add(s.cfg.Lease).Sub(now); left > 0 {
			hold, err := node.Hold(ctx, s.cfg.Nodes, s.cfg.Node, r.AttemptNode, now, left)
			if err != nil || hold > 0 {
				return hold, err // another attempt may still be running
			}
		}
	}
	m, _, err := s.cfg.Store.MessageByID(ctx, r.MessageID)
	if err != nil {
		return 0, err
	}
	if s.cfg.Accounts == nil {
		return 0, errors.New("inbox: no accounts to send replies with")
	}
	acct, conn, err := s.cfg.Accounts.Account(ctx, r.ChannelID)
	if err != nil {
		if r.Status != ReplyScheduled || r.Attempts > 0 {
			r.Failures++
			r.Error, r.ErrorKind = "can't reconcile: "+err.Error(), "not_connected"
			if r.Failures >= s.cfg.MaxFailures {
				r.Status = ReplyUnknown
				return 0, s.cfg.Store.SaveReply(ctx, r)
			}
			return s.replyBackoff(r.Failures), s.cfg.Store.SaveReply(ctx, r)
		}
		if errs.CodeOf(err) == errs.Internal {
			return 0, err
		}
		r.Status, r.Error, r.ErrorKind = ReplyFailed, "channel not connected: "+err.Error(), "not_connected"
		return 0, s.cfg.Store.SaveReply(ctx, r)
	}
	req := connector.PublishRequest{IdempotencyKey: r.Key, Variant: connector.Variant{Text: r.Text},
		InReplyTo: &connector.ReplyTarget{ExternalID: m.ExternalID, Kind: connector.InboundKind(m.Kind), AuthorHandle: m.AuthorHandle, ThreadID: m.ThreadID}}
	if r.FirstAttemptAt != nil {
		req.FirstAttemptAt = *r.FirstAttemptAt
	}
	// Any earlier attempt may have reached the platform: ask first.
	if r.Status != ReplyScheduled || r.Attempts > 0 {
		p, found, err := connector.Lookup(ctx, conn, acct, req)
		if err != nil {
			return s.afterReplyError(ctx, r, err, true)
		}
		if found {
			return 0, s.replyPublished(ctx, r, p)
		}
	}
	ok, err := s.cfg.Store.BeginReplyAttempt(ctx, r.ID, r.Attempts, now, s.cfg.Node)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 5 * time.Second, nil
	}
	r.Attempts++
	r.Status = ReplyPublishing
	if r.FirstAttemptAt == nil {
		r.FirstAttemptAt = &now
		req.FirstAttemptAt = now
	}
	p, perr := connector.Publish(ctx, conn, acct, req)
	if s.cfg.AfterReplyAnswer != nil {
		if err := s.cfg.AfterReplyAnswer(r.ID, perr); err != nil {
			return 0, err
		}
	}
	if perr != nil {
		return s.afterReplyError(ctx, r, perr, false)
	}
	return 0, s.replyPublished(ctx, r, p)
}

func (s *Service) replyPublished(ctx context.Context, r Reply, p connector.Published) error {
	now := s.cfg.Now()
	r.Status, r.PlatformPostID, r.URL, r.PublishedAt, r.Error, r.ErrorKind, r.NotBefore = ReplyPublished, p.ID, p.URL, &now, "", "", nil
	return s.cfg.Store.SaveReply(ctx, r)
}

// afterReplyError records a failed send or lookup and says when to go
// on, by the policy replies share with post deliveries.
func (s *Service) afterReplyError(ctx context.Context, r Reply, err error, lookup bool) (time.Duration, error) {
	a := connector.Attempt{State: r.Status, Failures: r.Failures}
	next := s.replyPolicy().AfterFailure(&a, err, lookup, s.cfg.Now())
	r.Status, r.Failures, r.Error, r.ErrorKind = a.State, a.Failures, a.Error, a.ErrorKind
	r.NotBefore = nil
	if next > 0 {
		t := s.cfg.Now().Add(next)
		r.NotBefore = &t
	}
	if err := s.cfg.Store.SaveReply(ctx, r); err != nil {
		return 0, err
	}
	return next, nil
}

func (s *Service) replyPolicy() connector.AttemptPolicy {
	return connector.AttemptPolicy{RetryBase: s.cfg.RetryBase, MinWait: s.cfg.MinWait, MaxFailures: s.cfg.MaxFailures}
}
