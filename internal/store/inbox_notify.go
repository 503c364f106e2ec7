package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

// notifyIDsPerPayload bounds the ids of one NOTIFY: PostgreSQL refuses
// payloads of 8000 bytes or more, and an id is at most 20 digits and a
// comma.
const notifyIDsPerPayload = 350

// ErrNoNotify says the engine carries no notifications between nodes
// (SQLite: there is only one node).
var ErrNoNotify = errors.New("store: notifications between nodes need PostgreSQL")

var notifyChannels sync.Map // *Store pool → channel name

// inboxChannel names the notification channel of this database's inbox.
// NOTIFY is database-wide while a hub lives in one schema, so the name
// carries the schema: two hubs (or two tests) sharing a database do not
// hear each other.
func (s *Store) inboxChannel(ctx context.Context) (string, error) {
	if v, ok := notifyChannels.Load(s.wdb); ok {
		return v.(string), nil
	}
	var schema string
	if err := s.wdb.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", fmt.Errorf("store: current schema: %w", err)
	}
	name := "vz_inbox." + schema
	if len(name) > 63 { // longer channel names are an error for pg_notify
		name = name[:63]
	}
	notifyChannels.Store(s.wdb, name)
	return name, nil
}

// NotifyMessages tells every node sharing this PostgreSQL database,
// this one included, that messages were stored (their ids; the listeners
// read the rest). Call it after the storing transaction committed.
func (s *Store) NotifyMessages(ctx context.Context, ids []int64) error {
	if s.engine != Postgres {
		return ErrNoNotify
	}
	if len(ids) == 0 {
		return nil
	}
	channel, err := s.inboxChannel(ctx)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += notifyIDsPerPayload {
		part := ids[start:min(start+notifyIDsPerPayload, len(ids))]
		b := make([]byte, 0, len(part)*8)
		for i, id := range part {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		if _, err := s.wdb.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, string(b)); err != nil {
			return fmt.Errorf("store: notify %d new messages: %w", len(part), err)
		}
	}
	return nil
}

// settingsPayload is the notification that the inbox's settings changed.
const settingsPayload = "settings"

// NotifySettings tells every node sharing this PostgreSQL database that
// the inbox's settings (SLAs, routing rules, catalogues) changed.
func (s *Store) NotifySettings(ctx context.Context) error {
	if s.engine != Postgres {
		return ErrNoNotify
	}
	channel, err := s.inboxChannel(ctx)
	if err != nil {
		return err
	}
	if _, err := s.wdb.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, settingsPayload); err != nil {
		return fmt.Errorf("store: notify changed inbox settings: %w", err)
	}
	return nil
}

// ListenMessages listens for NotifyMessages and NotifySettings on a
// connection of its own and calls onMessages with each notification's
// ids, or onSettings, in the order they were sent; ready runs once the
// LISTEN is in place. It returns when ctx ends (nil) or the connection
// fails (the error: the caller listens again).
func (s *Store) ListenMessages(ctx context.Context, ready func(), onMessages func(ids []int64), onSettings func()) error {
	if s.engine != Postgres {
		return ErrNoNotify
	}
	channel, err := s.inboxChannel(ctx)
	if err != nil {
		return err
	}
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: listen: unexpected driver connection %T", driverConn)
		}
		pc := sc.Conn()
		// The connection never goes back to the pool still listening:
		// closed here, the pool drops it and opens a fresh one.
		defer pc.Close(context.WithoutCancel(ctx))
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return fmt.Errorf("store: listen: %w", err)
		}
		ready()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("store: wait for notification: %w", err)
			}
			if n.Payload == settingsPayload {
				onSettings()
				continue
			}
			ids := make([]int64, 0, strings.Count(n.Payload, ",")+1)
			for _, f := range strings.Split(n.Payload, ",") {
				if id, err := strconv.ParseInt(f, 10, 64); err == nil && id > 0 {
					ids = append(ids, id)
				}
			}
			if len(ids) > 0 {
				onMessages(ids)
			}
		}
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// MessageEvents reads what open inbox pages are told about messages:
// id, routed unit's path, intent and channel, by id.
func (s *Store) MessageEvents(ctx context.Context, ids []int64) ([]inbox.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	ph := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, COALESCE(u.path, ''), m.intent, m.channel_id FROM messages m
		LEFT JOIN units u ON u.id = m.unit_id WHERE m.id IN (`+strings.Join(ph, ", ")+`) ORDER BY m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: events of %d messages: %w", len(ids), err)
	}
	defer rows.Close()
	out := make([]inbox.Event, 0, len(ids))
	for rows.Next() {
		var ev inbox.Event
		if err := rows.Scan(&ev.ID, &ev.UnitPath, &ev.Intent, &ev.Channel); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
