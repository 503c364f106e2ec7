package web

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/jobs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// testPublishService builds the publishing service of a test hub. It has
// no job queue until a test calls startPublishing, so tests that do not
// publish pay nothing for it.
func testPublishService(e *testEnv) *publish.Service {
	return publish.NewService(publish.Config{Store: e.store, InTx: e.store.PublishTx, Org: e.org, Registry: e.conn.Registry,
		Accounts: e.conn, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBase: 20 * time.Millisecond, MinWait: 20 * time.Millisecond, MediaDir: e.t.TempDir()})
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
