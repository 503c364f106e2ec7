package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

const replySelect = `SELECT r.id, r.message_id, r.channel_id, r.conversation, COALESCE(r.user_id, 0), COALESCE(u.email, ''), r.text, r.idem_key,
	r.status, r.attempts, r.failures, r.platform_post_id, r.url, r.error, r.error_kind,
	r.first_attempt_at, r.last_attempt_at, r.not_before, r.published_at, r.created_at, r.attempt_node
	FROM message_replies r LEFT JOIN users u ON u.id = r.user_id`

func scanReply(row scanner) (inbox.Reply, error) {
	var r inbox.Reply
	var first, last, notBefore, published sql.NullInt64
	var created int64
	err := row.Scan(&r.ID, &r.MessageID, &r.ChannelID, &r.Conversation, &r.UserID, &r.Author, &r.Text, &r.Key,
		&r.Status, &r.Attempts, &r.Failures, &r.PlatformPostID, &r.URL, &r.Error, &r.ErrorKind,
		&first, &last, &notBefore, &published, &created, &r.AttemptNode)
	r.FirstAttemptAt, r.LastAttemptAt, r.NotBefore, r.PublishedAt = fromNullMS(first), fromNullMS(last), fromNullMS(notBefore), fromNullMS(published)
	r.CreatedAt = fromMS(created)
	return r, err
}

// CreateReply stores a new reply, marks its conversation's first response
// if it has none, and runs enqueue, all in one transaction.
func (s *Store) CreateReply(ctx context.Context, r *inbox.Reply, enqueue func(tx *sql.Tx) error) error {
	return s.InTx(ctx, func(tx *Store) error {
		now := s.now().UTC().Truncate(time.Millisecond)
		r.CreatedAt = now
		if r.Status == "" {
			r.Status = inbox.ReplyScheduled
		}
		err := tx.w.QueryRowContext(ctx, `INSERT INTO message_replies (message_id, channel_id, conversation, user_id, text, idem_key, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			r.MessageID, r.ChannelID, r.Conversation, nullID(r.UserID), r.Text, r.Key, r.Status, ms(now)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("store: add reply: %w", err)
		}
		if _, err := tx.w.ExecContext(ctx, `UPDATE messages SET first_response_at = $1
			WHERE channel_id = $2 AND conversation = $3 AND first_response_at IS NULL`, ms(now), r.ChannelID, r.Conversation); err != nil {
			return fmt.Errorf("store: first response: %w", err)
		}
		return enqueue(tx.Tx())
	})
}

// ReplyByID returns one reply (sql.ErrNoRows if there is none).
func (s *Store) ReplyByID(ctx context.Context, id int64) (inbox.Reply, error) {
	r, err := scanReply(s.w.QueryRowContext(ctx, replySelect+` WHERE r.id = $1`, id))
	if isNoRows(err) {
		return r, errNoRows
	}
	if err != nil {
		return r, fmt.Errorf("store: reply %d: %w", id, err)
	}
	return r, nil
}

func (s *Store) replies(ctx context.Context, where string, args ...any) ([]inbox.Reply, error) {
	rows, err := s.r.QueryContext(ctx, replySelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: replies: %w", err)
	}
	defer rows.Close()
	list := []inbox.Reply{}
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// Replies lists a conversation's replies, oldest first.
func (s *Store) Replies(ctx context.Context, channelID int64, conversation string) ([]inbox.Reply, error) {
	return s.replies(ctx, ` WHERE r.channel_id = $1 AND r.conversation = $2 ORDER BY r.id`, channelID, conversation)
}

// OpenReplies lists the replies not yet published, failed or unknown.
func (s *Store) OpenReplies(ctx context.Context) ([]inbox.Reply, error) {
	return s.replies(ctx, ` WHERE r.status IN ('scheduled', 'publishing') ORDER BY r.id`)
}

// BeginReplyAttempt marks a reply publishing by node, if no other attempt began
// since it was read (attempts is the count then).
func (s *Store) BeginReplyAttempt(ctx context.Context, id int64, attempts int, at time.Time, node string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE message_replies SET status = 'publishing', attempts = attempts + 1,
		first_attempt_at = COALESCE(first_attempt_at, $1), last_attempt_at = $1, updated_at = $1, attempt_node = $4
		WHERE id = $2 AND attempts = $3 AND status IN ('scheduled', 'publishing', 'unknown')`, ms(at), id, attempts, node)
	if err != nil {
		return false, fmt.Errorf("store: begin reply attempt: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SaveReply records what an attempt or a lookup found.
func (s *Store) SaveReply(ctx context.Context, r inbox.Reply) error {
	_, err := s.w.ExecContext(ctx, `UPDATE message_replies SET status = $1, failures = $2, platform_post_id = $3, url = $4, published_at = $5,
		error = $6, error_kind = $7, updated_at = $8, not_before = $9 WHERE id = $10`,
		r.Status, r.Failures, r.PlatformPostID, r.URL, nullMS(r.PublishedAt), r.Error, r.ErrorKind, ms(s.now()), nullMS(r.NotBefore), r.ID)
	if err != nil {
		return fmt.Errorf("store: save reply: %w", err)
	}
	return nil
}
