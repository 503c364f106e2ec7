package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Group commit. SQLite has one writer, and every write transaction costs a
// lock, a WAL append and a commit however small it is. When hundreds of
// workers each record one small write at once (a delivery's attempt mark
// or outcome), running them one transaction each makes the writer the
// bottleneck. Batched collects the writes that are waiting while a
// transaction runs and commits them together in the next one: a lone
// write still runs at once, and under load a transaction carries many.
// Each caller gets its own result, as if it had run alone: if one write in
// a batch fails, the batch is rolled back and every write is run again in
// a transaction of its own.

const maxBatch = 512

type batchOp struct {
	ctx  context.Context
	fn   func(tx *Store) error
	done chan error
}

type batcher struct {
	once     sync.Once
	ops      chan *batchOp
	stop     chan struct{} // closed by Store.Close
	stopOnce sync.Once
}

func (b *batcher) close() { b.stopOnce.Do(func() { close(b.stop) }) }

func newBatcher() *batcher {
	return &batcher{ops: make(chan *batchOp, maxBatch), stop: make(chan struct{})}
}

// Batched runs fn in a write transaction, shared with other callers'
// batched writes when they arrive together (see above). fn must be a
// short write that does not depend on being alone in its transaction, and
// it may run twice (the second time alone, after a failed batch), so it
// must set, not accumulate, what it reports. Inside a transaction, or on
// PostgreSQL (where writers don't queue behind one lock), it simply runs.
func (s *Store) Batched(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx || s.batch == nil {
		return s.InTx(ctx, fn)
	}
	s.batch.once.Do(func() { go s.batch.loop(s) })
	op := &batchOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.batch.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.batch.stop:
		return errClosed
	}
	// Once queued the write runs whatever happens to ctx, so wait for it:
	// returning early would leave the caller unsure whether it was stored.
	select {
	case err := <-op.done:
		return err
	case <-s.batch.stop:
		return errClosed
	}
}

var errClosed = errors.New("store: closed")

// batchState is what the writes of one batch leave for its end, to be
// done once for all of them.
type batchState struct {
	published []int64 // deliveries newly published: their rollups (see SaveOutcome)
}

// finishBatch does what the batch's writes left for its end.
func (s *Store) finishBatch(ctx context.Context) error {
	if len(s.inBatch.published) == 0 {
		return nil
	}
	return s.trackPublished(ctx, s.inBatch.published)
}

// execPrepared runs a write that a transaction repeats many times (in a
// loop, or in a batch of group-committed writes) through a statement
// prepared once per transaction: SQLite would otherwise parse the same SQL
// for every row, which costs more than running it.
func (s *Store) execPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.stmts == nil {
		return s.w.ExecContext(ctx, query, args...)
	}
	st, ok := s.stmts[query]
	if !ok {
		tx, isTx := s.w.(*sql.Tx)
		if !isTx {
			return s.w.ExecContext(ctx, query, args...)
		}
		var err error
		if st, err = tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		s.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

func (b *batcher) loop(s *Store) {
	list := make([]*batchOp, 0, maxBatch)
	for {
		var op *batchOp
		select {
		case op = <-b.ops:
		case <-b.stop:
			return
		}
		list = append(list[:0], op)
	drain:
		for len(list) < maxBatch {
			select {
			case op := <-b.ops:
				list = append(list, op)
			default:
				break drain
			}
		}
		s.runBatch(list)
	}
}

func (s *Store) runBatch(list []*batchOp) {
	live := list[:0]
	for _, op := range list {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		err := s.InTx(context.Background(), func(tx *Store) error {
			tx.inBatch = &batchState{}
			for _, op := range live {
				if err := op.fn(tx); err != nil {
					return err
				}
			}
			return tx.finishBatch(context.Background())
		})
		if err == nil {
			for _, op := range live {
				op.done <- nil
			}
			return
		}
	}
	for _, op := range live {
		op.done <- s.InTx(op.ctx, op.fn)
	}
}
