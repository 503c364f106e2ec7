package store

import (
	"context"
	"fmt"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

// SLASettings lists every unit's own SLA targets and business hours.
func (s *Store) SLASettings(ctx context.Context) ([]inbox.SLASettings, error) {
	byUnit := map[int64]*inbox.SLASettings{}
	var order []int64
	get := func(id int64) *inbox.SLASettings {
		st, ok := byUnit[id]
		if !ok {
			st = &inbox.SLASettings{UnitID: id, Targets: map[string]int{}}
			byUnit[id] = st
			order = append(order, id)
		}
		return st
	}
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, queue, minutes FROM inbox_sla_targets ORDER BY unit_id, queue`)
	if err != nil {
		return nil, fmt.Errorf("store: sla targets: %w", err)
	}
	for rows.Next() {
		var id int64
		var q string
		var m int
		if err := rows.Scan(&id, &q, &m); err != nil {
			rows.Close()
			return nil, err
		}
		get(id).Targets[q] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `SELECT unit_id, days, start_minute, end_minute, time_zone FROM inbox_business_hours ORDER BY unit_id`)
	if err != nil {
		return nil, fmt.Errorf("store: business hours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h inbox.BusinessHours
		var tz string
		if err := rows.Scan(&id, &h.Days, &h.Start, &h.End, &tz); err != nil {
			return nil, err
		}
		st := get(id)
		st.TimeZone = tz
		if h.Days != 0 { // days = 0: the row only sets the time zone
			st.Hours = &h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]inbox.SLASettings, 0, len(order))
	for _, id := range order {
		out = append(out, *byUnit[id])
	}
	return out, nil
}

// SetSLASettings replaces a unit's own SLA targets and business hours.
func (s *Store) SetSLASettings(ctx context.Context, st inbox.SLASettings) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.w.ExecContext(ctx, `DELETE FROM inbox_sla_targets WHERE unit_id = $1`, st.UnitID); err != nil {
			return fmt.Errorf("store: set sla: %w", err)
		}
		if _, err := tx.w.ExecContext(ctx, `DELETE FROM inbox_business_hours WHERE unit_id = $1`, st.UnitID); err != nil {
			return fmt.Errorf("store: set sla: %w", err)
		}
		for q, m := range st.Targets {
			if _, err := tx.w.ExecContext(ctx, `INSERT INTO inbox_sla_targets (unit_id, queue, minutes) VALUES ($1, $2, $3)`, st.UnitID, q, m); err != nil {
				return fmt.Errorf("store: set sla: %w", err)
			}
		}
		if st.Hours != nil || st.TimeZone != "" {
			var h inbox.BusinessHours
			if st.Hours != nil {
				h = *st.Hours
			}
			if _, err := tx.w.ExecContext(ctx, `INSERT INTO inbox_business_hours (unit_id, days, start_minute, end_minute, time_zone) VALUES ($1, $2, $3, $4, $5)`,
				st.UnitID, h.Days, h.Start, h.End, st.TimeZone); err != nil {
				return fmt.Errorf("store: set sla: %w", err)
			}
		}
		return nil
	})
}
