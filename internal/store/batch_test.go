package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// postTo stores a unit with n channels and a scheduled post to all of
// them, and returns the post's deliveries.
func postTo(t testing.TB, st *store.Store, n int) []publish.Delivery {
	t.Helper()
	ctx := context.Background()
	if err := st.SyncPlatforms(ctx, []*org.Platform{{Key: "mastodon", Name: "Mastodon"}}); err != nil {
		t.Fatal(err)
	}
	u := &org.Unit{Key: "g", Name: "Group", Kind: "group", TimeZone: "UTC"}
	if err := st.CreateUnit(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	keys := make([]string, n)
	for i := range ids {
		c := &org.Channel{UnitID: u.ID, Platform: "mastodon", Handle: fmt.Sprint("u", i), AccountKey: fmt.Sprint("u", i),
			URL: fmt.Sprint("https://example.social/@u", i), Name: fmt.Sprint("u", i), Status: "active"}
		if err := st.CreateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids[i], keys[i] = c.ID, fmt.Sprint("key-", i)
	}
	p := &publish.Post{UnitID: u.ID, Text: "hello", Stored: publish.PostScheduled, ScheduledAt: time.Now(), TimeZone: "UTC"}
	err := st.InTx(ctx, func(tx *store.Store) error { return tx.CreatePost(ctx, p, ids, keys, publish.DeliveryScheduled) })
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.Deliveries(ctx, p.ID)
	if err != nil || len(ds) != n {
		t.Fatalf("%d deliveries, %v", len(ds), err)
	}
	return ds
}

// Many workers marking attempts and saving outcomes at once each get
// their own answer: the compare-and-set still refuses a second attempt
// with a stale count, and every outcome is stored.
func TestBatchedWritesAnswerEachCaller(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	ds := postTo(t, st, 200)
	var wg sync.WaitGroup
	won := make([]int, len(ds))
	for i, d := range ds {
		for range 2 { // two workers race for every delivery
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := st.BeginAttempt(ctx, d.ID, 0, time.Now(), "")
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					won[i]++
					now := time.Now()
					d.Status, d.PlatformPostID, d.PublishedAt = publish.DeliveryPublished, fmt.Sprint("p", d.ID), &now
					if err := st.SaveOutcome(ctx, d); err != nil {
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	for i, d := range ds {
		if won[i] != 1 {
			t.Fatalf("delivery %d: %d attempts won, want 1", d.ID, won[i])
		}
		got, err := st.DeliveryByID(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != publish.DeliveryPublished || got.PlatformPostID != fmt.Sprint("p", d.ID) || got.Attempts != 1 {
			t.Fatalf("delivery %d stored as %s %q after %d attempts", d.ID, got.Status, got.PlatformPostID, got.Attempts)
		}
	}
	// The analytics rollups counted each delivery published in a batch
	// once, as a rebuild from the raw rows does.
	kept := deliveryRollup(t, st)
	if !strings.Contains(kept, " 200\n") {
		t.Fatalf("rollup does not count 200 published deliveries:\n%s", kept)
	}
	if err := st.RebuildAnalyticsRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := deliveryRollup(t, st); rebuilt != kept {
		t.Fatalf("rollups kept by batched writes:\n%s\nrebuilt:\n%s", kept, rebuilt)
	}
}

// deliveryRollup lists the published-delivery counts per unit, day and
// platform.
func deliveryRollup(t *testing.T, st *store.Store) string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT unit_id, day, platform, published FROM delivery_rollup WHERE published <> 0 ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var unit, day, n int64
		var platform string
		if err := rows.Scan(&unit, &day, &platform, &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %d %s %d\n", unit, day, platform, n)
	}
	return b.String()
}

// A failing write in a batch fails alone: the batch is rolled back and
// the others are run again, each in a transaction of its own.
func TestBatchedWriteFailureIsItsOwn(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	ds := postTo(t, st, 50)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errc := make([]error, len(ds))
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc[i] = st.Batched(ctx, func(tx *store.Store) error {
				if _, err := tx.BeginAttempt(ctx, d.ID, 0, time.Now(), ""); err != nil {
					return err
				}
				if i%10 == 3 {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, d := range ds {
		got, err := st.DeliveryByID(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 3 {
			if !errors.Is(errc[i], boom) || got.Attempts != 0 {
				t.Fatalf("failing write %d: err %v, attempts %d; want boom and nothing stored", i, errc[i], got.Attempts)
			}
			continue
		}
		if errc[i] != nil || got.Attempts != 1 {
			t.Fatalf("write %d: err %v, attempts %d; want stored once", i, errc[i], got.Attempts)
		}
	}
}

// BenchmarkDeliveryWrites measures the two writes of a delivery (the
// attempt mark and the outcome) from 128 concurrent workers, as a post's
// fan-out makes them: group-committed, against one transaction each (the
// baseline, in the same run).
//
//	go test ./internal/store -run '^$' -bench DeliveryWrites -benchtime 5000x
func BenchmarkDeliveryWrites(b *testing.B) {
	b.Run("one-transaction-each", func(b *testing.B) { benchDeliveryWrites(b, false) })
	b.Run("group-committed", func(b *testing.B) { benchDeliveryWrites(b, true) })
}

func benchDeliveryWrites(b *testing.B, grouped bool) {
	ctx := context.Background()
	st := storetest.Open(b)
	ds := postTo(b, st, b.N)
	write := func(fn func(tx *store.Store) error) error {
		if grouped {
			return fn(st) // BeginAttempt and SaveOutcome group-commit
		}
		return st.InTx(ctx, fn) // inside a transaction they run alone
	}
	b.ResetTimer()
	sem := make(chan struct{}, 128)
	var wg sync.WaitGroup
	for _, d := range ds {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := write(func(tx *store.Store) error { _, err := tx.BeginAttempt(ctx, d.ID, 0, time.Now(), ""); return err })
			if err != nil {
				b.Error(err)
			}
			d.Status, d.PlatformPostID = publish.DeliveryPublished, "p"
			if err := write(func(tx *store.Store) error { return tx.SaveOutcome(ctx, d) }); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
