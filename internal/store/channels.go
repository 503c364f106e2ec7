package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

const channelColumns = `c.id, c.unit_id, u.key, u.name, u.path, c.platform, c.handle, c.account_key, c.url, c.given_url,
	c.name, c.status, c.notes, c.followers, c.created_at, c.updated_at`

const channelFrom = ` FROM channels c JOIN units u ON u.id = c.unit_id`

func scanChannel(row scanner) (org.Channel, error) {
	var c org.Channel
	var followers sql.NullInt64
	var created, updated int64
	err := row.Scan(&c.ID, &c.UnitID, &c.Unit, &c.UnitName, &c.UnitPath, &c.Platform, &c.Handle, &c.AccountKey, &c.URL, &c.GivenURL,
		&c.Name, &c.Status, &c.Notes, &followers, &created, &updated)
	if err != nil {
		return c, err
	}
	if followers.Valid {
		c.Followers = &followers.Int64
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// Channels lists the channels within scope (unit path prefixes; nil: all)
// that pass the filter, with the total count before paging.
func (s *Store) Channels(ctx context.Context, scope []string, f org.ChannelFilter, unitPath string) ([]org.Channel, int, error) {
	var where []string
	var args []any
	if scope != nil {
		var clause string
		clause, args = scopeClause("u.path", scope, args)
		where = append(where, clause)
	}
	if unitPath != "" {
		args = append(args, escapeLike(unitPath)+"%")
		where = append(where, fmt.Sprintf("u.path LIKE $%d ESCAPE '\\'", len(args)))
	}
	if f.Platform != "" {
		args = append(args, f.Platform)
		where = append(where, fmt.Sprintf("c.platform = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("c.status = $%d", len(args)))
	}
	if f.Text != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(f.Text))+"%")
		n := len(args)
		where = append(where, fmt.Sprintf("(LOWER(c.name) LIKE $%[1]d ESCAPE '\\' OR LOWER(c.handle) LIKE $%[1]d ESCAPE '\\' OR LOWER(c.url) LIKE $%[1]d ESCAPE '\\' OR LOWER(c.notes) LIKE $%[1]d ESCAPE '\\' OR LOWER(u.name) LIKE $%[1]d ESCAPE '\\')", n))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*)`+channelFrom+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count channels: %w", err)
	}
	q := `SELECT ` + channelColumns + channelFrom + cond + ` ORDER BY u.path, c.platform, c.name, c.id`
	if f.Limit > 0 {
		args = append(args, f.Limit, f.Offset)
		q += fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)-1, len(args))
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list channels: %w", err)
	}
	defer rows.Close()
	var list []org.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list channels: %w", err)
		}
		list = append(list, c)
	}
	return list, total, rows.Err()
}

// ChannelByID returns one channel.
func (s *Store) ChannelByID(ctx context.Context, id int64) (org.Channel, error) {
	c, err := scanChannel(s.r.QueryRowContext(ctx, `SELECT `+channelColumns+channelFrom+` WHERE c.id = $1`, id))
	if isNoRows(err) {
		return c, errs.E(errs.NotFound, "channel %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("store: get channel %d: %w", id, err)
	}
	return c, nil
}

// ChannelByAccount returns the channel of one platform account, if any.
func (s *Store) ChannelByAccount(ctx context.Context, platform, accountKey string) (org.Channel, bool, error) {
	c, err := scanChannel(s.r.QueryRowContext(ctx, `SELECT `+channelColumns+channelFrom+` WHERE c.platform = $1 AND c.account_key = $2`, platform, accountKey))
	if isNoRows(err) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("store: find channel %s/%s: %w", platform, accountKey, err)
	}
	return c, true, nil
}

// CreateChannel inserts c and fills in its id and times.
func (s *Store) CreateChannel(ctx context.Context, c *org.Channel) error {
	now := s.now()
	err := s.w.QueryRowContext(ctx, `INSERT INTO channels (unit_id, platform, handle, account_key, url, given_url, name, status, notes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		c.UnitID, c.Platform, c.Handle, c.AccountKey, c.URL, c.GivenURL, c.Name, c.Status, c.Notes, ms(now)).Scan(&c.ID)
	if isUnique(err) {
		return errs.E(errs.Conflict, "a %s channel for account %q already exists", c.Platform, c.AccountKey)
	}
	if err != nil {
		return fmt.Errorf("store: create channel %s/%s: %w", c.Platform, c.AccountKey, err)
	}
	c.CreatedAt, c.UpdatedAt = fromMS(ms(now)), fromMS(ms(now))
	return nil
}

// UpdateChannel saves every field of c but its id and creation time. A
// channel that changes unit or platform takes its audience history and
// deliveries with it in the analytics rollups.
func (s *Store) UpdateChannel(ctx context.Context, c *org.Channel) error {
	return s.InTx(ctx, func(tx *Store) error {
		from, err := tx.channelPlace(ctx, c.ID)
		if err != nil {
			return err
		}
		if from.unitID == c.UnitID && from.platform == c.Platform {
			return tx.updateChannel(ctx, c)
		}
		err = tx.trackDeliveries(ctx, "d.channel_id = $1", []any{c.ID}, func(tx *Store) error { return tx.updateChannel(ctx, c) })
		if err != nil {
			return err
		}
		to, err := tx.channelPlace(ctx, c.ID)
		if err != nil {
			return err
		}
		return tx.moveAudience(ctx, c.ID, from, &to)
	})
}

func (s *Store) updateChannel(ctx context.Context, c *org.Channel) error {
	now := s.now()
	_, err := s.w.ExecContext(ctx, `UPDATE channels SET unit_id = $1, platform = $2, handle = $3, account_key = $4, url = $5, given_url = $6,
		name = $7, status = $8, notes = $9, updated_at = $10 WHERE id = $11`,
		c.UnitID, c.Platform, c.Handle, c.AccountKey, c.URL, c.GivenURL, c.Name, c.Status, c.Notes, ms(now), c.ID)
	if isUnique(err) {
		return errs.E(errs.Conflict, "a %s channel for account %q already exists", c.Platform, c.AccountKey)
	}
	if err != nil {
		return fmt.Errorf("store: update channel %d: %w", c.ID, err)
	}
	c.UpdatedAt = fromMS(ms(now))
	return nil
}

// DeleteChannel deletes a channel and its audience history, and takes
// them and its deliveries out of the analytics rollups.
func (s *Store) DeleteChannel(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		from, err := tx.channelPlace(ctx, id)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.moveAudience(ctx, id, from, nil); err != nil {
			return err
		}
		return tx.trackDeliveries(ctx, "d.channel_id = $1", []any{id}, func(tx *Store) error {
			if _, err := tx.w.ExecContext(ctx, `DELETE FROM channels WHERE id = $1`, id); err != nil {
				return fmt.Errorf("store: delete channel %d: %w", id, err)
			}
			return nil
		})
	})
}

// AddAudience records follower counts (a later value for the same day
// replaces the earlier one), keeps the channel's latest count current and
// brings the audience rollup up to date: the days from the earliest point
// to carryDays after the latest are carried forward anew.
func (s *Store) AddAudience(ctx context.Context, channelID int64, points []org.AudiencePoint) error {
	if len(points) == 0 {
		return nil
	}
	first, last := points[0].Day, points[0].Day
	for _, p := range points {
		first, last = min(first, p.Day), max(last, p.Day)
	}
	// The days whose followers or growth the points can change: growth
	// compares a day with the day before, so one more on either side.
	from, err := addDays(first, -1)
	if err != nil {
		return err
	}
	until, err := addDays(last, carryDays+1)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Store) error {
		place, err := tx.channelPlace(ctx, channelID)
		if err != nil {
			return err
		}
		before, err := tx.carriedAudience(ctx, tx.w, channelID, from, until)
		if err != nil {
			return err
		}
		for _, p := range points {
			_, err := tx.w.ExecContext(ctx, `INSERT INTO channel_audience (channel_id, day, followers) VALUES ($1, $2, $3)
				ON CONFLICT (channel_id, day) DO UPDATE SET followers = excluded.followers`, channelID, p.Day, p.Followers)
			if err != nil {
				return fmt.Errorf("store: add audience of channel %d: %w", channelID, err)
			}
		}
		_, err = tx.w.ExecContext(ctx, `UPDATE channels SET followers =
			(SELECT followers FROM channel_audience WHERE channel_id = $1 ORDER BY day DESC LIMIT 1) WHERE id = $1`, channelID)
		if err != nil {
			return fmt.Errorf("store: add audience of channel %d: %w", channelID, err)
		}
		after, err := tx.carriedAudience(ctx, tx.w, channelID, from, until)
		if err != nil {
			return err
		}
		d := audienceDelta{}
		if err := d.add(place, before, -1); err != nil {
			return err
		}
		if err := d.add(place, after, 1); err != nil {
			return err
		}
		if err := tx.applyAudience(ctx, d); err != nil {
			return err
		}
		return tx.saveAudienceRuns(ctx, channelID)
	})
}

// Audience returns a channel's follower history, oldest first.
func (s *Store) Audience(ctx context.Context, channelID int64) ([]org.AudiencePoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT day, followers FROM channel_audience WHERE channel_id = $1 ORDER BY day`, channelID)
	if err != nil {
		return nil, fmt.Errorf("store: audience of channel %d: %w", channelID, err)
	}
	defer rows.Close()
	var list []org.AudiencePoint
	for rows.Next() {
		var p org.AudiencePoint
		if err := rows.Scan(&p.Day, &p.Followers); err != nil {
			return nil, fmt.Errorf("store: audience of channel %d: %w", channelID, err)
		}
		list = append(list, p)
	}
	return list, rows.Err()
}
