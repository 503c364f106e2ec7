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

type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "test_count" }

type countWorker struct {
	river.WorkerDefaults[countArgs]
	node string
	mu   *sync.Mutex
	runs map[int][]string
	done chan struct{}
}

func (w *countWorker) Work(ctx context.Context, job *river.Job[countArgs]) error {
	w.mu.Lock()
	w.runs[job.Args.N] = append(w.runs[job.Args.N], w.node)
	w.mu.Unlock()
	w.done <- struct{}{}
	return nil
}

// Two nodes on one database share the work: every job runs exactly once,
// on one of them.
func TestTwoNodesRunEachJobOnce(t *testing.T) {
	ctx := context.Background()
	dsn, dir := storetest.Config(t)
	var mu sync.Mutex
	runs := map[int][]string{}
	done := make(chan struct{}, 200)
	var queues []*jobs.Queue
	for _, node := range []string{"a", "b"} {
		st, err := store.Open(ctx, dsn, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		w := &countWorker{node: node, mu: &mu, runs: runs, done: done}
		q, err := jobs.New(ctx, st.DB(), jobs.Engine(st.Engine()), jobs.Config{PollInterval: 20 * time.Millisecond, Concurrency: 4,
			Register: func(ws *river.Workers) { river.AddWorker(ws, w) }})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			q.Stop(c)
		})
		queues = append(queues, q)
	}
	const n = 60
	for i := 0; i < n; i++ {
		if _, err := queues[i%2].Insert(ctx, countArgs{N: i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d of %d jobs ran", i, n)
		}
	}
	// Give a duplicate run, if any, the chance to show.
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i++ {
		if len(runs[i]) != 1 {
			t.Errorf("job %d ran %d times (%v)", i, len(runs[i]), runs[i])
		}
	}
}
