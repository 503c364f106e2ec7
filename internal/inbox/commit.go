package inbox

import (
	"context"
	"fmt"
	"sync"
)

// maxCombined bounds the messages the combiner writes in one transaction.
const maxCombined = 4 * MaxBatch

// combiner writes the batches of concurrent Ingest calls together, in one
// store transaction (group commit). SQLite has one writer; a batch that
// waits for it anyway joins the batches waiting with it, so that a busy
// hub writes fewer, larger transactions: each secondary-index page and
// full-text segment is written once for several batches, and a commit's
// fixed cost is shared. Every caller still returns only once its own
// messages are committed.
//
// The writing is done by one goroutine, started when a batch finds none
// at work and ending when the queue is empty: it writes what has queued
// up, round after round.
type combiner struct {
	mu      sync.Mutex
	queue   []*pendingBatch
	writing bool
}

type pendingBatch struct {
	msgs   []Message
	stored []Message
	err    error
	done   chan struct{}
}

// store writes msgs (deduplicated among themselves) and returns those that
// were new, as Store.IngestMessages does, possibly in one transaction with
// other callers' batches. The write does not heed the caller's
// cancellation: once queued, the batch is written.
func (s *Service) store(msgs []Message) ([]Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	c := &s.combine
	b := &pendingBatch{msgs: msgs, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, b)
	if !c.writing {
		c.writing = true
		go s.writeQueued()
	}
	c.mu.Unlock()
	<-b.done
	return b.stored, b.err
}

// writeQueued writes the queued batches, up to maxCombined messages (and
// at least one batch) per transaction, until none is left.
func (s *Service) writeQueued() {
	c := &s.combine
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		n, total := 0, 0
		for n < len(c.queue) && (n == 0 || total+len(c.queue[n].msgs) <= maxCombined) {
			total += len(c.queue[n].msgs)
			n++
		}
		round := c.queue[:n:n]
		c.queue = c.queue[n:]
		c.mu.Unlock()
		s.writeRound(context.Background(), round)
	}
}

// writeRound writes the batches of one round in one transaction and hands
// each its share of the result. Should that transaction fail, each batch
// is written on its own, so that one batch's failure is not another's.
func (s *Service) writeRound(ctx context.Context, round []*pendingBatch) {
	defer func() {
		for _, b := range round {
			close(b.done)
		}
	}()
	if len(round) == 1 {
		b := round[0]
		b.stored, b.err = s.ingestOnce(ctx, b.msgs)
		return
	}
	// A message in two batches is written once, for the first; the later
	// batch counts it as a duplicate, as it would had it come after.
	owner := make(map[messageKey]int)
	all := make([]Message, 0, len(round[0].msgs)*len(round))
	for i, b := range round {
		for _, m := range b.msgs {
			k := messageKey{m.ChannelID, m.ExternalID}
			if _, ok := owner[k]; ok {
				continue
			}
			owner[k] = i
			all = append(all, m)
		}
	}
	stored, err := s.ingestOnce(ctx, all)
	if err != nil {
		s.cfg.Log.Warn("ingest: a shared write failed; writing its batches one by one", "batches", len(round), "err", err)
		for _, b := range round {
			b.stored, b.err = s.ingestOnce(ctx, b.msgs)
		}
		return
	}
	for _, m := range stored {
		b := round[owner[messageKey{m.ChannelID, m.ExternalID}]]
		b.stored = append(b.stored, m)
	}
}

// ingestOnce stores msgs in one transaction. A panic becomes the batch's
// error: the writing goroutine serves every caller and must go on.
func (s *Service) ingestOnce(ctx context.Context, msgs []Message) (stored []Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("inbox: store messages: panic: %v", r)
		}
	}()
	return s.cfg.Store.IngestMessages(ctx, msgs)
}

type messageKey struct {
	channel  int64
	external string
}
