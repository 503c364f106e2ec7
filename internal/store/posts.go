package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

var _ publish.Store = (*Store)(nil)

// PublishTx runs fn in one transaction, for publish.NewService.
func (s *Store) PublishTx(ctx context.Context, fn func(publish.Store) error) error {
	return s.InTx(ctx, func(tx *Store) error { return fn(tx) })
}

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// CreatePost inserts a post, its variants and one delivery per channel.
func (s *Store) CreatePost(ctx context.Context, p *publish.Post, channels []int64, keys []string, status publish.DeliveryStatus) error {
	now := s.now()
	p.CreatedAt, p.UpdatedAt = now.UTC(), now.UTC()
	err := s.w.QueryRowContext(ctx, `INSERT INTO posts (unit_id, campaign_id, origin_post_id, author_id, author, text, status, scheduled_at, time_zone, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		p.UnitID, p.CampaignID, p.OriginID, nullID(p.AuthorID), p.Author, p.Text, string(p.Stored), ms(p.ScheduledAt), p.TimeZone, ms(now)).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("store: create post: %w", err)
	}
	if err := s.saveVariants(ctx, p); err != nil {
		return err
	}
	insert := func(tx *Store) error {
		for i, ch := range channels {
			if _, err := tx.execPrepared(ctx, `INSERT INTO deliveries (post_id, channel_id, idem_key, status, updated_at) VALUES ($1, $2, $3, $4, $5)`,
				p.ID, ch, keys[i], string(status), ms(now)); err != nil {
				return fmt.Errorf("store: create delivery: %w", err)
			}
		}
		return nil
	}
	if status != publish.DeliveryPublished {
		// Unpublished deliveries count in no analytics rollup yet.
		return insert(s)
	}
	return s.trackDeliveries(ctx, "d.post_id = $1", []any{p.ID}, insert)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (s *Store) saveVariants(ctx context.Context, p *publish.Post) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM post_variants WHERE post_id = $1`, p.ID); err != nil {
		return fmt.Errorf("store: variants: %w", err)
	}
	if err := s.savePostMedia(ctx, p); err != nil {
		return err
	}
	for k, v := range p.Variants {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO post_variants (post_id, target, text) VALUES ($1, $2, $3)`, p.ID, k, v); err != nil {
			return fmt.Errorf("store: variants: %w", err)
		}
	}
	return nil
}

// UpdatePost writes a post's text, variants, status, time and campaign.
// A new campaign moves the deliveries of the post and of the posts that
// took it up in the campaign rollup.
func (s *Store) UpdatePost(ctx context.Context, p *publish.Post) error {
	var campaign *int64
	if err := s.w.QueryRowContext(ctx, `SELECT campaign_id FROM posts WHERE id = $1`, p.ID).Scan(&campaign); err != nil && !isNoRows(err) {
		return fmt.Errorf("store: update post: %w", err)
	}
	if (campaign == nil) == (p.CampaignID == nil) && (campaign == nil || *campaign == *p.CampaignID) {
		return s.updatePost(ctx, p)
	}
	return s.trackDeliveries(ctx, "d.post_id IN (SELECT id FROM posts WHERE id = $1 OR origin_post_id = $1)", []any{p.ID},
		func(tx *Store) error { return tx.updatePost(ctx, p) })
}

func (s *Store) updatePost(ctx context.Context, p *publish.Post) error {
	now := s.now()
	_, err := s.w.ExecContext(ctx, `UPDATE posts SET text = $1, status = $2, scheduled_at = $3, campaign_id = $4, updated_at = $5 WHERE id = $6`,
		p.Text, string(p.Stored), ms(p.ScheduledAt), p.CampaignID, ms(now), p.ID)
	if err != nil {
		return fmt.Errorf("store: update post: %w", err)
	}
	p.UpdatedAt = now.UTC()
	return s.saveVariants(ctx, p)
}

const postColumns = `p.id, p.unit_id, u.key, u.name, u.path, p.campaign_id, p.origin_post_id, COALESCE(p.author_id, 0), p.author, p.text, p.status,
	p.scheduled_at, p.time_zone, p.created_at, p.updated_at`

const postFrom = ` FROM posts p JOIN units u ON u.id = p.unit_id`

func scanPost(row scanner) (publish.Post, error) {
	var p publish.Post
	var campaign, origin sql.NullInt64
	var status string
	var at, created, updated int64
	err := row.Scan(&p.ID, &p.UnitID, &p.Unit, &p.UnitName, &p.UnitPath, &campaign, &origin, &p.AuthorID, &p.Author, &p.Text, &status,
		&at, &p.TimeZone, &created, &updated)
	if err != nil {
		return p, err
	}
	if campaign.Valid {
		p.CampaignID = &campaign.Int64
	}
	if origin.Valid {
		p.OriginID = &origin.Int64
	}
	p.Stored = publish.PostStatus(status)
	p.Status = p.Stored
	p.ScheduledAt, p.CreatedAt, p.UpdatedAt = fromMS(at), fromMS(created), fromMS(updated)
	return p, nil
}

// PostByID returns a post with its variants.
func (s *Store) PostByID(ctx context.Context, id int64) (publish.Post, error) {
	p, err := scanPost(s.r.QueryRowContext(ctx, `SELECT `+postColumns+postFrom+` WHERE p.id = $1`, id))
	if isNoRows(err) {
		return p, errs.E(errs.NotFound, "post %d not found", id)
	}
	if err != nil {
		return p, fmt.Errorf("store: post: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT target, text FROM post_variants WHERE post_id = $1`, id)
	if err != nil {
		return p, fmt.Errorf("store: variants: %w", err)
	}
	defer rows.Close()
	p.Variants = map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return p, err
		}
		p.Variants[k] = v
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	rows.Close()
	return p, s.loadPostMedia(ctx, &p)
}

// postWhere renders a post filter as a WHERE clause.
func postWhere(scope []string, f publish.PostFilter) (string, []any) {
	var where []string
	var args []any
	if scope != nil {
		var clause string
		clause, args = scopeClause("u.path", scope, args)
		where = append(where, clause)
	}
	if f.UnitPath != "" {
		args = append(args, escapeLike(f.UnitPath)+"%")
		where = append(where, fmt.Sprintf("u.path LIKE $%d ESCAPE '\\'", len(args)))
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where = append(where, fmt.Sprintf("p.status = $%d", len(args)))
	}
	if f.CampaignID != 0 {
		args = append(args, f.CampaignID)
		where = append(where, fmt.Sprintf("p.campaign_id = $%d", len(args)))
	}
	if f.OriginID != 0 {
		args = append(args, f.OriginID)
		where = append(where, fmt.Sprintf("p.origin_post_id = $%d", len(args)))
	}
	if !f.From.IsZero() {
		args = append(args, ms(f.From))
		where = append(where, fmt.Sprintf("p.scheduled_at >= $%d", len(args)))
	}
	if !f.To.IsZero() {
		args = append(args, ms(f.To))
		where = append(where, fmt.Sprintf("p.scheduled_at < $%d", len(args)))
	}
	if len(where) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// PostTimes lists the ids and times of the posts that pass the filter,
// oldest first.
func (s *Store) PostTimes(ctx context.Context, scope []string, f publish.PostFilter) ([]publish.PostRef, error) {
	cond, args := postWhere(scope, f)
	args = append(args, max(f.Limit, 1))
	rows, err := s.r.QueryContext(ctx, `SELECT p.id, p.scheduled_at`+postFrom+cond+fmt.Sprintf(` ORDER BY p.scheduled_at, p.id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: post times: %w", err)
	}
	defer rows.Close()
	var list []publish.PostRef
	for rows.Next() {
		var r publish.PostRef
		var at int64
		if err := rows.Scan(&r.ID, &at); err != nil {
			return nil, err
		}
		r.ScheduledAt = fromMS(at)
		list = append(list, r)
	}
	return list, rows.Err()
}

// PostsByIDs returns the posts with these ids within scope, without
// counts, oldest first.
func (s *Store) PostsByIDs(ctx context.Context, scope []string, ids []int64) ([]publish.Post, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cond, args := postWhere(scope, publish.PostFilter{})
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	if cond == "" {
		cond = " WHERE "
	} else {
		cond += " AND "
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+postColumns+postFrom+cond+`p.id IN (`+strings.Join(ph, ", ")+`) ORDER BY p.scheduled_at, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: posts: %w", err)
	}
	return scanAll(rows, scanPost)
}

// Posts lists posts within scope that pass the filter, by scheduled time,
// with their delivery counts (unless f.NoCounts).
func (s *Store) Posts(ctx context.Context, scope []string, f publish.PostFilter) ([]publish.Post, error) {
	cond, args := postWhere(scope, f)
	order := " ORDER BY p.scheduled_at DESC, p.id DESC"
	if !f.From.IsZero() {
		order = " ORDER BY p.scheduled_at, p.id"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	args = append(args, limit)
	q := `SELECT ` + postColumns + postFrom + cond + order + fmt.Sprintf(" LIMIT $%d", len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: posts: %w", err)
	}
	var list []publish.Post
	index := map[int64]int{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		p.Counts = map[publish.DeliveryStatus]int{}
		index[p.ID] = len(list)
		list = append(list, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(list) == 0 || f.NoCounts {
		for i := range list {
			list[i].Finish()
		}
		return list, nil
	}
	// Counts for the listed posts, in one query over the same filter.
	cq := `SELECT d.post_id, d.status, COUNT(*) FROM deliveries d WHERE d.post_id IN (SELECT p.id` + postFrom + cond + order +
		fmt.Sprintf(" LIMIT $%d", len(args)) + `) GROUP BY d.post_id, d.status`
	crows, err := s.r.QueryContext(ctx, cq, args...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery counts: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var id int64
		var st string
		var n int
		if err := crows.Scan(&id, &st, &n); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			list[i].Counts[publish.DeliveryStatus(st)] = n
		}
	}
	if err := crows.Err(); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Finish()
	}
	return list, nil
}

const deliveryColumns = `d.id, d.post_id, d.channel_id, c.name, c.platform, c.handle, d.idem_key, d.status, d.attempts, d.failures,
	d.first_attempt_at, d.last_attempt_at, d.not_before, d.platform_post_id, d.url, d.published_at, d.error, d.error_kind, d.attempt_node`

const deliveryFrom = ` FROM deliveries d JOIN channels c ON c.id = d.channel_id`

func scanDelivery(row scanner) (publish.Delivery, error) {
	var d publish.Delivery
	var status string
	var first, last, notBefore, pub sql.NullInt64
	err := row.Scan(&d.ID, &d.PostID, &d.ChannelID, &d.ChannelName, &d.Platform, &d.Handle, &d.Key, &status, &d.Attempts, &d.Failures,
		&first, &last, &notBefore, &d.PlatformPostID, &d.URL, &pub, &d.Error, &d.ErrorKind, &d.AttemptNode)
	d.Status = publish.DeliveryStatus(status)
	d.FirstAttemptAt, d.LastAttemptAt, d.NotBefore, d.PublishedAt = fromNullMS(first), fromNullMS(last), fromNullMS(notBefore), fromNullMS(pub)
	return d, err
}

func (s *Store) queryDeliveries(ctx context.Context, where string, args ...any) ([]publish.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+` WHERE `+where+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	return scanAll(rows, scanDelivery)
}

// DeliveryCounts counts the given posts' deliveries by status.
func (s *Store) DeliveryCounts(ctx context.Context, postIDs []int64) (map[int64]map[publish.DeliveryStatus]int, error) {
	out := make(map[int64]map[publish.DeliveryStatus]int, len(postIDs))
	if len(postIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(postIDs))
	ph := make([]string, len(postIDs))
	for i, id := range postIDs {
		args[i] = id
		ph[i] = fmt.Sprintf("$%d", i+1)
		out[id] = map[publish.DeliveryStatus]int{}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT post_id, status, COUNT(*) FROM deliveries WHERE post_id IN (`+strings.Join(ph, ", ")+`) GROUP BY post_id, status`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: delivery counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var st string
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, err
		}
		out[id][publish.DeliveryStatus(st)] = n
	}
	return out, rows.Err()
}

// Deliveries lists a post's deliveries.
func (s *Store) Deliveries(ctx context.Context, postID int64) ([]publish.Delivery, error) {
	return s.queryDeliveries(ctx, `d.post_id = $1`, postID)
}

// StaleDeliveries lists due, unfinished deliveries of scheduled posts that
// nothing has touched since before (their post due before then too, and
// any retry time passed), oldest first.
func (s *Store) StaleDeliveries(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.id FROM deliveries d JOIN posts p ON p.id = d.post_id
		WHERE d.status IN ('scheduled', 'publishing') AND p.status = 'scheduled' AND p.scheduled_at < $1
		AND d.updated_at < $1 AND (d.not_before IS NULL OR d.not_before < $1)
		ORDER BY d.id LIMIT $2`, ms(before), limit)
	if err != nil {
		return nil, fmt.Errorf("store: stale deliveries: %w", err)
	}
	return scanAll(rows, scanID)
}

// scanID reads a row of one id.
func scanID(row scanner) (int64, error) {
	var id int64
	err := row.Scan(&id)
	return id, err
}

// OpenDeliveriesOf lists a post's unfinished deliveries with ids from
// first to last: one chunk of a fan-out (see publish.FanoutArgs).
func (s *Store) OpenDeliveriesOf(ctx context.Context, postID, first, last int64) ([]publish.Delivery, error) {
	return s.queryDeliveries(ctx, `d.post_id = $1 AND d.id BETWEEN $2 AND $3 AND d.status IN ('scheduled', 'publishing', 'unknown')`, postID, first, last)
}

// OpenDeliveries lists the deliveries of scheduled posts that are not
// finished, with their post's time.
func (s *Store) OpenDeliveries(ctx context.Context) ([]publish.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryColumns+`, p.scheduled_at`+deliveryFrom+` JOIN posts p ON p.id = d.post_id
		WHERE d.status IN ('scheduled', 'publishing', 'unknown') AND p.status = 'scheduled' ORDER BY d.id`)
	if err != nil {
		return nil, fmt.Errorf("store: open deliveries: %w", err)
	}
	defer rows.Close()
	var list []publish.Delivery
	for rows.Next() {
		var at int64
		d, err := scanDelivery(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &at)...) }))
		if err != nil {
			return nil, err
		}
		d.PostAt = fromMS(at)
		list = append(list, d)
	}
	return list, rows.Err()
}

// scanFunc adapts a function to the scanner interface.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// DeliveryByID returns one delivery (BeginAttempt's compare-and-set
// guards against a stale read).
func (s *Store) DeliveryByID(ctx context.Context, id int64) (publish.Delivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+` WHERE d.id = $1`, id))
	if isNoRows(err) {
		return d, errs.E(errs.NotFound, "delivery %d not found", id)
	}
	if err != nil {
		return d, fmt.Errorf("store: delivery: %w", err)
	}
	return d, nil
}

// SetDeliveryStatuses moves a post's deliveries from one of from to to.
func (s *Store) SetDeliveryStatuses(ctx context.Context, postID int64, from []publish.DeliveryStatus, to publish.DeliveryStatus) ([]int64, error) {
	if len(from) == 0 {
		return nil, nil
	}
	counted := to == publish.DeliveryPublished
	for _, f := range from {
		counted = counted || f == publish.DeliveryPublished
	}
	if !counted {
		return s.setDeliveryStatuses(ctx, postID, from, to)
	}
	// Published deliveries count in the analytics rollups.
	var ids []int64
	err := s.trackDeliveries(ctx, "d.post_id = $1", []any{postID}, func(tx *Store) error {
		var err error
		ids, err = tx.setDeliveryStatuses(ctx, postID, from, to)
		return err
	})
	return ids, err
}

func (s *Store) setDeliveryStatuses(ctx context.Context, postID int64, from []publish.DeliveryStatus, to publish.DeliveryStatus) ([]int64, error) {
	args := []any{postID}
	ph := make([]string, len(from))
	for i, f := range from {
		args = append(args, string(f))
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := s.w.QueryContext(ctx, `SELECT id FROM deliveries WHERE post_id = $1 AND status IN (`+strings.Join(ph, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	args = append(args, string(to), ms(s.now()))
	n := len(args)
	_, err = s.w.ExecContext(ctx, fmt.Sprintf(`UPDATE deliveries SET status = $%d, updated_at = $%d, failures = 0, error = '', error_kind = '', not_before = NULL
		WHERE post_id = $1 AND status IN (%s)`, n-1, n, strings.Join(ph, ", ")), args...)
	if err != nil {
		return nil, fmt.Errorf("store: set delivery status: %w", err)
	}
	return ids, nil
}

// BeginAttempt marks a delivery publishing by node, counting the attempt,
// if no other worker counted one since it was read. Attempt marks and outcomes
// are group-committed (see Batched): a post to thousands of channels
// records thousands of them at once.
func (s *Store) BeginAttempt(ctx context.Context, id int64, attempts int, at time.Time, node string) (bool, error) {
	var n int64
	err := s.Batched(ctx, func(tx *Store) error {
		res, err := tx.execPrepared(ctx, `UPDATE deliveries SET status = 'publishing', attempts = attempts + 1,
			first_attempt_at = COALESCE(first_attempt_at, $1), last_attempt_at = $1, updated_at = $1, attempt_node = $4
			WHERE id = $2 AND attempts = $3 AND status IN ('scheduled', 'publishing', 'unknown')`, ms(at), id, attempts, node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: begin attempt on delivery %d: %w", id, err)
	}
	return n == 1, nil
}

// SaveOutcome records what an attempt or a lookup found.
func (s *Store) SaveOutcome(ctx context.Context, d publish.Delivery) error {
	err := s.Batched(ctx, func(tx *Store) error {
		if d.Status != publish.DeliveryPublished {
			// Only published deliveries count in the analytics rollups,
			// and an attempt's outcome never unpublishes one.
			_, err := tx.execPrepared(ctx, `UPDATE deliveries SET status = $1, failures = $2, platform_post_id = $3, url = $4, published_at = $5,
				error = $6, error_kind = $7, updated_at = $8, not_before = $9 WHERE id = $10 AND status <> 'published'`,
				string(d.Status), d.Failures, d.PlatformPostID, d.URL, nullMS(d.PublishedAt), d.Error, d.ErrorKind, ms(s.now()), nullMS(d.NotBefore), d.ID)
			return err
		}
		publish := func(tx *Store) (bool, error) {
			res, err := tx.execPrepared(ctx, `UPDATE deliveries SET status = $1, failures = $2, platform_post_id = $3, url = $4, published_at = $5,
				error = $6, error_kind = $7, updated_at = $8, not_before = $9 WHERE id = $10 AND status <> 'published'`,
				string(d.Status), d.Failures, d.PlatformPostID, d.URL, nullMS(d.PublishedAt), d.Error, d.ErrorKind, ms(s.now()), nullMS(d.NotBefore), d.ID)
			if err != nil {
				return false, err
			}
			n, err := res.RowsAffected()
			return n == 1, err
		}
		if tx.inBatch != nil {
			// A post's deliveries are published by the thousand: their
			// rollups are brought up to date once for the whole batch.
			newly, err := publish(tx)
			if newly {
				tx.inBatch.published = append(tx.inBatch.published, d.ID)
			}
			return err
		}
		return tx.trackDeliveries(ctx, "d.id = $1", []any{d.ID}, func(tx *Store) error {
			_, err := publish(tx)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("store: save outcome of delivery %d: %w", d.ID, err)
	}
	return nil
}

// AddApproval appends a step to a post's audit trail.
func (s *Store) AddApproval(ctx context.Context, a publish.Approval) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO post_approvals (post_id, user_id, who, action, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.PostID, nullID(a.UserID), a.Who, a.Action, a.Comment, ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: add approval: %w", err)
	}
	return nil
}

// Approvals returns a post's audit trail, oldest first.
func (s *Store) Approvals(ctx context.Context, postID int64) ([]publish.Approval, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, post_id, COALESCE(user_id, 0), who, action, comment, created_at FROM post_approvals WHERE post_id = $1 ORDER BY id`, postID)
	if err != nil {
		return nil, fmt.Errorf("store: approvals: %w", err)
	}
	defer rows.Close()
	var list []publish.Approval
	for rows.Next() {
		var a publish.Approval
		var at int64
		if err := rows.Scan(&a.ID, &a.PostID, &a.UserID, &a.Who, &a.Action, &a.Comment, &at); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMS(at)
		list = append(list, a)
	}
	return list, rows.Err()
}

// ApprovalRequired reports whether the unit at unitPath or an ancestor
// requires approval.
func (s *Store) ApprovalRequired(ctx context.Context, unitPath string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM approval_policies ap JOIN units u ON u.id = ap.unit_id
		WHERE ap.required = 1 AND substr($1, 1, length(u.path)) = u.path`, unitPath).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: approval policy: %w", err)
	}
	return n > 0, nil
}

// SetApprovalPolicy sets a unit's approval policy.
func (s *Store) SetApprovalPolicy(ctx context.Context, unitID int64, required bool) error {
	r := 0
	if required {
		r = 1
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO approval_policies (unit_id, required, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (unit_id) DO UPDATE SET required = excluded.required, updated_at = excluded.updated_at`, unitID, r, ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: set approval policy: %w", err)
	}
	return nil
}

// ---- campaigns ----

const campaignColumns = `c.id, c.unit_id, u.key, u.path, c.name, c.topic, c.goal, c.tags, c.starts_at, c.ends_at, c.created_at, c.updated_at`

func scanCampaign(row scanner) (publish.Campaign, error) {
	var c publish.Campaign
	var tags string
	var starts, ends sql.NullInt64
	var created, updated int64
	err := row.Scan(&c.ID, &c.UnitID, &c.Unit, &c.UnitPath, &c.Name, &c.Topic, &c.Goal, &tags, &starts, &ends, &created, &updated)
	c.Tags = []string{}
	if tags != "" {
		c.Tags = strings.Split(tags, ",")
	}
	c.StartsAt, c.EndsAt = fromNullMS(starts), fromNullMS(ends)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, err
}

// CreateCampaign inserts a campaign.
func (s *Store) CreateCampaign(ctx context.Context, c *publish.Campaign, by int64) error {
	now := s.now()
	err := s.w.QueryRowContext(ctx, `INSERT INTO campaigns (unit_id, name, topic, goal, tags, starts_at, ends_at, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
		c.UnitID, c.Name, c.Topic, c.Goal, strings.Join(c.Tags, ","), nullMS(c.StartsAt), nullMS(c.EndsAt), nullID(by), ms(now)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("store: create campaign: %w", err)
	}
	return nil
}

// UpdateCampaign writes a campaign's fields.
func (s *Store) UpdateCampaign(ctx context.Context, c *publish.Campaign) error {
	_, err := s.w.ExecContext(ctx, `UPDATE campaigns SET name = $1, topic = $2, goal = $3, tags = $4, starts_at = $5, ends_at = $6, updated_at = $7 WHERE id = $8`,
		c.Name, c.Topic, c.Goal, strings.Join(c.Tags, ","), nullMS(c.StartsAt), nullMS(c.EndsAt), ms(s.now()), c.ID)
	if err != nil {
		return fmt.Errorf("store: update campaign: %w", err)
	}
	return nil
}

// DeleteCampaign deletes a campaign; its posts lose it.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE posts SET campaign_id = NULL WHERE campaign_id = $1`, id); err != nil {
		return fmt.Errorf("store: delete campaign: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM campaigns WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete campaign: %w", err)
	}
	return nil
}

// CampaignByID returns one campaign.
func (s *Store) CampaignByID(ctx context.Context, id int64) (publish.Campaign, error) {
	c, err := scanCampaign(s.r.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c JOIN units u ON u.id = c.unit_id WHERE c.id = $1`, id))
	if isNoRows(err) {
		return c, errs.E(errs.NotFound, "campaign %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign: %w", err)
	}
	return c, nil
}

// Campaigns lists the campaigns within scope, newest first.
func (s *Store) Campaigns(ctx context.Context, scope []string) ([]publish.Campaign, error) {
	q := `SELECT ` + campaignColumns + ` FROM campaigns c JOIN units u ON u.id = c.unit_id`
	var args []any
	if scope != nil {
		var clause string
		clause, args = scopeClause("u.path", scope, args)
		q += " WHERE " + clause
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY c.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: campaigns: %w", err)
	}
	return scanAll(rows, scanCampaign)
}

// ---- syndication ----

// CreateOffers offers a post to units; an offer made before stays.
func (s *Store) CreateOffers(ctx context.Context, postID int64, unitIDs []int64, by, note string) error {
	for _, u := range unitIDs {
		_, err := s.w.ExecContext(ctx, `INSERT INTO post_offers (post_id, unit_id, offered_by, note, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (post_id, unit_id) DO NOTHING`, postID, u, by, note, ms(s.now()))
		if err != nil {
			return fmt.Errorf("store: create offer: %w", err)
		}
	}
	return nil
}

const offerColumns = `o.id, o.post_id, o.unit_id, u.key, u.path, pu.key, p.text, p.scheduled_at, o.offered_by, o.note, o.created_at`

const offerFrom = ` FROM post_offers o JOIN units u ON u.id = o.unit_id JOIN posts p ON p.id = o.post_id JOIN units pu ON pu.id = p.unit_id`

func scanOffer(row scanner) (publish.Offer, error) {
	var o publish.Offer
	var at, created int64
	err := row.Scan(&o.ID, &o.PostID, &o.UnitID, &o.Unit, &o.UnitPath, &o.OriginUnit, &o.Text, &at, &o.OfferedBy, &o.Note, &created)
	o.SuggestedAt, o.CreatedAt = fromMS(at), fromMS(created)
	return o, err
}

// Offers lists offers, newest first: of one post (postID > 0), or all.
func (s *Store) Offers(ctx context.Context, postID int64, limit int) ([]publish.Offer, error) {
	q := `SELECT ` + offerColumns + offerFrom
	args := []any{}
	if postID > 0 {
		q += ` WHERE o.post_id = $1`
		args = append(args, postID)
	}
	args = append(args, max(limit, 1))
	rows, err := s.r.QueryContext(ctx, q+fmt.Sprintf(` ORDER BY o.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: offers: %w", err)
	}
	return scanAll(rows, scanOffer)
}

// OfferByID returns one offer.
func (s *Store) OfferByID(ctx context.Context, id int64) (publish.Offer, error) {
	o, err := scanOffer(s.r.QueryRowContext(ctx, `SELECT `+offerColumns+offerFrom+` WHERE o.id = $1`, id))
	if isNoRows(err) {
		return o, errs.E(errs.NotFound, "offer %d not found", id)
	}
	if err != nil {
		return o, fmt.Errorf("store: offer: %w", err)
	}
	return o, nil
}

// TakeUps lists the posts that took postID up, with their state and
// first publication.
func (s *Store) TakeUps(ctx context.Context, postID int64) ([]publish.TakeUp, error) {
	posts, err := s.Posts(ctx, nil, publish.PostFilter{OriginID: postID, Limit: 10000})
	if err != nil {
		return nil, err
	}
	out := make([]publish.TakeUp, 0, len(posts))
	for _, p := range posts {
		t := publish.TakeUp{Post: p.ID, Unit: p.Unit, UnitPath: p.UnitPath, Status: p.Status, Summary: p.Summary, ScheduledAt: p.ScheduledAt}
		var first sql.NullInt64
		if err := s.r.QueryRowContext(ctx, `SELECT MIN(published_at) FROM deliveries WHERE post_id = $1`, p.ID).Scan(&first); err != nil {
			return nil, fmt.Errorf("store: take-ups: %w", err)
		}
		t.PublishedAt = fromNullMS(first)
		out = append(out, t)
	}
	return out, nil
}
