package web

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/jobs"
	"github.com/vernetzen/vernetzen/internal/leads"
)

// testInboxServices builds the inbox and leads services of a test hub and
// puts the connectors' inbound items through the inbox's pipeline.
func testInboxServices(e *testEnv) (*inbox.Service, *leads.Service) {
	in := inbox.NewService(inbox.Config{Store: e.store, Accounts: e.conn, Registry: e.conn.Registry,
		RetryBase: 20 * time.Millisecond, MinWait: 20 * time.Millisecond})
	e.conn.Ingest = in
	return in, leads.NewService(leads.Config{Store: e.store, Export: e.store, Box: e.conn.Box})
}

// startInboxQueue runs a job queue with the inbox's workers (replies).
func (e *testEnv) startInboxQueue(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.New(ctx, e.store.DB(), jobs.Engine(e.store.Engine()), jobs.Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 20 * time.Millisecond, Concurrency: 8,
		Register: func(w *river.Workers) { e.inbox.RegisterWorkers(w) }})
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
	e.inbox.UseQueue(q)
}
