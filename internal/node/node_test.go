package node

import (
	"context"
	"testing"
	"time"
)

type seen map[string]time.Time

func (s seen) NodeHeartbeat(_ context.Context, id, _ string, _, now time.Time) error {
	s[id] = now
	return nil
}

func (s seen) NodeSeenAt(_ context.Context, id string) (time.Time, bool, error) {
	t, ok := s[id]
	return t, ok, nil
}

func (s seen) NodeLeave(_ context.Context, id string, _ time.Time) error {
	delete(s, id)
	return nil
}

func TestHold(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st := seen{"alive": now.Add(-5 * time.Second), "silent": now.Add(-DeadAfter - time.Second)}
	left := 2 * time.Minute
	cases := []struct {
		name string
		st   Store
		by   string
		want time.Duration
	}{
		{"no node recorded: the lease", st, "", left},
		{"no heartbeats known: the lease", nil, "alive", left},
		{"own attempt: the lease", st, "self", left},
		{"alive: look again within DeadAfter", st, "alive", DeadAfter},
		{"silent too long: now", st, "silent", 0},
		{"left or unknown: now", st, "left", 0},
	}
	for _, tc := range cases {
		got, err := Hold(context.Background(), tc.st, "self", tc.by, now, left)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	// A short lease left is not lengthened.
	if got, _ := Hold(context.Background(), st, "self", "alive", now, time.Second); got != time.Second {
		t.Errorf("short lease: %v", got)
	}
}

// A node that stops cleanly leaves: its attempts are free at once.
func TestRunLeavesOnStop(t *testing.T) {
	st := seen{}
	n := &Node{ID: "n1", Started: time.Now(), Store: st, Now: time.Now}
	if err := n.Join(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := st["n1"]; !ok {
		t.Fatal("join recorded no heartbeat")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	cancel()
	<-done
	if gone, _ := Gone(context.Background(), st, "other", "n1", time.Now()); !gone {
		t.Fatal("a node that left is not gone")
	}
}
