package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

const mediaColumns = `m.id, m.unit_id, u.key, u.path, m.sha256, m.kind, m.content_type, m.filename, m.size, m.width, m.height,
	m.alt_text, m.has_thumb, m.uploaded_by, m.created_at, m.duration_ms`

const mediaFrom = ` FROM media m JOIN units u ON u.id = m.unit_id`

func scanMedia(row scanner) (publish.Media, error) {
	var m publish.Media
	var kind string
	var thumb int
	var created int64
	err := row.Scan(&m.ID, &m.UnitID, &m.Unit, &m.UnitPath, &m.Hash, &kind, &m.ContentType, &m.Filename, &m.Size, &m.Width, &m.Height,
		&m.AltText, &thumb, &m.UploadedBy, &created, &m.DurationMS)
	m.Kind, m.HasThumb, m.CreatedAt = connector.MediaKind(kind), thumb != 0, fromMS(created)
	return m, err
}

// CreateMedia inserts a media library entry.
func (s *Store) CreateMedia(ctx context.Context, m *publish.Media) error {
	now := s.now()
	thumb := 0
	if m.HasThumb {
		thumb = 1
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO media (unit_id, sha256, kind, content_type, filename, size, width, height, alt_text, has_thumb, uploaded_by, created_at, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		m.UnitID, m.Hash, string(m.Kind), m.ContentType, m.Filename, m.Size, m.Width, m.Height, m.AltText, thumb, m.UploadedBy, ms(now), m.DurationMS).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("store: create media: %w", err)
	}
	m.CreatedAt = now.UTC()
	return nil
}

// MediaByID returns one media entry.
func (s *Store) MediaByID(ctx context.Context, id int64) (publish.Media, error) {
	m, err := scanMedia(s.r.QueryRowContext(ctx, `SELECT `+mediaColumns+mediaFrom+` WHERE m.id = $1`, id))
	if isNoRows(err) {
		return m, errs.E(errs.NotFound, "media %d not found", id)
	}
	if err != nil {
		return m, fmt.Errorf("store: media: %w", err)
	}
	return m, nil
}

// MediaByHash returns a unit's entry for a file's SHA-256.
func (s *Store) MediaByHash(ctx context.Context, unitID int64, hash string) (publish.Media, error) {
	m, err := scanMedia(s.w.QueryRowContext(ctx, `SELECT `+mediaColumns+mediaFrom+` WHERE m.unit_id = $1 AND m.sha256 = $2`, unitID, hash))
	if isNoRows(err) {
		return m, errs.E(errs.NotFound, "no such media")
	}
	if err != nil {
		return m, fmt.Errorf("store: media: %w", err)
	}
	return m, nil
}

// MediaList lists media within scope (and unitPath's subtree), newest
// first.
func (s *Store) MediaList(ctx context.Context, scope []string, unitPath string, limit int) ([]publish.Media, error) {
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
	q := `SELECT ` + mediaColumns + mediaFrom
	for i, w := range where {
		if i == 0 {
			q += " WHERE " + w
		} else {
			q += " AND " + w
		}
	}
	args = append(args, max(limit, 1))
	rows, err := s.r.QueryContext(ctx, q+fmt.Sprintf(` ORDER BY m.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: media list: %w", err)
	}
	return scanAll(rows, scanMedia)
}

// MediaUsers lists the posts that carry a media file (as their own
// media or a variant's), by id.
func (s *Store) MediaUsers(ctx context.Context, mediaID int64) ([]int64, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT DISTINCT post_id FROM post_media WHERE media_id = $1 ORDER BY post_id`, mediaID)
	if err != nil {
		return nil, fmt.Errorf("store: media %d users: %w", mediaID, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: media %d users: %w", mediaID, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeleteMedia removes a media entry after detaching it from the listed
// posts. A post that names it and is not listed (one created meanwhile)
// makes the delete fail with Conflict, changing nothing.
func (s *Store) DeleteMedia(ctx context.Context, id int64, detachFrom []int64) error {
	for _, postID := range detachFrom {
		if _, err := s.w.ExecContext(ctx, `DELETE FROM post_media WHERE media_id = $1 AND post_id = $2`, id, postID); err != nil {
			return fmt.Errorf("store: detach media %d from post %d: %w", id, postID, err)
		}
	}
	var left int
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM post_media WHERE media_id = $1`, id).Scan(&left); err != nil {
		return fmt.Errorf("store: delete media %d: %w", id, err)
	}
	if left > 0 {
		return errs.E(errs.Conflict, "media %d was just added to another post", id)
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM media WHERE id = $1`, id)
	if err != nil {
		if isForeignKey(err) {
			return errs.E(errs.Conflict, "media %d was just added to another post", id)
		}
		return fmt.Errorf("store: delete media %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "media %d not found", id)
	}
	return nil
}

// MediaHashUsed reports whether any unit's library still has a file with
// this SHA-256 (the bytes on disk are shared).
func (s *Store) MediaHashUsed(ctx context.Context, hash string) (bool, error) {
	var n int
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM media WHERE sha256 = $1`, hash).Scan(&n); err != nil {
		return false, fmt.Errorf("store: media hash: %w", err)
	}
	return n > 0, nil
}

// isForeignKey reports whether err is a foreign-key violation on either
// engine.
func isForeignKey(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "FOREIGN KEY constraint failed") || strings.Contains(msg, "SQLSTATE 23503")
}

// savePostMedia replaces a post's media lists.
func (s *Store) savePostMedia(ctx context.Context, p *publish.Post) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM post_media WHERE post_id = $1`, p.ID); err != nil {
		return fmt.Errorf("store: post media: %w", err)
	}
	put := func(target string, ids []int64) error {
		for i, id := range ids {
			if _, err := s.w.ExecContext(ctx, `INSERT INTO post_media (post_id, target, position, media_id) VALUES ($1, $2, $3, $4)`,
				p.ID, target, i, id); err != nil {
				return fmt.Errorf("store: post media: %w", err)
			}
		}
		return nil
	}
	if err := put("", p.Media); err != nil {
		return err
	}
	for k, ids := range p.VariantMedia {
		if err := put(k, ids); err != nil {
			return err
		}
	}
	return nil
}

// loadPostMedia fills a post's media lists.
func (s *Store) loadPostMedia(ctx context.Context, p *publish.Post) error {
	rows, err := s.r.QueryContext(ctx, `SELECT target, media_id FROM post_media WHERE post_id = $1 ORDER BY target, position`, p.ID)
	if err != nil {
		return fmt.Errorf("store: post media: %w", err)
	}
	defer rows.Close()
	p.Media = []int64{}
	for rows.Next() {
		var target string
		var id int64
		if err := rows.Scan(&target, &id); err != nil {
			return err
		}
		if target == "" {
			p.Media = append(p.Media, id)
			continue
		}
		if p.VariantMedia == nil {
			p.VariantMedia = map[string][]int64{}
		}
		p.VariantMedia[target] = append(p.VariantMedia[target], id)
	}
	return rows.Err()
}
