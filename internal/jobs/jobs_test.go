package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/jobs"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	mu   sync.Mutex
	seen []int
	done chan int
}

func (w *pingWorker) Work(ctx context.Context, job *river.Job[pingArgs]) error {
	w.mu.Lock()
	w.seen = append(w.seen, job.Args.N)
	w.mu.Unlock()
	w.done <- job.Args.N
	return nil
}

// A job inserted in a transaction runs only if the transaction commits.
func TestInsertTxRunsOnlyCommittedJobs(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	w := &pingWorker{done: make(chan int, 10)}
	q, err := jobs.New(ctx, st.DB(), jobs.Engine(st.Engine()), jobs.Config{
		PollInterval: 20 * time.Millisecond,
		Register:     func(ws *river.Workers) { river.AddWorker(ws, w) },
	})
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
	rollback := errors.New("roll back")
	err = st.InTx(ctx, func(tx *store.Store) error {
		if _, err := q.InsertTx(ctx, tx.Tx(), pingArgs{N: 1}, nil); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx *store.Store) error {
		_, err := q.InsertTx(ctx, tx.Tx(), pingArgs{N: 2}, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-w.done:
		if n != 2 {
			t.Fatalf("ran job %d, want 2", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the committed job never ran")
	}
	// The rolled-back job must not exist: insert a marker and wait for it;
	// anything else seen before it would be the ghost.
	if _, err := q.Insert(ctx, pingArgs{N: 3}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-w.done:
		if n != 3 {
			t.Fatalf("ran job %d, want 3", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the marker job never ran")
	}
}
