package store

import (
	"context"
	"fmt"
	"time"
)

// NodeHeartbeat records that node id is alive now.
func (s *Store) NodeHeartbeat(ctx context.Context, id, host string, started, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO nodes (id, host, started_at, seen_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`, id, host, ms(started), ms(now))
	if err != nil {
		return fmt.Errorf("store: heartbeat of node %s: %w", id, err)
	}
	return nil
}

// NodeSeenAt returns a node's latest heartbeat (false: unknown or left).
func (s *Store) NodeSeenAt(ctx context.Context, id string) (time.Time, bool, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT seen_at FROM nodes WHERE id = $1`, id).Scan(&at)
	if isNoRows(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: node %s: %w", id, err)
	}
	return fromMS(at), true, nil
}

// NodeLeave removes node id, and the nodes silent since before
// forgetBefore (gone long ago; their attempts are settled by then).
func (s *Store) NodeLeave(ctx context.Context, id string, forgetBefore time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM nodes WHERE id = $1 OR seen_at < $2`, id, ms(forgetBefore))
	if err != nil {
		return fmt.Errorf("store: node %s leaves: %w", id, err)
	}
	return nil
}
