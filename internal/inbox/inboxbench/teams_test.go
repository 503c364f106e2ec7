package inboxbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/store"
)

// TestTeamFilterBench times the message list filtered by team over a
// database a previous TestIngestBench left in VERNETZEN_BENCH_DIR, against
// the same list filtered by unit and status in the same run. It adds two
// teams of bmw-de: a sparse one (the conversations of every 1000th
// message of the subtree) and a dense one (every 5th, apart), the bench user a
// member of the sparse one.
//
//	VERNETZEN_BENCH_DIR=/tmp/vzbench VERNETZEN_BENCH_TEAMS=1 go test ./internal/inbox/inboxbench -run TeamFilterBench -v
func TestTeamFilterBench(t *testing.T) {
	dir := os.Getenv("VERNETZEN_BENCH_DIR")
	if dir == "" || os.Getenv("VERNETZEN_BENCH_TEAMS") == "" {
		t.Skip("set VERNETZEN_BENCH_DIR and VERNETZEN_BENCH_TEAMS=1")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "", filepath.Join(dir, "ingest"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := inbox.NewService(inbox.Config{Store: st})
	path := unitPath(ctx, svc, "bmw-de")
	var unitID int64
	if err := st.DB().QueryRowContext(ctx, `SELECT id FROM units WHERE key = 'bmw-de'`).Scan(&unitID); err != nil {
		t.Fatal(err)
	}
	user, _, err := st.UserByEmail(ctx, "bench-teams@example.com")
	if errs.Is(err, errs.NotFound) {
		user = access.User{Email: "bench-teams@example.com", Name: "bench"}
		err = st.CreateUser(ctx, &user, "x")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `DELETE FROM teams WHERE name LIKE 'bench-%'`); err != nil {
		t.Fatal(err)
	}
	team := func(name string, every, rem int, members []int64) int64 {
		tm := inbox.Team{UnitID: unitID, Name: name}
		for _, m := range members {
			tm.Members = append(tm.Members, inbox.Assignee{ID: m})
		}
		if err := st.CreateTeam(ctx, &tm); err != nil {
			t.Fatal(err)
		}
		rows, err := st.DB().QueryContext(ctx, `SELECT DISTINCT m.channel_id, m.conversation FROM messages m JOIN units u ON u.id = m.unit_id
			WHERE u.path LIKE $1 AND m.id % $2 = $3`, path+"%", every, rem)
		if err != nil {
			t.Fatal(err)
		}
		var refs []inbox.ConversationRef
		for rows.Next() {
			var r inbox.ConversationRef
			if err := rows.Scan(&r.ChannelID, &r.Key); err != nil {
				t.Fatal(err)
			}
			refs = append(refs, r)
		}
		rows.Close()
		err = st.InTx(ctx, func(tx *store.Store) error {
			for _, r := range refs {
				if err := tx.AssignConversationTeam(ctx, r.ChannelID, r.Key, tm.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("team %s: %d conversations", name, len(refs))
		return tm.ID
	}
	sparse := team("bench-sparse", 1000, 1, []int64{user.ID})
	dense := team("bench-dense", 5, 0, nil)
	if _, err := st.DB().ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}

	p := &access.Principal{User: user, Grants: []access.Grant{{UnitPath: path, Role: access.RoleAgent}}}
	cases := []struct {
		name string
		f    inbox.Filter
	}{
		{"baseline unit=bmw-de status=open", inbox.Filter{Unit: "bmw-de", Status: "open"}},
		{"baseline status=open", inbox.Filter{Status: "open"}},
		{"team=sparse", inbox.Filter{Team: sparse}},
		{"team=sparse status=open", inbox.Filter{Team: sparse, Status: "open"}},
		{"team=dense", inbox.Filter{Team: dense}},
		{"team=dense status=open", inbox.Filter{Team: dense, Status: "open"}},
		{"team=mine", inbox.Filter{TeamOf: user.ID}},
		{"team=mine status=open", inbox.Filter{TeamOf: user.ID, Status: "open"}},
	}
	const runs = 60
	for _, page := range []bool{true, false} {
		for _, c := range cases {
			f := c.f
			f.Limit = 50
			if page {
				f.CountLimit = 10000 // as the inbox page asks
			}
			var times []time.Duration
			var total int
			for i := 0; i < runs; i++ {
				start := time.Now()
				_, n, err := svc.List(ctx, p, f)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				times = append(times, time.Since(start))
				total = n
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			fmt.Fprintf(os.Stderr, "page=%-5v %-34s total %7d  p50 %6.1f ms  p95 %6.1f ms\n", page, c.name, total,
				ms(times[len(times)/2]), ms(times[len(times)*95/100]))
		}
	}
}
