// Package node tells the processes sharing one database apart. Each
// serving process is a node with an id of its own and a heartbeat in the
// database. Work that must never be done twice (a post's delivery, a
// reply) is marked with the node that began it; another node may take it
// over only when that node is gone. Without heartbeats the only safe rule
// is a lease: wait until the attempt must have ended (minutes). With them,
// a node that stopped beating for DeadAfter is known to be gone, and its
// attempts are reconciled at once.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// HeartbeatEvery is how often a node records that it is alive; DeadAfter
// is the silence after which it is taken for gone. The gap allows for a
// busy database and a paused process.
const (
	HeartbeatEvery = 5 * time.Second
	DeadAfter      = 30 * time.Second
)

// Store is what nodes need of the database.
type Store interface {
	// NodeHeartbeat records that node id (started at started) is alive now.
	NodeHeartbeat(ctx context.Context, id, host string, started, now time.Time) error
	// NodeSeenAt is the node's latest heartbeat (false: no such node, or
	// it left).
	NodeSeenAt(ctx context.Context, id string) (time.Time, bool, error)
	// NodeLeave removes a node that stops cleanly, and nodes silent since
	// before forgetBefore.
	NodeLeave(ctx context.Context, id string, forgetBefore time.Time) error
}

// Node is this process.
type Node struct {
	ID      string
	Host    string
	Started time.Time
	Store   Store
	Log     *slog.Logger
	Now     func() time.Time
}

// New makes this process's node with a fresh id.
func New(st Store, log *slog.Logger) *Node {
	b := make([]byte, 8)
	rand.Read(b)
	host, _ := os.Hostname()
	return &Node{ID: hex.EncodeToString(b), Host: host, Started: time.Now(), Store: st, Log: log, Now: time.Now}
}

// Join records the first heartbeat; call it before any work is marked
// with the node's id.
func (n *Node) Join(ctx context.Context) error {
	if err := n.Store.NodeHeartbeat(ctx, n.ID, n.Host, n.Started, n.Now()); err != nil {
		return fmt.Errorf("node: join: %w", err)
	}
	return nil
}

// Run beats until ctx ends, then leaves (a clean stop: whatever the node
// marked and did not finish may be taken over at once).
func (n *Node) Run(ctx context.Context) {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			leave, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := n.Store.NodeLeave(leave, n.ID, n.Now().Add(-24*time.Hour)); err != nil && n.Log != nil {
				n.Log.Warn("node: leave", "err", err)
			}
			return
		case <-t.C:
			if err := n.Store.NodeHeartbeat(ctx, n.ID, n.Host, n.Started, n.Now()); err != nil && ctx.Err() == nil && n.Log != nil {
				n.Log.Warn("node: heartbeat", "err", err)
			}
		}
	}
}

// Hold says how long an attempt marked by node by, whose lease has left
// more to run, must still be left alone: 0 when by is gone; otherwise
// until the lease ends, or, when by beats, at most DeadAfter (by then its
// silence would show it gone).
func Hold(ctx context.Context, st Store, self, by string, now time.Time, leaseLeft time.Duration) (time.Duration, error) {
	gone, err := Gone(ctx, st, self, by, now)
	if err != nil || gone {
		return 0, err
	}
	if by == "" || by == self || st == nil {
		return leaseLeft, nil // nothing will tell sooner
	}
	return min(leaseLeft, DeadAfter), nil
}

// Gone reports whether the node that marked an attempt is known to have
// stopped: it left, or its heartbeat has been silent for DeadAfter. An
// attempt marked by no node (before nodes were recorded) or by self is
// never taken for orphaned here: only its lease can tell.
func Gone(ctx context.Context, st Store, self, by string, now time.Time) (bool, error) {
	if by == "" || by == self || st == nil {
		return false, nil
	}
	seen, ok, err := st.NodeSeenAt(ctx, by)
	if err != nil {
		return false, fmt.Errorf("node: look up %s: %w", by, err)
	}
	return !ok || now.Sub(seen) > DeadAfter, nil
}
