package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/connection"
)

var _ connection.Store = (*Store)(nil)

const connectionColumns = `channel_id, platform, base_url, external_id, account_handle, credentials, state, last_error,
	inbound_cursor, poll_failures, last_polled_at, connected_at, updated_at`

func scanConnection(row scanner) (connection.Connection, error) {
	var c connection.Connection
	var polled sql.NullInt64
	var connected, updated int64
	err := row.Scan(&c.ChannelID, &c.Platform, &c.BaseURL, &c.ExternalID, &c.Handle, &c.Sealed, &c.State, &c.LastError,
		&c.Cursor, &c.PollFailures, &polled, &connected, &updated)
	c.LastPolledAt, c.ConnectedAt, c.UpdatedAt = fromNullMS(polled), fromMS(connected), fromMS(updated)
	return c, err
}

// ConnectionByChannel returns a channel's connection, if it has one.
func (s *Store) ConnectionByChannel(ctx context.Context, channelID int64) (connection.Connection, bool, error) {
	c, err := scanConnection(s.r.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM channel_connections WHERE channel_id = $1`, channelID))
	if isNoRows(err) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("store: connection of channel %d: %w", channelID, err)
	}
	return c, true, nil
}

// SaveConnection creates or replaces a channel's connection. A reconnect
// keeps the inbound cursor, so nothing is fetched twice.
func (s *Store) SaveConnection(ctx context.Context, c *connection.Connection) error {
	now := s.now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO channel_connections (channel_id, platform, base_url, external_id, account_handle, credentials,
		state, last_error, inbound_cursor, poll_failures, connected_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, '', '', 0, $8, $8)
		ON CONFLICT (channel_id) DO UPDATE SET platform = excluded.platform, base_url = excluded.base_url,
			external_id = excluded.external_id, account_handle = excluded.account_handle, credentials = excluded.credentials,
			state = excluded.state, last_error = '', poll_failures = 0, connected_at = excluded.connected_at, updated_at = excluded.updated_at`,
		c.ChannelID, c.Platform, c.BaseURL, c.ExternalID, c.Handle, c.Sealed, c.State, ms(now))
	if err != nil {
		return fmt.Errorf("store: save connection of channel %d: %w", c.ChannelID, err)
	}
	c.ConnectedAt, c.UpdatedAt = fromMS(ms(now)), fromMS(ms(now))
	return nil
}

// UpdateConnectionCredentials stores refreshed credentials.
func (s *Store) UpdateConnectionCredentials(ctx context.Context, channelID int64, sealed string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE channel_connections SET credentials = $1, updated_at = $2 WHERE channel_id = $3`, sealed, ms(s.now()), channelID)
	if err != nil {
		return fmt.Errorf("store: update credentials of channel %d: %w", channelID, err)
	}
	return nil
}

// SetConnectionState records a connection's health.
func (s *Store) SetConnectionState(ctx context.Context, channelID int64, state connection.State, lastError string, failures int) error {
	_, err := s.w.ExecContext(ctx, `UPDATE channel_connections SET state = $1, last_error = $2, poll_failures = $3, updated_at = $4 WHERE channel_id = $5`,
		state, lastError, failures, ms(s.now()), channelID)
	if err != nil {
		return fmt.Errorf("store: set state of channel %d: %w", channelID, err)
	}
	return nil
}

// SaveInboundCursor records how far a channel's inbound items are stored.
func (s *Store) SaveInboundCursor(ctx context.Context, channelID int64, cursor string, polledAt time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE channel_connections SET inbound_cursor = $1, last_polled_at = $2, poll_failures = 0,
		last_error = '', updated_at = $2 WHERE channel_id = $3`, cursor, ms(polledAt), channelID)
	if err != nil {
		return fmt.Errorf("store: save cursor of channel %d: %w", channelID, err)
	}
	return nil
}

// DeleteConnection forgets a channel's connection and credentials.
func (s *Store) DeleteConnection(ctx context.Context, channelID int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM channel_connections WHERE channel_id = $1`, channelID); err != nil {
		return fmt.Errorf("store: delete connection of channel %d: %w", channelID, err)
	}
	return nil
}

func (s *Store) queryConnections(ctx context.Context, where string, args ...any) ([]connection.Connection, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+connectionColumns+` FROM channel_connections `+where+` ORDER BY channel_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list connections: %w", err)
	}
	list, err := scanAll(rows, scanConnection)
	if err != nil {
		return nil, fmt.Errorf("store: list connections: %w", err)
	}
	return list, nil
}

// Connections lists every connection.
func (s *Store) Connections(ctx context.Context) ([]connection.Connection, error) {
	return s.queryConnections(ctx, "")
}

// ConnectionsByAccount finds the channels connected to one platform account.
func (s *Store) ConnectionsByAccount(ctx context.Context, platform, externalID string) ([]connection.Connection, error) {
	return s.queryConnections(ctx, "WHERE platform = $1 AND external_id = $2", platform, externalID)
}

// PlatformApp returns the hub's registration with a platform (instance).
func (s *Store) PlatformApp(ctx context.Context, platform, instance string) (connection.AppRecord, bool, error) {
	a := connection.AppRecord{Platform: platform, Instance: instance}
	err := s.r.QueryRowContext(ctx, `SELECT client_id, sealed FROM platform_apps WHERE platform = $1 AND instance = $2`, platform, instance).
		Scan(&a.ClientID, &a.Sealed)
	if isNoRows(err) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("store: app of %s %s: %w", platform, instance, err)
	}
	return a, true, nil
}

// SavePlatformApp stores the hub's registration with a platform.
func (s *Store) SavePlatformApp(ctx context.Context, a connection.AppRecord) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO platform_apps (platform, instance, client_id, sealed, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (platform, instance) DO UPDATE SET client_id = excluded.client_id, sealed = excluded.sealed, updated_at = excluded.updated_at`,
		a.Platform, a.Instance, a.ClientID, a.Sealed, ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: save app of %s: %w", a.Platform, err)
	}
	return nil
}

// PlatformApps lists every registration (for key rotation).
func (s *Store) PlatformApps(ctx context.Context) ([]connection.AppRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT platform, instance, client_id, sealed FROM platform_apps ORDER BY platform, instance`)
	if err != nil {
		return nil, fmt.Errorf("store: list apps: %w", err)
	}
	defer rows.Close()
	var list []connection.AppRecord
	for rows.Next() {
		var a connection.AppRecord
		if err := rows.Scan(&a.Platform, &a.Instance, &a.ClientID, &a.Sealed); err != nil {
			return nil, fmt.Errorf("store: list apps: %w", err)
		}
		list = append(list, a)
	}
	return list, rows.Err()
}

// CreateOAuthState remembers a connect flow under way.
func (s *Store) CreateOAuthState(ctx context.Context, hash string, st connection.OAuthState) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_states (hash, channel_id, user_id, instance, verifier, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		hash, st.ChannelID, st.UserID, st.Instance, st.Verifier, ms(st.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create oauth state: %w", err)
	}
	return nil
}

// TakeOAuthState returns a live connect flow and deletes it (a state
// works once), sweeping expired ones.
func (s *Store) TakeOAuthState(ctx context.Context, hash string) (connection.OAuthState, bool, error) {
	var st connection.OAuthState
	found := false
	err := s.InTx(ctx, func(tx *Store) error {
		var expires int64
		err := tx.w.QueryRowContext(ctx, `SELECT channel_id, user_id, instance, verifier, expires_at FROM oauth_states WHERE hash = $1`, hash).
			Scan(&st.ChannelID, &st.UserID, &st.Instance, &st.Verifier, &expires)
		if err != nil && !isNoRows(err) {
			return err
		}
		now := s.now()
		found = err == nil && expires > ms(now)
		st.ExpiresAt = fromMS(expires)
		_, err = tx.w.ExecContext(ctx, `DELETE FROM oauth_states WHERE hash = $1 OR expires_at < $2`, hash, ms(now))
		return err
	})
	if err != nil {
		return st, false, fmt.Errorf("store: take oauth state: %w", err)
	}
	return st, found, nil
}

// UnitOwners returns the users who manage a unit: admins and managers
// granted on it or on an ancestor.
func (s *Store) UnitOwners(ctx context.Context, unitPath string) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT g.user_id FROM grants g JOIN units u ON u.id = g.unit_id
		WHERE g.role IN ('admin', 'manager') AND substr($1, 1, length(u.path)) = u.path ORDER BY g.user_id`, unitPath)
	if err != nil {
		return nil, fmt.Errorf("store: owners of unit: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AddNotice tells a user something.
func (s *Store) AddNotice(ctx context.Context, userID, channelID int64, text string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO notices (user_id, channel_id, text, created_at) VALUES ($1, $2, $3, $4)`, userID, channelID, text, ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: add notice: %w", err)
	}
	return nil
}

// UnreadNotices lists a user's unread notices, newest first.
func (s *Store) UnreadNotices(ctx context.Context, userID int64) ([]connection.Notice, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, COALESCE(channel_id, 0), text, created_at FROM notices WHERE user_id = $1 AND read_at IS NULL ORDER BY id DESC LIMIT 50`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: notices: %w", err)
	}
	defer rows.Close()
	var list []connection.Notice
	for rows.Next() {
		var n connection.Notice
		var at int64
		if err := rows.Scan(&n.ID, &n.ChannelID, &n.Text, &at); err != nil {
			return nil, err
		}
		n.CreatedAt = fromMS(at)
		list = append(list, n)
	}
	return list, rows.Err()
}

// MarkNoticesRead marks a user's notices read.
func (s *Store) MarkNoticesRead(ctx context.Context, userID int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE notices SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`, ms(s.now()), userID); err != nil {
		return fmt.Errorf("store: mark notices read: %w", err)
	}
	return nil
}

// CountMessages counts a channel's stored messages.
func (s *Store) CountMessages(ctx context.Context, channelID int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE channel_id = $1`, channelID).Scan(&n)
	return n, err
}

// ConnTx runs fn in one transaction, for connection.NewService.
func (s *Store) ConnTx(ctx context.Context, fn func(connection.Store) error) error {
	return s.InTx(ctx, func(tx *Store) error { return fn(tx) })
}
