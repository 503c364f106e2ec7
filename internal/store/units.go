package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

const unitColumns = `u.id, u.key, u.name, u.kind, COALESCE(u.parent_id, 0), COALESCE(p.key, ''), u.path, u.depth,
	u.country, u.languages, u.time_zone, u.created_at, u.updated_at,
	(SELECT COUNT(*) FROM channels c WHERE c.unit_id = u.id)`

const unitFrom = ` FROM units u LEFT JOIN units p ON p.id = u.parent_id`

type scanner interface{ Scan(dest ...any) error }

// scanAll reads every row of rows with scan and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

func scanUnit(row scanner) (org.Unit, error) {
	var u org.Unit
	var langs string
	var created, updated int64
	err := row.Scan(&u.ID, &u.Key, &u.Name, &u.Kind, &u.ParentID, &u.Parent, &u.Path, &u.Depth,
		&u.Country, &langs, &u.TimeZone, &created, &updated, &u.Channels)
	if err != nil {
		return u, err
	}
	if langs != "" {
		u.Languages = strings.Split(langs, ",")
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return u, nil
}

// Units lists the units under the given path prefixes (nil: all units),
// ordered by path so that a parent comes before its children.
func (s *Store) Units(ctx context.Context, scope []string) ([]org.Unit, error) {
	q := `SELECT ` + unitColumns + unitFrom
	var args []any
	if scope != nil {
		var where string
		where, args = scopeClause("u.path", scope, args)
		q += " WHERE " + where
	}
	q += " ORDER BY u.depth, u.name"
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list units: %w", err)
	}
	list, err := scanAll(rows, scanUnit)
	if err != nil {
		return nil, fmt.Errorf("store: list units: %w", err)
	}
	return list, nil
}

// UnitByKey returns the unit with the given key.
func (s *Store) UnitByKey(ctx context.Context, key string) (org.Unit, error) {
	u, err := scanUnit(s.r.QueryRowContext(ctx, `SELECT `+unitColumns+unitFrom+` WHERE u.key = $1`, key))
	if isNoRows(err) {
		return u, errs.E(errs.NotFound, "unit %q not found", key)
	}
	if err != nil {
		return u, fmt.Errorf("store: get unit %q: %w", key, err)
	}
	return u, nil
}

// UnitByID returns the unit with the given id.
func (s *Store) UnitByID(ctx context.Context, id int64) (org.Unit, error) {
	u, err := scanUnit(s.r.QueryRowContext(ctx, `SELECT `+unitColumns+unitFrom+` WHERE u.id = $1`, id))
	if isNoRows(err) {
		return u, errs.E(errs.NotFound, "unit %d not found", id)
	}
	if err != nil {
		return u, fmt.Errorf("store: get unit %d: %w", id, err)
	}
	return u, nil
}

// CreateUnit inserts u under parent (nil: a root) and fills in its id,
// path, depth and times.
func (s *Store) CreateUnit(ctx context.Context, u *org.Unit, parent *org.Unit) error {
	return s.InTx(ctx, func(tx *Store) error {
		now := s.now()
		var parentID any
		prefix, depth := "/", 0
		if parent != nil {
			parentID, prefix, depth = parent.ID, parent.Path, parent.Depth+1
			u.Parent = parent.Key
		}
		// The path needs the id, which the insert makes: insert with a
		// placeholder path that is unique (the key), then set it.
		err := tx.w.QueryRowContext(ctx, `INSERT INTO units (key, name, kind, parent_id, path, depth, country, languages, time_zone, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
			u.Key, u.Name, u.Kind, parentID, "tmp:"+u.Key, depth, u.Country, strings.Join(u.Languages, ","), u.TimeZone, ms(now)).Scan(&u.ID)
		if isUnique(err) {
			return errs.E(errs.Conflict, "unit key %q is taken", u.Key)
		}
		if err != nil {
			return fmt.Errorf("store: create unit %q: %w", u.Key, err)
		}
		u.Path = prefix + strconv.FormatInt(u.ID, 10) + "/"
		u.Depth, u.ParentID = depth, 0
		if parent != nil {
			u.ParentID = parent.ID
		}
		u.CreatedAt, u.UpdatedAt = fromMS(ms(now)), fromMS(ms(now))
		if _, err := tx.w.ExecContext(ctx, `UPDATE units SET path = $1 WHERE id = $2`, u.Path, u.ID); err != nil {
			return fmt.Errorf("store: create unit %q: %w", u.Key, err)
		}
		return nil
	})
}

// UpdateUnit saves a unit's own fields (not its place in the tree).
func (s *Store) UpdateUnit(ctx context.Context, u *org.Unit) error {
	now := s.now()
	_, err := s.w.ExecContext(ctx, `UPDATE units SET name = $1, kind = $2, country = $3, languages = $4, time_zone = $5, updated_at = $6 WHERE id = $7`,
		u.Name, u.Kind, u.Country, strings.Join(u.Languages, ","), u.TimeZone, ms(now), u.ID)
	if err != nil {
		return fmt.Errorf("store: update unit %q: %w", u.Key, err)
	}
	u.UpdatedAt = fromMS(ms(now))
	return nil
}

// MoveUnit puts u and its subtree under parent, rewriting the paths and
// depths of the whole subtree in one statement, and moves the subtree's
// analytics rollups from its old ancestors to its new ones.
func (s *Store) MoveUnit(ctx context.Context, u *org.Unit, parent *org.Unit) error {
	return s.InTx(ctx, func(tx *Store) error {
		var parentID any
		prefix, depth := "/", 0
		if parent != nil {
			parentID, prefix, depth = parent.ID, parent.Path, parent.Depth+1
		}
		newPath := prefix + strconv.FormatInt(u.ID, 10) + "/"
		if _, err := tx.w.ExecContext(ctx, `UPDATE units SET parent_id = $1, updated_at = $2 WHERE id = $3`, parentID, ms(s.now()), u.ID); err != nil {
			return fmt.Errorf("store: move unit %q: %w", u.Key, err)
		}
		_, err := tx.w.ExecContext(ctx, `UPDATE units SET path = $1 || substr(path, $2), depth = depth + $3 WHERE path LIKE $4 ESCAPE '\'`,
			newPath, len(u.Path)+1, depth-u.Depth, escapeLike(u.Path)+"%")
		if err != nil {
			return fmt.Errorf("store: move unit %q: %w", u.Key, err)
		}
		if err := tx.moveSubtreeRollups(ctx, u.ID, u.Path, newPath); err != nil {
			return err
		}
		u.Path, u.Depth, u.ParentID = newPath, depth, 0
		u.Parent = ""
		if parent != nil {
			u.ParentID, u.Parent = parent.ID, parent.Key
		}
		return nil
	})
}

// DeleteUnit deletes a unit that has no children and no channels.
func (s *Store) DeleteUnit(ctx context.Context, u org.Unit) error {
	return s.InTx(ctx, func(tx *Store) error {
		var children, channels int
		if err := tx.w.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM units WHERE parent_id = $1), (SELECT COUNT(*) FROM channels WHERE unit_id = $1)`, u.ID).Scan(&children, &channels); err != nil {
			return fmt.Errorf("store: delete unit %q: %w", u.Key, err)
		}
		if children > 0 || channels > 0 {
			return errs.E(errs.Conflict, "unit %q still has %d child units and %d channels; move or delete them first", u.Key, children, channels)
		}
		if _, err := tx.w.ExecContext(ctx, `DELETE FROM units WHERE id = $1`, u.ID); err != nil {
			return fmt.Errorf("store: delete unit %q: %w", u.Key, err)
		}
		return nil
	})
}

// SyncPlatforms makes the platforms table hold every platform the code
// knows; an admin's status changes are kept.
func (s *Store) SyncPlatforms(ctx context.Context, list []*org.Platform) error {
	return s.InTx(ctx, func(tx *Store) error {
		for _, p := range list {
			_, err := tx.w.ExecContext(ctx, `INSERT INTO platforms (key, name, status) VALUES ($1, $2, $3)
				ON CONFLICT (key) DO UPDATE SET name = excluded.name`, p.Key, p.Name, p.Status)
			if err != nil {
				return fmt.Errorf("store: sync platform %q: %w", p.Key, err)
			}
		}
		return nil
	})
}

// PlatformStatuses returns each platform's stored status by key.
func (s *Store) PlatformStatuses(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, status FROM platforms`)
	if err != nil {
		return nil, fmt.Errorf("store: list platforms: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, st string
		if err := rows.Scan(&k, &st); err != nil {
			return nil, fmt.Errorf("store: list platforms: %w", err)
		}
		m[k] = st
	}
	return m, rows.Err()
}
