package access

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
)

// UnitRef is what access needs to know of a unit.
type UnitRef struct {
	ID   int64
	Key  string
	Path string
}

// Store is what access needs from the database; internal/store implements it.
type Store interface {
	UserByEmail(ctx context.Context, email string) (User, string, error)
	UserByID(ctx context.Context, id int64) (User, error)
	Users(ctx context.Context) ([]User, error)
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	UpdateUser(ctx context.Context, u User, passwordHash string) error
	DeleteUser(ctx context.Context, id int64) error
	GrantsOfUser(ctx context.Context, userID int64) ([]Grant, error)
	Grants(ctx context.Context, scope []string) ([]Grant, error)
	GrantByID(ctx context.Context, id int64) (Grant, error)
	CreateGrant(ctx context.Context, g *Grant) error
	DeleteGrant(ctx context.Context, id int64) error
	CreateToken(ctx context.Context, t *Token, hash string) error
	TokenByHash(ctx context.Context, hash string) (Token, error)
	TokenByID(ctx context.Context, id int64) (Token, error)
	Tokens(ctx context.Context, userID int64) ([]Token, error)
	DeleteToken(ctx context.Context, id int64) error
	CreateSession(ctx context.Context, hash string, userID int64, csrf string, expires time.Time) error
	SessionByHash(ctx context.Context, hash string) (userID int64, csrf string, err error)
	DeleteSession(ctx context.Context, hash string) error
	RecordLoginFailure(ctx context.Context, email, client string) error
	LoginFailures(ctx context.Context, email, client string, since time.Time) (LoginFailureCounts, error)
	ClearLoginFailures(ctx context.Context, email, client string) error
	UnitRefByKey(ctx context.Context, key string) (UnitRef, error)
}

// Login throttling, counted in the database so that it holds across
// restarts and nodes. After MaxLoginFailures failures within LoginWindow
// at one address from one client (IP), that pair is refused until the
// window has passed: failing from elsewhere can't lock a person out.
// Guessing spread wide is stopped by the totals: MaxAddressFailures at one
// address from anywhere, MaxClientFailures from one client at any address.
const (
	MaxLoginFailures   = 5
	MaxAddressFailures = 50
	MaxClientFailures  = 100
	LoginWindow        = 15 * time.Minute
	SessionLifetime    = 12 * time.Hour
)

// LoginFailureCounts are the failed logins within the window that
// throttling weighs.
type LoginFailureCounts struct {
	Pair    int // at the address from the client
	Address int // at the address from anywhere
	Client  int // from the client at any address
}

// Service is users, grants, tokens and sessions.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService makes the access service.
func NewService(st Store) *Service { return &Service{store: st, now: time.Now} }

// normaliseEmail lower-cases and checks an e-mail address.
func normaliseEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e, "@") {
		return "", errs.Field("email", "%q is not an e-mail address", s)
	}
	return e, nil
}

// principal loads a user's grants into a Principal.
func (s *Service) principal(ctx context.Context, u User) (*Principal, error) {
	if u.Disabled {
		return nil, errs.E(errs.Unauthorized, "this account is disabled")
	}
	grants, err := s.store.GrantsOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &Principal{User: u, Grants: grants}, nil
}

// Login checks an e-mail and password and opens a session. It returns the
// session's cookie value (shown once; stored hashed) and its CSRF token.
func (s *Service) Login(ctx context.Context, email, password, client string) (session, csrf string, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	n, err := s.store.LoginFailures(ctx, email, client, s.now().Add(-LoginWindow))
	if err != nil {
		return "", "", err
	}
	if n.Pair >= MaxLoginFailures || n.Address >= MaxAddressFailures || n.Client >= MaxClientFailures {
		return "", "", errs.E(errs.RateLimited, "too many failed logins; try again in %d minutes", int(LoginWindow.Minutes()))
	}
	u, hash, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return "", "", err
	}
	if err != nil {
		CheckPassword(dummyHash, password)
	}
	if err != nil || !CheckPassword(hash, password) || u.Disabled {
		if err := s.store.RecordLoginFailure(ctx, email, client); err != nil {
			return "", "", err
		}
		return "", "", errs.E(errs.Unauthorized, "wrong e-mail or password")
	}
	if err := s.store.ClearLoginFailures(ctx, email, client); err != nil {
		return "", "", err
	}
	session = NewSecret("", 32)
	csrf = NewSecret("", 24)
	if err := s.store.CreateSession(ctx, HashSecret(session), u.ID, csrf, s.now().Add(SessionLifetime)); err != nil {
		return "", "", err
	}
	return session, csrf, nil
}

// Session resolves a session cookie to its caller and CSRF token.
func (s *Service) Session(ctx context.Context, session string) (*Principal, string, error) {
	if session == "" {
		return nil, "", errs.E(errs.Unauthorized, "not logged in")
	}
	uid, csrf, err := s.store.SessionByHash(ctx, HashSecret(session))
	if err != nil {
		return nil, "", err
	}
	u, err := s.store.UserByID(ctx, uid)
	if err != nil {
		return nil, "", errs.E(errs.Unauthorized, "not logged in")
	}
	p, err := s.principal(ctx, u)
	return p, csrf, err
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, session string) error {
	return s.store.DeleteSession(ctx, HashSecret(session))
}

// Authenticate resolves an API bearer token to its caller.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, errs.E(errs.Unauthorized, "not a vernetzen API token")
	}
	t, err := s.store.TokenByHash(ctx, HashSecret(token))
	if err != nil {
		return nil, err
	}
	if t.ExpiresAt != nil && s.now().After(*t.ExpiresAt) {
		return nil, errs.E(errs.Unauthorized, "the token has expired")
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, errs.E(errs.Unauthorized, "unknown token")
	}
	return s.principal(ctx, u)
}

// TokenPrefix starts every API token, so that leaked tokens are easy to
// find by secret scanners.
const TokenPrefix = "vzt_"

// mayManageUser reports whether the caller administers a unit the user
// holds a grant on, or is the system. A user without grants may be managed
// by any admin (it was just created, or lost its grants).
func (s *Service) mayManageUser(ctx context.Context, p *Principal, userID int64) (User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return u, err
	}
	if p.System || p.User.ID == userID {
		return u, nil
	}
	if !p.CanAnywhere(ManageAccess) {
		return User{}, errs.E(errs.NotFound, "user %d not found", userID)
	}
	grants, err := s.store.GrantsOfUser(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if len(grants) == 0 {
		return u, nil
	}
	for _, g := range grants {
		if p.Can(ManageAccess, g.UnitPath) {
			return u, nil
		}
	}
	return User{}, errs.E(errs.NotFound, "user %d not found", userID)
}

// Users lists the users an admin may manage, with their grants.
func (s *Service) Users(ctx context.Context, p *Principal) ([]User, error) {
	if !p.CanAnywhere(ManageAccess) {
		return nil, errs.E(errs.Forbidden, "only admins list users")
	}
	all, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	grants, err := s.store.Grants(ctx, nil)
	if err != nil {
		return nil, err
	}
	byUser := map[int64][]Grant{}
	for _, g := range grants {
		byUser[g.UserID] = append(byUser[g.UserID], g)
	}
	var out []User
	for _, u := range all {
		gs := byUser[u.ID]
		visible := p.System || len(gs) == 0 || u.ID == p.User.ID
		for _, g := range gs {
			if p.Can(ManageAccess, g.UnitPath) {
				visible = true
			}
		}
		if visible {
			u.Grants = gs
			out = append(out, u)
		}
	}
	return out, nil
}

// User returns one user the caller may manage (or the caller itself).
func (s *Service) User(ctx context.Context, p *Principal, id int64) (User, error) {
	u, err := s.mayManageUser(ctx, p, id)
	if err != nil {
		return u, err
	}
	u.Grants, err = s.store.GrantsOfUser(ctx, id)
	return u, err
}

// UserInput is a new user.
type UserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// CreateUser adds a user. Without a password one is generated and
// returned (shown once).
func (s *Service) CreateUser(ctx context.Context, p *Principal, in UserInput) (User, string, error) {
	if !p.CanAnywhere(ManageAccess) {
		return User{}, "", errs.E(errs.Forbidden, "only admins add users")
	}
	email, err := normaliseEmail(in.Email)
	if err != nil {
		return User{}, "", err
	}
	password := in.Password
	if password == "" {
		password = GeneratePassword()
	} else if err := checkPasswordStrength(password); err != nil {
		return User{}, "", err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, "", err
	}
	u := User{Email: email, Name: strings.TrimSpace(in.Name)}
	if err := s.store.CreateUser(ctx, &u, hash); err != nil {
		return User{}, "", err
	}
	return u, password, nil
}

func checkPasswordStrength(pw string) error {
	if len(pw) < 10 {
		return errs.Field("password", "a password needs at least 10 characters")
	}
	if len(pw) > 1024 {
		return errs.Field("password", "a password has at most 1024 characters")
	}
	return nil
}

// UserPatch changes a user; nil fields stay.
type UserPatch struct {
	Name     *string `json:"name"`
	Password *string `json:"password"`
	Disabled *bool   `json:"disabled"`
}

// UpdateUser changes a user the caller manages, or the caller itself
// (name and password only).
func (s *Service) UpdateUser(ctx context.Context, p *Principal, id int64, patch UserPatch) (User, error) {
	u, err := s.mayManageUser(ctx, p, id)
	if err != nil {
		return u, err
	}
	if patch.Name != nil {
		u.Name = strings.TrimSpace(*patch.Name)
	}
	if patch.Disabled != nil {
		if id == p.User.ID && !p.System {
			return User{}, errs.Field("disabled", "you can't disable yourself")
		}
		if !p.System && !p.CanAnywhere(ManageAccess) {
			return User{}, errs.E(errs.Forbidden, "only admins disable users")
		}
		u.Disabled = *patch.Disabled
	}
	hash := ""
	if patch.Password != nil {
		if err := checkPasswordStrength(*patch.Password); err != nil {
			return User{}, err
		}
		if hash, err = HashPassword(*patch.Password); err != nil {
			return User{}, err
		}
	}
	if err := s.store.UpdateUser(ctx, u, hash); err != nil {
		return User{}, err
	}
	return s.User(ctx, p, id)
}

// DeleteUser removes a user the caller manages.
func (s *Service) DeleteUser(ctx context.Context, p *Principal, id int64) error {
	if id == p.User.ID && !p.System {
		return errs.E(errs.Conflict, "you can't delete yourself")
	}
	if !p.CanAnywhere(ManageAccess) {
		return errs.E(errs.Forbidden, "only admins delete users")
	}
	if _, err := s.mayManageUser(ctx, p, id); err != nil {
		return err
	}
	return s.store.DeleteUser(ctx, id)
}

// Grants lists the grants on units the caller administers.
func (s *Service) Grants(ctx context.Context, p *Principal) ([]Grant, error) {
	if !p.CanAnywhere(ManageAccess) {
		return nil, errs.E(errs.Forbidden, "only admins list grants")
	}
	return s.store.Grants(ctx, p.Scope(ManageAccess))
}

// GrantInput is a new grant.
type GrantInput struct {
	User string `json:"user"` // e-mail
	Unit string `json:"unit"` // unit key
	Role Role   `json:"role"`
}

// Grant gives a user a role on a unit the caller administers.
func (s *Service) Grant(ctx context.Context, p *Principal, in GrantInput) (Grant, error) {
	if !p.CanAnywhere(ManageAccess) {
		return Grant{}, errs.E(errs.Forbidden, "only admins grant roles")
	}
	if !in.Role.Valid() {
		return Grant{}, errs.Field("role", "%q is not a role (admin, manager, editor, agent, sales, viewer)", in.Role)
	}
	email := strings.ToLower(strings.TrimSpace(in.User))
	u, _, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Grant{}, errs.Field("user", "user %q not found", in.User)
		}
		return Grant{}, err
	}
	unit, err := s.store.UnitRefByKey(ctx, in.Unit)
	if err != nil || !p.Can(ManageAccess, unit.Path) {
		if err == nil || errs.Is(err, errs.NotFound) {
			return Grant{}, errs.Field("unit", "unit %q not found", in.Unit)
		}
		return Grant{}, err
	}
	g := Grant{UserID: u.ID, UserEmail: u.Email, UnitID: unit.ID, Unit: unit.Key, UnitPath: unit.Path, Role: in.Role}
	if err := s.store.CreateGrant(ctx, &g); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// Revoke deletes a grant on a unit the caller administers.
func (s *Service) Revoke(ctx context.Context, p *Principal, id int64) error {
	g, err := s.store.GrantByID(ctx, id)
	if err != nil {
		return err
	}
	if !p.Can(ManageAccess, g.UnitPath) {
		return errs.E(errs.NotFound, "grant %d not found", id)
	}
	return s.store.DeleteGrant(ctx, id)
}

// TokenInput asks for a new API token.
type TokenInput struct {
	Name      string     `json:"name"`
	User      string     `json:"user"` // e-mail; empty: the caller
	ExpiresAt *time.Time `json:"expires_at"`
}

// CreateToken makes an API token for the caller, or for a user an admin
// manages. The secret is returned once; only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, p *Principal, in TokenInput) (Token, string, error) {
	uid := p.User.ID
	if in.User != "" && !strings.EqualFold(in.User, p.User.Email) {
		u, _, err := s.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(in.User)))
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return Token{}, "", errs.Field("user", "user %q not found", in.User)
			}
			return Token{}, "", err
		}
		if !p.System && !p.CanAnywhere(ManageAccess) {
			return Token{}, "", errs.E(errs.Forbidden, "only admins make tokens for others")
		}
		if _, err := s.mayManageUser(ctx, p, u.ID); err != nil {
			return Token{}, "", errs.Field("user", "user %q not found", in.User)
		}
		uid = u.ID
	}
	if uid == 0 {
		return Token{}, "", errs.Field("user", "name the user the token is for")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "API token"
	}
	if len(name) > 100 {
		return Token{}, "", errs.Field("name", "a token's name has at most 100 characters")
	}
	if in.ExpiresAt != nil && in.ExpiresAt.Before(s.now()) {
		return Token{}, "", errs.Field("expires_at", "the expiry is in the past")
	}
	secret := NewSecret(TokenPrefix, 32)
	t := Token{UserID: uid, Name: name, Prefix: secret[:len(TokenPrefix)+6], ExpiresAt: in.ExpiresAt}
	if err := s.store.CreateToken(ctx, &t, HashSecret(secret)); err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// Tokens lists the caller's own tokens.
func (s *Service) Tokens(ctx context.Context, p *Principal) ([]Token, error) {
	return s.store.Tokens(ctx, p.User.ID)
}

// RevokeToken deletes one of the caller's tokens, or one of a managed user's.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id int64) error {
	t, err := s.store.TokenByID(ctx, id)
	if err != nil {
		return err
	}
	if t.UserID != p.User.ID {
		if !p.CanAnywhere(ManageAccess) {
			return errs.E(errs.NotFound, "token %d not found", id)
		}
		if _, err := s.mayManageUser(ctx, p, t.UserID); err != nil {
			return errs.E(errs.NotFound, "token %d not found", id)
		}
	}
	return s.store.DeleteToken(ctx, id)
}
