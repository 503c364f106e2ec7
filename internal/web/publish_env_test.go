package web

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/jobs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// testPublishService builds the publishing service of a test hub. It has
// no job queue until a test calls startPublishing, so tests that do not
// publish pay nothing for it.
func testPublishService(e *testEnv) *publish.Service {
	return publish.NewService(publish.Config{Store: e.store, InTx: e.store.PublishTx, Org: e.org, Registry: e.conn.Registry,
		Accounts: testAccounts{e}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBase: 20 * time.Millisecond, MinWait: 20 * time.Millisecond})
}

// startPublishing runs the job queue with the publishing workers.
func (e *testEnv) startPublishing(t *testing.T) { e.startPublishingWith(t, 8) }

// startPublishingWith runs the queue with that many workers.
func (e *testEnv) startPublishingWith(t *testing.T, workers int) {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.New(ctx, e.store.DB(), jobs.Engine(e.store.Engine()), jobs.Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 20 * time.Millisecond, Concurrency: workers,
		Register: func(w *river.Workers) { e.publish.RegisterWorkers(w) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(stopCtx)
	})
	e.publish.UseQueue(q)
}

// testAccounts opens channels' accounts the way connection.Service.Account
// does (see the report): the connection row, its sealed credentials, the
// platform's connector.
type testAccounts struct{ e *testEnv }

func (a testAccounts) Account(ctx context.Context, channelID int64) (*connector.Account, connector.Connector, error) {
	conn, found, err := a.e.store.ConnectionByChannel(ctx, channelID)
	if err != nil {
		return nil, nil, err
	}
	if !found || conn.State != connection.StateConnected {
		return nil, nil, errs.E(errs.Unavailable, "channel %d is not connected to its platform", channelID)
	}
	c, ok := a.e.conn.Registry.Get(conn.Platform)
	if !ok {
		return nil, nil, errs.E(errs.Unavailable, "no connector for %s", conn.Platform)
	}
	creds, err := connector.OpenCredentials(a.e.conn.Box, conn.Sealed)
	if err != nil {
		return nil, nil, errs.E(errs.Unavailable, "channel %d: credentials unreadable: %v", channelID, err)
	}
	return &connector.Account{ChannelID: strconv.FormatInt(channelID, 10), BaseURL: conn.BaseURL, ExternalID: conn.ExternalID,
		Handle: conn.Handle, Credentials: creds,
		SaveCredentials: func(ctx context.Context, c connector.Credentials) error {
			sealed, err := c.Seal(a.e.conn.Box)
			if err != nil {
				return err
			}
			return a.e.store.UpdateConnectionCredentials(ctx, channelID, sealed)
		}}, c, nil
}
