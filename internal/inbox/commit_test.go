package inbox

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
)

// writeLog is a store that records each IngestMessages call; the first
// call waits until released, so that the batches behind it queue up.
type writeLog struct {
	Store    // the rest is not used here
	mu       sync.Mutex
	calls    [][]string // external ids per call
	stored   map[string]bool
	entered  chan struct{}
	release  chan struct{}
	failWith string // a combined call holding this id fails
}

func (w *writeLog) InboxUnits(context.Context) ([]UnitRef, error) {
	return []UnitRef{{ID: 1, Key: "u", Name: "U", Kind: "market", Path: "/1/"}}, nil
}

func (w *writeLog) InboxChannels(context.Context) ([]ChannelRef, error) {
	return []ChannelRef{{ID: 7, UnitID: 1, Platform: "simulator"}}, nil
}

func (w *writeLog) SLASettings(context.Context) ([]SLASettings, error) { return nil, nil }

func (w *writeLog) RoutingRules(context.Context) ([]RoutingRule, error) { return nil, nil }

func (w *writeLog) IntentCorrectionStamp(context.Context) (int, time.Time, error) {
	return 0, time.Time{}, nil
}

func (w *writeLog) VehicleCatalogues(context.Context) ([]StoredCatalogue, error) { return nil, nil }

func (w *writeLog) IngestMessages(_ context.Context, msgs []Message) ([]Message, error) {
	w.mu.Lock()
	first := len(w.calls) == 0
	ids := make([]string, len(msgs))
	poisoned := false
	for i, m := range msgs {
		ids[i] = m.ExternalID
		poisoned = poisoned || m.ExternalID == w.failWith
	}
	w.calls = append(w.calls, ids)
	w.mu.Unlock()
	if first {
		close(w.entered)
		<-w.release
	}
	if poisoned {
		return nil, errors.New("poisoned batch")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var stored []Message
	for _, m := range msgs {
		if !w.stored[m.ExternalID] {
			w.stored[m.ExternalID] = true
			m.ID = int64(len(w.stored))
			stored = append(stored, m)
		}
	}
	return stored, nil
}

func batchOf(ids ...string) []MessageInput {
	var in []MessageInput
	for _, id := range ids {
		in = append(in, MessageInput{Channel: 7, ExternalID: id, Kind: "comment", Author: AuthorInput{ExternalID: "a"},
			Text: "hello", CreatedAt: "2026-11-20T10:00:00Z"})
	}
	return in
}

// ingestBehindAWrite runs first alone, waits until its write has begun,
// then queues the other batches behind it and releases it.
func ingestBehindAWrite(t *testing.T, w *writeLog, first []MessageInput, queued ...[]MessageInput) ([]IngestResult, []error) {
	t.Helper()
	svc := NewService(Config{Store: w})
	sys := access.SystemPrincipal()
	results := make([]IngestResult, 1+len(queued))
	errs := make([]error, 1+len(queued))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		results[0], errs[0] = svc.Ingest(context.Background(), sys, first)
	}()
	<-w.entered
	// The queued batches join the queue one after the other, in order.
	for i, in := range queued {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i+1], errs[i+1] = svc.Ingest(context.Background(), sys, in)
		}()
		for {
			svc.combine.mu.Lock()
			n := len(svc.combine.queue)
			svc.combine.mu.Unlock()
			if n == i+1 {
				break
			}
			runtime.Gosched()
		}
	}
	close(w.release)
	wg.Wait()
	return results, errs
}

func TestBatchesWaitingForTheWriterShareOneWrite(t *testing.T) {
	w := &writeLog{stored: map[string]bool{}, entered: make(chan struct{}), release: make(chan struct{})}
	results, errs := ingestBehindAWrite(t, w, batchOf("a1", "a2"), batchOf("b1", "b2"), batchOf("c1", "b2"), batchOf("d1"))
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if fmt.Sprint(w.calls) != "[[a1 a2] [b1 b2 c1 d1]]" {
		t.Fatalf("writes %v, want the first batch alone, then the three queued ones in one write, b2 once", w.calls)
	}
	// b2 is in two queued batches: stored once, for the first of them;
	// the second counts it as a duplicate.
	accepted, dups := 0, 0
	for _, r := range results {
		accepted += r.Accepted
		dups += r.Duplicates
	}
	if accepted != 6 || dups != 1 || len(w.stored) != 6 || results[2].Duplicates != 1 || results[1].Accepted != 2 {
		t.Fatalf("results %+v, stored %d; want 6 accepted and 1 duplicate", results, len(w.stored))
	}
}

func TestAFailingBatchDoesNotFailTheBatchesItWasWrittenWith(t *testing.T) {
	w := &writeLog{stored: map[string]bool{}, entered: make(chan struct{}), release: make(chan struct{}), failWith: "bad"}
	results, errs := ingestBehindAWrite(t, w, batchOf("a1"), batchOf("b1", "b2"), batchOf("bad", "c1"), batchOf("d1"))
	if errs[0] != nil || errs[1] != nil || errs[3] != nil {
		t.Fatalf("the good batches failed: %v", errs)
	}
	if errs[2] == nil {
		t.Fatal("the poisoned batch was accepted")
	}
	if results[1].Accepted != 2 || results[3].Accepted != 1 || w.stored["c1"] {
		t.Fatalf("results %+v, stored %v", results, w.stored)
	}
	// The shared write, then each batch on its own.
	if fmt.Sprint(w.calls[1:]) != "[[b1 b2 bad c1 d1] [b1 b2] [bad c1] [d1]]" {
		t.Fatalf("writes %v", w.calls)
	}
}
