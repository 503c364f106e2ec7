package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// TagConversation adds and removes tags of a conversation.
func (s *Store) TagConversation(ctx context.Context, channelID int64, conversation string, add, remove []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		for _, t := range add {
			if _, err := tx.w.ExecContext(ctx, `INSERT INTO conversation_tags (channel_id, conversation, tag) VALUES ($1, $2, $3)
				ON CONFLICT (channel_id, conversation, tag) DO NOTHING`, channelID, conversation, t); err != nil {
				return fmt.Errorf("store: tag: %w", err)
			}
		}
		for _, t := range remove {
			if _, err := tx.w.ExecContext(ctx, `DELETE FROM conversation_tags WHERE channel_id = $1 AND conversation = $2 AND tag = $3`,
				channelID, conversation, t); err != nil {
				return fmt.Errorf("store: untag: %w", err)
			}
		}
		return nil
	})
}

// ConversationTags returns the tags of conversations.
func (s *Store) ConversationTags(ctx context.Context, refs []inbox.ConversationRef) (map[inbox.ConversationRef][]string, error) {
	out := map[inbox.ConversationRef][]string{}
	for start := 0; start < len(refs); start += 200 {
		part := refs[start:min(start+200, len(refs))]
		var conds []string
		var args []any
		for _, r := range part {
			args = append(args, r.ChannelID, r.Key)
			conds = append(conds, fmt.Sprintf("(channel_id = $%d AND conversation = $%d)", len(args)-1, len(args)))
		}
		rows, err := s.r.QueryContext(ctx, `SELECT channel_id, conversation, tag FROM conversation_tags WHERE `+strings.Join(conds, " OR ")+` ORDER BY tag`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: tags: %w", err)
		}
		for rows.Next() {
			var r inbox.ConversationRef
			var t string
			if err := rows.Scan(&r.ChannelID, &r.Key, &t); err != nil {
				rows.Close()
				return nil, err
			}
			out[r] = append(out[r], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const savedReplySelect = `SELECT r.id, r.unit_id, u.key, u.path, r.name, r.text, r.created_at FROM saved_replies r JOIN units u ON u.id = r.unit_id`

func scanSavedReply(row scanner) (inbox.SavedReply, error) {
	var r inbox.SavedReply
	var created int64
	err := row.Scan(&r.ID, &r.UnitID, &r.Unit, &r.UnitPath, &r.Name, &r.Text, &created)
	r.CreatedAt = fromMS(created)
	return r, err
}

// CreateSavedReply stores a saved reply; a unit's names are unique.
func (s *Store) CreateSavedReply(ctx context.Context, r *inbox.SavedReply) error {
	r.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	err := s.w.QueryRowContext(ctx, `INSERT INTO saved_replies (unit_id, name, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		r.UnitID, r.Name, r.Text, ms(r.CreatedAt)).Scan(&r.ID)
	if isUnique(err) {
		return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a saved reply named %q exists in this unit", r.Name)}
	}
	if err != nil {
		return fmt.Errorf("store: add saved reply: %w", err)
	}
	return nil
}

// UpdateSavedReply replaces a saved reply's unit, name and text.
func (s *Store) UpdateSavedReply(ctx context.Context, r inbox.SavedReply) error {
	_, err := s.w.ExecContext(ctx, `UPDATE saved_replies SET unit_id = $1, name = $2, text = $3 WHERE id = $4`, r.UnitID, r.Name, r.Text, r.ID)
	if isUnique(err) {
		return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a saved reply named %q exists in this unit", r.Name)}
	}
	if err != nil {
		return fmt.Errorf("store: update saved reply %d: %w", r.ID, err)
	}
	return nil
}

// DeleteSavedReply removes a saved reply.
func (s *Store) DeleteSavedReply(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM saved_replies WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete saved reply: %w", err)
	}
	return nil
}

// SavedReplyByID returns one saved reply (sql.ErrNoRows if none).
func (s *Store) SavedReplyByID(ctx context.Context, id int64) (inbox.SavedReply, error) {
	r, err := scanSavedReply(s.r.QueryRowContext(ctx, savedReplySelect+` WHERE r.id = $1`, id))
	if isNoRows(err) {
		return r, errNoRows
	}
	return r, err
}

// SavedReplies lists saved replies of the units in scope (nil: all), or
// of exactly the units with those paths; by unit depth, then name.
func (s *Store) SavedReplies(ctx context.Context, scope []string, paths []string) ([]inbox.SavedReply, error) {
	var where string
	var args []any
	switch {
	case paths != nil:
		var ph []string
		for _, p := range paths {
			args = append(args, p)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		where = " WHERE u.path IN (" + strings.Join(ph, ", ") + ")"
	case scope != nil:
		var c string
		c, args = scopeClause("u.path", scope, args)
		where = " WHERE " + c
	}
	rows, err := s.r.QueryContext(ctx, savedReplySelect+where+` ORDER BY u.depth DESC, r.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: saved replies: %w", err)
	}
	defer rows.Close()
	list := []inbox.SavedReply{}
	for rows.Next() {
		r, err := scanSavedReply(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}
