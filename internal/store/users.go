package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

func scanUser(row scanner) (access.User, string, error) {
	var u access.User
	var hash string
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &hash, &u.Disabled, &created)
	u.CreatedAt = fromMS(created)
	return u, hash, err
}

const userColumns = `id, email, name, password_hash, disabled, created_at`

// UserByEmail returns a user and its password hash.
func (s *Store) UserByEmail(ctx context.Context, email string) (access.User, string, error) {
	u, hash, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if isNoRows(err) {
		return u, "", errs.E(errs.NotFound, "user %q not found", email)
	}
	if err != nil {
		return u, "", fmt.Errorf("store: get user %q: %w", email, err)
	}
	return u, hash, nil
}

// UserByID returns a user.
func (s *Store) UserByID(ctx context.Context, id int64) (access.User, error) {
	u, _, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if isNoRows(err) {
		return u, errs.E(errs.NotFound, "user %d not found", id)
	}
	if err != nil {
		return u, fmt.Errorf("store: get user %d: %w", id, err)
	}
	return u, nil
}

// Users lists all users by e-mail.
func (s *Store) Users(ctx context.Context) ([]access.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var list []access.User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		list = append(list, u)
	}
	return list, rows.Err()
}

// CreateUser inserts a user with a password hash.
func (s *Store) CreateUser(ctx context.Context, u *access.User, passwordHash string) error {
	now := s.now()
	err := s.w.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, u.Email, u.Name, passwordHash, u.Disabled, ms(now)).Scan(&u.ID)
	if isUnique(err) {
		return errs.E(errs.Conflict, "a user with e-mail %q exists", u.Email)
	}
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.Email, err)
	}
	u.CreatedAt = fromMS(ms(now))
	return nil
}

// UpdateUser saves a user's name and disabled flag, and the password hash
// when one is given.
func (s *Store) UpdateUser(ctx context.Context, u access.User, passwordHash string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE users SET name = $1, disabled = $2,
		password_hash = CASE WHEN $3 = '' THEN password_hash ELSE $3 END, updated_at = $4 WHERE id = $5`,
		u.Name, u.Disabled, passwordHash, ms(s.now()), u.ID)
	if err != nil {
		return fmt.Errorf("store: update user %d: %w", u.ID, err)
	}
	if u.Disabled || passwordHash != "" {
		// A disabled user or a new password ends every open session.
		if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return fmt.Errorf("store: update user %d: %w", u.ID, err)
		}
	}
	return nil
}

// DeleteUser deletes a user with its grants, tokens and sessions.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, err)
	}
	return nil
}

const grantColumns = `g.id, g.user_id, us.email, g.unit_id, un.key, un.path, g.role, g.created_at`
const grantFrom = ` FROM grants g JOIN units un ON un.id = g.unit_id JOIN users us ON us.id = g.user_id`

func scanGrants(rows *sql.Rows) ([]access.Grant, error) {
	defer rows.Close()
	var list []access.Grant
	for rows.Next() {
		var g access.Grant
		var created int64
		if err := rows.Scan(&g.ID, &g.UserID, &g.UserEmail, &g.UnitID, &g.Unit, &g.UnitPath, &g.Role, &created); err != nil {
			return nil, err
		}
		g.CreatedAt = fromMS(created)
		list = append(list, g)
	}
	return list, rows.Err()
}

// GrantsOfUser lists a user's grants.
func (s *Store) GrantsOfUser(ctx context.Context, userID int64) ([]access.Grant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+grantColumns+grantFrom+` WHERE g.user_id = $1 ORDER BY un.path, g.role`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: grants of user %d: %w", userID, err)
	}
	list, err := scanGrants(rows)
	if err != nil {
		return nil, fmt.Errorf("store: grants of user %d: %w", userID, err)
	}
	return list, nil
}

// Grants lists the grants on units within scope (nil: all).
func (s *Store) Grants(ctx context.Context, scope []string) ([]access.Grant, error) {
	q := `SELECT ` + grantColumns + grantFrom
	var args []any
	if scope != nil {
		var where string
		where, args = scopeClause("un.path", scope, args)
		q += " WHERE " + where
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY us.email, un.path, g.role`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list grants: %w", err)
	}
	list, err := scanGrants(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list grants: %w", err)
	}
	return list, nil
}

// GrantByID returns one grant.
func (s *Store) GrantByID(ctx context.Context, id int64) (access.Grant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+grantColumns+grantFrom+` WHERE g.id = $1`, id)
	if err != nil {
		return access.Grant{}, fmt.Errorf("store: get grant %d: %w", id, err)
	}
	list, err := scanGrants(rows)
	if err != nil {
		return access.Grant{}, fmt.Errorf("store: get grant %d: %w", id, err)
	}
	if len(list) == 0 {
		return access.Grant{}, errs.E(errs.NotFound, "grant %d not found", id)
	}
	return list[0], nil
}

// CreateGrant inserts a grant; granting the same role twice is a conflict.
func (s *Store) CreateGrant(ctx context.Context, g *access.Grant) error {
	now := s.now()
	err := s.w.QueryRowContext(ctx, `INSERT INTO grants (user_id, unit_id, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		g.UserID, g.UnitID, g.Role, ms(now)).Scan(&g.ID)
	if isUnique(err) {
		return errs.E(errs.Conflict, "the user already has role %s on unit %q", g.Role, g.Unit)
	}
	if err != nil {
		return fmt.Errorf("store: create grant: %w", err)
	}
	g.CreatedAt = fromMS(ms(now))
	return nil
}

// DeleteGrant deletes a grant.
func (s *Store) DeleteGrant(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM grants WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete grant %d: %w", id, err)
	}
	return nil
}

const tokenColumns = `t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at`

func scanToken(row scanner) (access.Token, error) {
	var t access.Token
	var created int64
	var used, expires sql.NullInt64
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &created, &used, &expires)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = fromMS(created), fromNullMS(used), fromNullMS(expires)
	return t, err
}

// CreateToken stores a token's record and hash.
func (s *Store) CreateToken(ctx context.Context, t *access.Token, hash string) error {
	now := s.now()
	var expires any
	if t.ExpiresAt != nil {
		expires = ms(*t.ExpiresAt)
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, prefix, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.UserID, t.Name, t.Prefix, hash, ms(now), expires).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("store: create token: %w", err)
	}
	t.CreatedAt = fromMS(ms(now))
	return nil
}

// TokenByHash finds a token by its hash and marks it used (at most once a
// minute, to keep reads from becoming writes).
func (s *Store) TokenByHash(ctx context.Context, hash string) (access.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.hash = $1`, hash))
	if isNoRows(err) {
		return t, errs.E(errs.Unauthorized, "unknown token")
	}
	if err != nil {
		return t, fmt.Errorf("store: find token: %w", err)
	}
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, ms(now), t.ID); err != nil {
			return t, fmt.Errorf("store: touch token: %w", err)
		}
	}
	return t, nil
}

// Tokens lists a user's tokens (nil user: everyone's).
func (s *Store) Tokens(ctx context.Context, userID int64) ([]access.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	list, err := scanAll(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return list, nil
}

// TokenByID returns one token's record.
func (s *Store) TokenByID(ctx context.Context, id int64) (access.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1`, id))
	if isNoRows(err) {
		return t, errs.E(errs.NotFound, "token %d not found", id)
	}
	if err != nil {
		return t, fmt.Errorf("store: get token %d: %w", id, err)
	}
	return t, nil
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete token %d: %w", id, err)
	}
	return nil
}

// CreateSession stores a session by the hash of its cookie value.
func (s *Store) CreateSession(ctx context.Context, hash string, userID int64, csrf string, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, userID, csrf, ms(s.now()), ms(expires))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByHash returns a live session's user and CSRF token.
func (s *Store) SessionByHash(ctx context.Context, hash string) (int64, string, error) {
	var uid int64
	var csrf string
	err := s.r.QueryRowContext(ctx, `SELECT user_id, csrf FROM sessions WHERE hash = $1 AND expires_at > $2`, hash, ms(s.now())).
		Scan(&uid, &csrf)
	if isNoRows(err) {
		return 0, "", errs.E(errs.Unauthorized, "no session")
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: get session: %w", err)
	}
	return uid, csrf, nil
}

// UnitRefByKey returns what access needs to know of a unit.
func (s *Store) UnitRefByKey(ctx context.Context, key string) (access.UnitRef, error) {
	var u access.UnitRef
	err := s.r.QueryRowContext(ctx, `SELECT id, key, path FROM units WHERE key = $1`, key).Scan(&u.ID, &u.Key, &u.Path)
	if isNoRows(err) {
		return u, errs.E(errs.NotFound, "unit %q not found", key)
	}
	if err != nil {
		return u, fmt.Errorf("store: get unit %q: %w", key, err)
	}
	return u, nil
}

// DeleteSession ends a session, and sweeps expired ones while at it.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1 OR expires_at < $2`, hash, ms(s.now())); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// RecordLoginFailure notes a failed login at an address from a client for
// throttling.
func (s *Store) RecordLoginFailure(ctx context.Context, email, client string) error {
	now := s.now()
	if _, err := s.w.ExecContext(ctx, `INSERT INTO login_failures (email, client, at) VALUES ($1, $2, $3)`, email, client, ms(now)); err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	// Keep the table small: nothing older than a day matters.
	if _, err := s.w.ExecContext(ctx, `DELETE FROM login_failures WHERE at < $1`, ms(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	return nil
}

// LoginFailures counts failed logins since a time: at the address from
// the client, at the address from anywhere, and from the client at any
// address.
func (s *Store) LoginFailures(ctx context.Context, email, client string, since time.Time) (access.LoginFailureCounts, error) {
	var c access.LoginFailureCounts
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM login_failures WHERE email = $1 AND client = $2 AND at >= $3),
		(SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at >= $3),
		(SELECT COUNT(*) FROM login_failures WHERE client = $2 AND at >= $3)`, email, client, ms(since)).Scan(&c.Pair, &c.Address, &c.Client)
	if err != nil {
		return c, fmt.Errorf("store: count login failures: %w", err)
	}
	return c, nil
}

// ClearLoginFailures forgets an address's failures from a client after it
// logged in from there.
func (s *Store) ClearLoginFailures(ctx context.Context, email, client string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM login_failures WHERE email = $1 AND client = $2`, email, client); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}
