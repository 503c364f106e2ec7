package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// ---- routing rules ----

const routingRuleSelect = `SELECT r.id, r.unit_id, u.key, u.path, r.position, r.channel_id, r.lang, r.intent, r.keywords, r.queue, r.created_at
	FROM inbox_routing_rules r JOIN units u ON u.id = r.unit_id`

func scanRoutingRule(row scanner) (inbox.RoutingRule, error) {
	var r inbox.RoutingRule
	var channel sql.NullInt64
	var keywords string
	var created int64
	err := row.Scan(&r.ID, &r.UnitID, &r.Unit, &r.UnitPath, &r.Position, &channel, &r.Lang, &r.Intent, &keywords, &r.Queue, &created)
	r.Channel, r.CreatedAt = channel.Int64, fromMS(created)
	r.Keywords = []string{}
	if keywords != "" {
		r.Keywords = strings.Split(keywords, "\n")
	}
	return r, err
}

// RoutingRules lists every routing rule, by unit depth (deepest first),
// then position.
func (s *Store) RoutingRules(ctx context.Context) ([]inbox.RoutingRule, error) {
	rows, err := s.r.QueryContext(ctx, routingRuleSelect+` ORDER BY u.depth DESC, u.path, r.position, r.id`)
	if err != nil {
		return nil, fmt.Errorf("store: routing rules: %w", err)
	}
	defer rows.Close()
	out := []inbox.RoutingRule{}
	for rows.Next() {
		r, err := scanRoutingRule(rows)
		if err != nil {
			return nil, fmt.Errorf("store: routing rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RoutingRuleByID returns one rule (sql.ErrNoRows if none).
func (s *Store) RoutingRuleByID(ctx context.Context, id int64) (inbox.RoutingRule, error) {
	r, err := scanRoutingRule(s.r.QueryRowContext(ctx, routingRuleSelect+` WHERE r.id = $1`, id))
	if isNoRows(err) {
		return r, errNoRows
	}
	if err != nil {
		return r, fmt.Errorf("store: routing rule %d: %w", id, err)
	}
	return r, nil
}

// CreateRoutingRule stores a new rule.
func (s *Store) CreateRoutingRule(ctx context.Context, r *inbox.RoutingRule) error {
	r.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	err := s.w.QueryRowContext(ctx, `INSERT INTO inbox_routing_rules (unit_id, position, channel_id, lang, intent, keywords, queue, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		r.UnitID, r.Position, nullID(r.Channel), r.Lang, r.Intent, strings.Join(r.Keywords, "\n"), r.Queue, ms(r.CreatedAt)).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("store: add routing rule for queue %q: %w", r.Queue, err)
	}
	return nil
}

// UpdateRoutingRule replaces a rule's unit, position, conditions and queue.
func (s *Store) UpdateRoutingRule(ctx context.Context, r inbox.RoutingRule) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE inbox_routing_rules SET unit_id = $1, position = $2, channel_id = $3, lang = $4, intent = $5,
		keywords = $6, queue = $7 WHERE id = $8`,
		r.UnitID, r.Position, nullID(r.Channel), r.Lang, r.Intent, strings.Join(r.Keywords, "\n"), r.Queue, r.ID); err != nil {
		return fmt.Errorf("store: update routing rule %d: %w", r.ID, err)
	}
	return nil
}

// DeleteRoutingRule removes a rule.
func (s *Store) DeleteRoutingRule(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM inbox_routing_rules WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete routing rule %d: %w", id, err)
	}
	return nil
}

// ---- vehicle model catalogues ----

// VehicleCatalogues lists the brand units' edited catalogues.
func (s *Store) VehicleCatalogues(ctx context.Context) ([]inbox.StoredCatalogue, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, brand, version FROM vehicle_catalogues ORDER BY unit_id`)
	if err != nil {
		return nil, fmt.Errorf("store: vehicle catalogues: %w", err)
	}
	defer rows.Close()
	var out []inbox.StoredCatalogue
	for rows.Next() {
		var c inbox.StoredCatalogue
		var brand string
		if err := rows.Scan(&c.UnitID, &brand, &c.Version); err != nil {
			return nil, fmt.Errorf("store: vehicle catalogues: %w", err)
		}
		if err := json.Unmarshal([]byte(brand), &c.Brand); err != nil {
			return nil, fmt.Errorf("store: vehicle catalogue of unit %d: %w", c.UnitID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveVehicleCatalogue stores a brand unit's catalogue if its stored
// version is still version (0: not stored yet), and returns the new one.
func (s *Store) SaveVehicleCatalogue(ctx context.Context, unitID int64, b classify.Brand, version int64) (int64, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return 0, fmt.Errorf("store: encode vehicle catalogue: %w", err)
	}
	now := ms(s.now())
	var res sql.Result
	if version == 0 {
		res, err = s.w.ExecContext(ctx, `INSERT INTO vehicle_catalogues (unit_id, brand, version, updated_at) VALUES ($1, $2, 1, $3)
			ON CONFLICT (unit_id) DO NOTHING`, unitID, string(data), now)
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE vehicle_catalogues SET brand = $1, version = version + 1, updated_at = $2
			WHERE unit_id = $3 AND version = $4`, string(data), now, unitID, version)
	}
	if err != nil {
		return 0, fmt.Errorf("store: save vehicle catalogue of unit %d: %w", unitID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return 0, errs.E(errs.Conflict, "the catalogue changed since it was loaded: reload it and edit again")
	}
	return version + 1, nil
}

// ---- assignees ----

// Assignees lists the active users holding one of roles on the unit with
// this path or on a unit above it, by name.
func (s *Store) Assignees(ctx context.Context, unitPath string, roles []string) ([]inbox.Assignee, error) {
	if len(roles) == 0 {
		return []inbox.Assignee{}, nil
	}
	args := []any{unitPath}
	ph := make([]string, len(roles))
	for i, r := range roles {
		args = append(args, r)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT u.id, u.email, u.name FROM users u
		JOIN grants g ON g.user_id = u.id JOIN units un ON un.id = g.unit_id
		WHERE NOT u.disabled AND g.role IN (`+strings.Join(ph, ", ")+`) AND substr($1, 1, length(un.path)) = un.path
		ORDER BY u.name, u.email`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: assignees of %s: %w", unitPath, err)
	}
	defer rows.Close()
	out := []inbox.Assignee{}
	for rows.Next() {
		var a inbox.Assignee
		if err := rows.Scan(&a.ID, &a.Email, &a.Name); err != nil {
			return nil, fmt.Errorf("store: assignees of %s: %w", unitPath, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
