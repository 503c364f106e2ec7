package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

// CorrectIntent sets a message's intent as an agent corrected it, with its
// queue when the queue was the old intent's default, and, for a message
// now read as purchase intent that has no lead yet, creates or updates its
// author's lead as ingest would have: all in one transaction.
func (s *Store) CorrectIntent(ctx context.Context, m inbox.Message, intent, queue string, by int64, at time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		_, err := tx.w.ExecContext(ctx, `UPDATE messages SET intent = $1, queue = $2, intent_by = $3, intent_corrected_at = $4 WHERE id = $5`,
			intent, queue, by, ms(at), m.ID)
		if err != nil {
			return fmt.Errorf("store: correct intent of message %d: %w", m.ID, err)
		}
		if intent != "purchase" || m.LeadID != 0 {
			return nil
		}
		if err := tx.r.QueryRowContext(ctx, `SELECT platform FROM channels WHERE id = $1`, m.ChannelID).Scan(&m.Platform); err != nil {
			return fmt.Errorf("store: correct intent of message %d: channel: %w", m.ID, err)
		}
		m.Intent, m.Queue = intent, queue
		return tx.upsertLeads(ctx, []inbox.Message{m}, at)
	})
}

// IntentCorrectionStamp counts the corrections and finds the latest.
func (s *Store) IntentCorrectionStamp(ctx context.Context) (int, time.Time, error) {
	var n int
	var latest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(intent_corrected_at) FROM messages WHERE intent_corrected_at IS NOT NULL`).Scan(&n, &latest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: intent corrections: %w", err)
	}
	var t time.Time
	if latest.Valid {
		t = fromMS(latest.Int64)
	}
	return n, t, nil
}

// RecentIntentCorrections lists the latest corrections in every unit,
// newest first.
func (s *Store) RecentIntentCorrections(ctx context.Context, limit int) ([]inbox.Correction, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, text, lang, intent, models, intent_corrected_at FROM messages
		WHERE intent_corrected_at IS NOT NULL ORDER BY intent_corrected_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent intent corrections: %w", err)
	}
	return scanAll(rows, scanCorrection)
}

// IntentCorrections lists the messages within scope (unit paths) whose
// intent an agent corrected since then, oldest correction first: labelled
// data in the classifier's format.
func (s *Store) IntentCorrections(ctx context.Context, scope []string, since time.Time, limit int) ([]inbox.Correction, error) {
	args := []any{ms(since), limit}
	where, args := scopeClause("u.path", scope, args)
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, m.text, m.lang, m.intent, m.models, m.intent_corrected_at
		FROM messages m JOIN units u ON u.id = m.unit_id
		WHERE m.intent_corrected_at IS NOT NULL AND m.intent_corrected_at >= $1 AND `+where+`
		ORDER BY m.intent_corrected_at, m.id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: intent corrections: %w", err)
	}
	return scanAll(rows, scanCorrection)
}

func scanCorrection(row scanner) (inbox.Correction, error) {
	var c inbox.Correction
	var models string
	var at int64
	err := row.Scan(&c.MessageID, &c.Text, &c.Lang, &c.Intent, &models, &at)
	c.Models, c.CorrectedAt = splitModels(models), fromMS(at)
	return c, err
}
