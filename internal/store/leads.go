package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
)

const leadColumns = `l.id, l.unit_id, COALESCE(u.key, ''), COALESCE(u.name, ''), l.person, l.platform, l.author_name, l.author_handle,
	COALESCE(l.channel_id, 0), l.state, l.outcome, l.score, l.confidence, l.interest, l.models, COALESCE(l.last_message_id, 0),
	l.last_text, l.last_seen_at, l.created_at, l.updated_at`

func scanLead(row scanner) (leads.Lead, error) {
	var l leads.Lead
	var models string
	var seen, created, updated int64
	err := row.Scan(&l.ID, &l.UnitID, &l.Unit, &l.UnitName, &l.Person, &l.Platform, &l.AuthorName, &l.AuthorHandle,
		&l.ChannelID, &l.State, &l.Outcome, &l.Score, &l.Confidence, &l.Interest, &models, &l.LastMessageID,
		&l.LastText, &seen, &created, &updated)
	l.Models = splitModels(models)
	l.LastSeenAt, l.CreatedAt, l.UpdatedAt = fromMS(seen), fromMS(created), fromMS(updated)
	return l, err
}

type leadKey struct {
	unit   int64
	person string
}

// upsertLeads creates or updates the lead of every new purchase-intent
// message (one per person per unit) and links the messages to it, in a
// few statements per batch. It runs inside IngestMessages' transaction.
func (s *Store) upsertLeads(ctx context.Context, stored []inbox.Message, now time.Time) error {
	byKey := map[leadKey][]int{}
	var order []leadKey
	for i, m := range stored {
		if m.Intent != "purchase" || m.UnitID == 0 {
			continue
		}
		k := leadKey{m.UnitID, leads.PersonKey(m.Platform, m)}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	if len(order) == 0 {
		return nil
	}
	// The leads these people already have, looked up by (unit, person) on
	// the unique index: a person alone has no index, and a scan of every
	// lead per batch grows with the table.
	existing := map[leadKey]leads.Lead{}
	const chunk = 500
	for start := 0; start < len(order); start += chunk {
		part := order[start:min(start+chunk, len(order))]
		args := make([]any, 0, 2*len(part))
		pairs := make([]string, len(part))
		for i, k := range part {
			args = append(args, k.unit, k.person)
			pairs[i] = "(CAST(" + s.ph(2*i+1) + " AS BIGINT), " + s.ph(2*i+2) + ")"
		}
		rows, err := s.w.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l LEFT JOIN units u ON u.id = l.unit_id
			WHERE (l.unit_id, l.person) IN (VALUES `+strings.Join(pairs, ",")+`)`, args...)
		if err != nil {
			return fmt.Errorf("store: leads of a batch: %w", err)
		}
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				rows.Close()
				return err
			}
			existing[leadKey{l.UnitID, l.Person}] = l
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	merged := make([]leads.Lead, len(order))
	for i, k := range order {
		l := existing[k]
		for _, j := range byKey[k] {
			l = leads.Merge(l, stored[j], k.person, now)
		}
		merged[i] = l
	}
	// One multi-row upsert per chunk; RETURNING gives new leads their ids.
	ids := map[leadKey]int64{}
	const cols = 17
	for start := 0; start < len(merged); start += chunk {
		part := merged[start:min(start+chunk, len(merged))]
		args := make([]any, 0, len(part)*cols)
		var b strings.Builder
		b.WriteString(`INSERT INTO leads (unit_id, person, platform, author_name, author_handle, channel_id, state, outcome,
			score, confidence, interest, models, last_message_id, last_text, last_seen_at, created_at, updated_at) VALUES `)
		for i, l := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := 0; j < cols; j++ {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(s.ph(i*cols + j + 1))
			}
			b.WriteByte(')')
			var ch, last any
			if l.ChannelID != 0 {
				ch = l.ChannelID
			}
			if l.LastMessageID != 0 {
				last = l.LastMessageID
			}
			args = append(args, l.UnitID, l.Person, l.Platform, l.AuthorName, l.AuthorHandle, ch, string(l.State), l.Outcome,
				l.Score, l.Confidence, l.Interest, strings.Join(l.Models, "|"), last, l.LastText, ms(l.LastSeenAt), ms(l.CreatedAt),
				ms(l.UpdatedAt))
		}
		b.WriteString(` ON CONFLICT (unit_id, person) DO UPDATE SET author_name = excluded.author_name,
			author_handle = excluded.author_handle, state = excluded.state, outcome = excluded.outcome, score = excluded.score,
			confidence = excluded.confidence, interest = excluded.interest, models = excluded.models,
			last_message_id = excluded.last_message_id, last_text = excluded.last_text, last_seen_at = excluded.last_seen_at,
			updated_at = excluded.updated_at RETURNING id, unit_id, person`)
		rows, err := s.w.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("store: upsert leads: %w", err)
		}
		for rows.Next() {
			var k leadKey
			var id int64
			if err := rows.Scan(&id, &k.unit, &k.person); err != nil {
				rows.Close()
				return err
			}
			ids[k] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: upsert leads: %w", err)
		}
	}
	// Link the messages to their leads: one UPDATE … CASE per chunk (the
	// ids are integers from the database, safe to inline).
	var cases, list []string
	flush := func() error {
		if len(list) == 0 {
			return nil
		}
		_, err := s.w.ExecContext(ctx, `UPDATE messages SET lead_id = CASE id `+strings.Join(cases, " ")+` END WHERE id IN (`+
			strings.Join(list, ",")+`)`)
		cases, list = cases[:0], list[:0]
		if err != nil {
			return fmt.Errorf("store: link messages to leads: %w", err)
		}
		return nil
	}
	for _, k := range order {
		id := ids[k]
		for _, j := range byKey[k] {
			stored[j].LeadID = id
			cases = append(cases, fmt.Sprintf("WHEN %d THEN %d", stored[j].ID, id))
			list = append(list, fmt.Sprint(stored[j].ID))
			if len(list) == chunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// ph is the n-th query parameter: positional on SQLite (which resolves
// $n by name, in quadratic time over a statement's parameters), $n on
// PostgreSQL.
func (s *Store) ph(n int) string {
	if s.engine == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// Leads lists leads in scope (nil: all), best score first, with the total.
func (s *Store) Leads(ctx context.Context, scope []string, f leads.Filter) ([]leads.Lead, int, error) {
	var conds []string
	var args []any
	if scope != nil {
		var c string
		c, args = scopeClause("path", scope, args)
		conds = append(conds, "l.unit_id IN (SELECT id FROM units WHERE "+c+")")
	}
	if f.UnitPath != "" {
		args = append(args, escapeLike(f.UnitPath)+"%")
		conds = append(conds, fmt.Sprintf("l.unit_id IN (SELECT id FROM units WHERE path LIKE $%d ESCAPE '\\')", len(args)))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		conds = append(conds, fmt.Sprintf("l.state = $%d", len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads l`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count leads: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit, f.Offset)
	rows, err := s.r.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l LEFT JOIN units u ON u.id = l.unit_id`+where+
		fmt.Sprintf(" ORDER BY l.score DESC, l.id DESC LIMIT $%d OFFSET $%d", len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: leads: %w", err)
	}
	defer rows.Close()
	list := []leads.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, l)
	}
	return list, total, rows.Err()
}

// LeadByID returns a lead and its unit's path.
func (s *Store) LeadByID(ctx context.Context, id int64) (leads.Lead, string, error) {
	var path string
	row := s.r.QueryRowContext(ctx, `SELECT COALESCE(u.path, ''), `+leadColumns+` FROM leads l LEFT JOIN units u ON u.id = l.unit_id WHERE l.id = $1`, id)
	var l leads.Lead
	var models string
	var seen, created, updated int64
	err := row.Scan(&path, &l.ID, &l.UnitID, &l.Unit, &l.UnitName, &l.Person, &l.Platform, &l.AuthorName, &l.AuthorHandle,
		&l.ChannelID, &l.State, &l.Outcome, &l.Score, &l.Confidence, &l.Interest, &models, &l.LastMessageID,
		&l.LastText, &seen, &created, &updated)
	if isNoRows(err) {
		return l, "", errNoRows
	}
	if err != nil {
		return l, "", fmt.Errorf("store: lead %d: %w", id, err)
	}
	l.Models = splitModels(models)
	l.LastSeenAt, l.CreatedAt, l.UpdatedAt = fromMS(seen), fromMS(created), fromMS(updated)
	return l, path, nil
}

// SetLeadState records a lead's state and outcome.
func (s *Store) SetLeadState(ctx context.Context, id int64, state leads.State, outcome string) error {
	// The first move out of "new" is the first contact; it is kept.
	_, err := s.w.ExecContext(ctx, `UPDATE leads SET state = $1, outcome = $2, updated_at = $3,
		contacted_at = CASE WHEN contacted_at IS NULL AND $1 <> 'new' THEN $3 ELSE contacted_at END WHERE id = $4`,
		string(state), outcome, ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("store: set lead state: %w", err)
	}
	return nil
}

// UnitPathByKey resolves a unit key to its path.
func (s *Store) UnitPathByKey(ctx context.Context, key string) (string, error) {
	var path string
	err := s.r.QueryRowContext(ctx, `SELECT path FROM units WHERE key = $1`, key).Scan(&path)
	if isNoRows(err) {
		return "", errNoRows
	}
	if err != nil {
		return "", fmt.Errorf("store: unit %q: %w", key, err)
	}
	return path, nil
}

// PendingLeadExports lists leads changed since their last delivery to the
// CRM, oldest change first, with their units' paths.
func (s *Store) PendingLeadExports(ctx context.Context, limit int) ([]leads.Lead, []string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT COALESCE(u.path, ''), `+leadColumns+` FROM leads l LEFT JOIN units u ON u.id = l.unit_id
		WHERE l.exported_at < l.updated_at ORDER BY l.updated_at, l.id LIMIT $1`, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("store: pending lead exports: %w", err)
	}
	defer rows.Close()
	var list []leads.Lead
	var paths []string
	for rows.Next() {
		var l leads.Lead
		var path, models string
		var seen, created, updated int64
		if err := rows.Scan(&path, &l.ID, &l.UnitID, &l.Unit, &l.UnitName, &l.Person, &l.Platform, &l.AuthorName, &l.AuthorHandle,
			&l.ChannelID, &l.State, &l.Outcome, &l.Score, &l.Confidence, &l.Interest, &models, &l.LastMessageID,
			&l.LastText, &seen, &created, &updated); err != nil {
			return nil, nil, err
		}
		l.Models = splitModels(models)
		l.LastSeenAt, l.CreatedAt, l.UpdatedAt = fromMS(seen), fromMS(created), fromMS(updated)
		list = append(list, l)
		paths = append(paths, path)
	}
	return list, paths, rows.Err()
}

// MarkLeadExported records that a lead's version (its updated_at) reached
// the CRM; a change made meanwhile stays pending.
func (s *Store) MarkLeadExported(ctx context.Context, id int64, version time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE leads SET exported_at = $1 WHERE id = $2 AND exported_at < $1`, ms(version), id)
	if err != nil {
		return fmt.Errorf("store: mark lead exported: %w", err)
	}
	return nil
}

// UnitKeysOnPath lists the keys of the units on a path, deepest first.
func (s *Store) UnitKeysOnPath(ctx context.Context, path string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key FROM units WHERE substr($1, 1, length(path)) = path ORDER BY length(path) DESC`, path)
	if err != nil {
		return nil, fmt.Errorf("store: units on path: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
