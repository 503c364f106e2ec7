package connection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// PollArgs is the job that polls one channel for inbound items. It lives
// as long as the channel is connected: each run fetches what is new,
// stores it with the cursor in one transaction, and snoozes until the
// next poll, so the database, not memory, holds the schedule.
type PollArgs struct {
	ChannelID int64 `json:"channel_id"`
}

// Kind names the job.
func (PollArgs) Kind() string { return "poll_inbound" }

// pollUnique keeps one live poll job per channel; a finished one (after a
// disconnect) does not block the next connect from scheduling anew.
var pollUnique = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

func (s *Service) schedulePoll(ctx context.Context, tx *sql.Tx, channelID int64) error {
	if s.queue == nil {
		return nil
	}
	opts := &river.InsertOpts{UniqueOpts: pollUnique, MaxAttempts: 25}
	var err error
	if tx != nil {
		_, err = s.queue.InsertTx(ctx, tx, PollArgs{ChannelID: channelID}, opts)
	} else {
		_, err = s.queue.Insert(ctx, PollArgs{ChannelID: channelID}, opts)
	}
	return err
}

// ResumePolling makes sure every connected channel that can be polled has
// its poll job: on start, after a restore, or when jobs were lost.
// Channels that already have one are left alone.
func (s *Service) ResumePolling(ctx context.Context) error {
	if s.queue == nil {
		return nil
	}
	conns, err := s.Store.Connections(ctx)
	if err != nil {
		return err
	}
	opts := &river.InsertOpts{UniqueOpts: pollUnique, MaxAttempts: 25}
	var batch []river.InsertManyParams
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.queue.InsertMany(ctx, batch)
		batch = batch[:0]
		return err
	}
	for _, c := range conns {
		if c.State != StateConnected {
			continue
		}
		batch = append(batch, river.InsertManyParams{Args: PollArgs{ChannelID: c.ChannelID}, InsertOpts: opts},
			river.InsertManyParams{Args: AudienceArgs{ChannelID: c.ChannelID}, InsertOpts: opts})
		if len(batch) >= 1000 {
			if err := flush(); err != nil {
				return fmt.Errorf("connection: resume polling: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("connection: resume polling: %w", err)
	}
	return nil
}

type pollWorker struct {
	river.WorkerDefaults[PollArgs]
	s *Service
}

// Timeout bounds one poll; a page of a slow platform fits easily.
func (w *pollWorker) Timeout(*river.Job[PollArgs]) time.Duration { return 2 * time.Minute }

func (w *pollWorker) Work(ctx context.Context, job *river.Job[PollArgs]) error {
	next, err := w.s.PollOnce(ctx, job.Args.ChannelID)
	if err != nil {
		return err
	}
	if next < 0 {
		return nil // not polled any more: disconnected or needs a person
	}
	return river.JobSnooze(next)
}

// PollOnce polls a channel once and says when to poll next (negative:
// stop polling). Items and the new cursor are stored in one transaction,
// so a crash between the two can't skip or repeat an item.
func (s *Service) PollOnce(ctx context.Context, channelID int64) (time.Duration, error) {
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
	if _, ok := c.(connector.InboundFetcher); !ok {
		return -1, nil
	}
	acct, err := s.account(ctx, conn)
	if err != nil {
		s.Log.Error("poll: credentials unreadable", "channel", channelID, "err", err)
		return -1, s.Store.SetConnectionState(ctx, channelID, StateError, "credentials unreadable: "+err.Error(), conn.PollFailures+1)
	}
	page, err := connector.FetchInbound(ctx, c, acct, conn.Cursor)
	if err != nil {
		return s.pollFailed(ctx, conn, err)
	}
	now := s.Now()
	msgs := make([]inbox.Message, len(page.Items))
	for i, it := range page.Items {
		msgs[i] = toMessage(channelID, it)
	}
	// Classify and route before the transaction: it only reads.
	if err := s.prepare(ctx, msgs); err != nil {
		return 0, err
	}
	err = s.InTx(ctx, func(tx Store) error {
		if len(msgs) > 0 {
			if _, err := tx.InsertMessages(ctx, msgs); err != nil {
				return err
			}
		}
		return tx.SaveInboundCursor(ctx, channelID, page.Cursor, now)
	})
	if err != nil {
		return 0, err
	}
	if page.More {
		return 0, nil
	}
	return s.PollInterval, nil
}

// pollFailed records a failed poll and decides what happens next: wait
// for the platform's reset, back off, or stop and tell the owners.
func (s *Service) pollFailed(ctx context.Context, conn Connection, err error) (time.Duration, error) {
	failures := conn.PollFailures + 1
	msg := err.Error()
	switch connector.KindOf(err) {
	case connector.KindRateLimited:
		wait := time.Until(connector.RetryAt(err))
		if wait < time.Second {
			wait = time.Second
		}
		return wait, s.Store.SetConnectionState(ctx, conn.ChannelID, StateConnected, msg, conn.PollFailures)
	case connector.KindReconnectNeeded:
		if err := s.Store.SetConnectionState(ctx, conn.ChannelID, StateReconnectNeeded, msg, failures); err != nil {
			return 0, err
		}
		s.tellOwners(ctx, conn.ChannelID, "needs reconnecting: the platform no longer accepts its credentials ("+msg+")")
		return -1, nil
	case connector.KindPermanent:
		if err := s.Store.SetConnectionState(ctx, conn.ChannelID, StateError, msg, failures); err != nil {
			return 0, err
		}
		s.tellOwners(ctx, conn.ChannelID, "stopped polling: "+msg)
		return -1, nil
	default: // transient, unknown: back off, doubling up to an hour
		if err := s.Store.SetConnectionState(ctx, conn.ChannelID, StateConnected, msg, failures); err != nil {
			return 0, err
		}
		return backoff(s.PollInterval, failures), nil
	}
}

func backoff(base time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// tellOwners leaves a notice for every manager of the channel's unit.
func (s *Service) tellOwners(ctx context.Context, channelID int64, what string) {
	ch, err := s.Org.Channel(ctx, systemPrincipal, channelID)
	if err != nil {
		s.Log.Error("notify owners", "channel", channelID, "err", err)
		return
	}
	owners, err := s.Store.UnitOwners(ctx, ch.UnitPath)
	if err != nil {
		s.Log.Error("notify owners", "channel", channelID, "err", err)
		return
	}
	text := fmt.Sprintf("%s channel %q of %s %s", ch.Platform, ch.Name, ch.UnitName, what)
	for _, uid := range owners {
		if err := s.Store.AddNotice(ctx, uid, channelID, text); err != nil {
			s.Log.Error("notify owners", "channel", channelID, "err", err)
		}
	}
	s.Log.Warn("channel needs attention", "channel", channelID, "owners", len(owners), "what", what)
}

// account builds the connector's view of a connection, with credentials
// opened and a hook that seals and stores them again after a refresh.
func (s *Service) account(ctx context.Context, conn Connection) (*connector.Account, error) {
	if s.Box == nil {
		return nil, errors.New("no secret key configured")
	}
	creds, err := connector.OpenCredentials(s.Box, conn.Sealed)
	if err != nil {
		return nil, err
	}
	app, err := s.app(ctx, conn.Platform, conn.BaseURL)
	if err != nil {
		return nil, err
	}
	channelID := conn.ChannelID
	return &connector.Account{
		ChannelID: strconv.FormatInt(conn.ChannelID, 10), BaseURL: conn.BaseURL, ExternalID: conn.ExternalID, Handle: conn.Handle,
		Credentials: creds, App: app,
		SaveCredentials: func(ctx context.Context, c connector.Credentials) error {
			sealed, err := c.Seal(s.Box)
			if err != nil {
				return err
			}
			return s.Store.UpdateConnectionCredentials(ctx, channelID, sealed)
		},
	}, nil
}
