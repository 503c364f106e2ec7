package web

import (
	"net/http"
	"strconv"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

type uiUsersData struct {
	uiPage
	Users   []access.User
	Self    int64
	Add     *uiForm
	GrantF  *uiForm
	Emails  []uiOption
	Units   []uiOption
	Roles   []uiOption
	Error   string // of a row action (revoke, disable)
	Created *uiCreatedUser
}

// uiCreatedUser is a just-added user whose generated password is shown
// this once; it is stored only as a hash.
type uiCreatedUser struct {
	Email    string
	Password string
}

var uiUserFields = []string{"email", "name", "password"}
var uiGrantFields = []string{"user", "unit", "role"}

// uiAdmin refuses the page to callers who administer no unit.
func uiAdmin(p *access.Principal) error {
	if !p.CanAnywhere(access.ManageAccess) {
		return errs.E(errs.Forbidden, "the users and access page is for admins")
	}
	return nil
}

// uiLoadUsers builds the users page; forms start empty.
func (s *Server) uiLoadUsers(w http.ResponseWriter, r *http.Request, p *access.Principal) (*uiUsersData, error) {
	ctx := r.Context()
	users, err := s.Access.Users(ctx, p)
	if err != nil {
		return nil, err
	}
	tree, err := s.Org.Tree(ctx, p)
	if err != nil {
		return nil, err
	}
	d := &uiUsersData{uiPage: s.uiBase(r, "Users and access", "users"), Users: users, Self: p.User.ID,
		Add: newUIForm("user"), GrantF: newUIForm("grant"),
		Units: uiUnitOptions(tree, p, access.ManageAccess, "", "Choose a unit…")}
	d.Emails = []uiOption{{Value: "", Label: "Choose a user…"}}
	for _, u := range users {
		label := u.Email
		if u.Name != "" && u.Name != u.Email {
			label += " (" + u.Name + ")"
		}
		d.Emails = append(d.Emails, uiOption{Value: u.Email, Label: label})
	}
	d.Roles = []uiOption{{Value: "", Label: "Choose a role…"}}
	for _, role := range access.Roles {
		d.Roles = append(d.Roles, uiOption{Value: string(role), Label: string(role)})
	}
	d.GrantF.Values["role"] = string(access.RoleViewer)
	s.uiTakeFlash(w, r, &d.uiPage)
	return d, nil
}

func (s *Server) uiUsers(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if err := uiAdmin(p); err != nil {
		return err
	}
	d, err := s.uiLoadUsers(w, r, p)
	if err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "users", d)
	return nil
}

// uiUsersAgain shows the users page after a POST: with a failed form
// (status from the error), or with a result that must not go through a
// redirect (the generated password).
func (s *Server) uiUsersAgain(w http.ResponseWriter, r *http.Request, p *access.Principal, status int, apply func(d *uiUsersData)) error {
	d, err := s.uiLoadUsers(w, r, p)
	if err != nil {
		return err
	}
	apply(d)
	s.uiRender(w, r, status, "users", d)
	return nil
}

func (s *Server) uiUserCreate(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if err := uiAdmin(p); err != nil {
		return err
	}
	f := newUIForm("user").fill(r, "email", "name")
	u, password, err := s.Access.CreateUser(r.Context(), p, access.UserInput{Email: f.Values["email"], Name: f.Values["name"], Password: r.PostFormValue("password")})
	if err != nil {
		if !uiFormFailure(err) {
			return err
		}
		if errs.Is(err, errs.Conflict) {
			err = &errs.Error{Code: errs.Conflict, Field: "email", Message: s.publicError(r, err).Message}
		}
		f.fail(s, r, err, uiUserFields...)
		return s.uiUsersAgain(w, r, p, statusOf(err), func(d *uiUsersData) { d.Add = f })
	}
	// Rendered, not redirected: a generated password is shown this once
	// and must not travel in a cookie or a URL.
	return s.uiUsersAgain(w, r, p, http.StatusOK, func(d *uiUsersData) {
		d.Flash, d.FlashKind = "Added "+u.Email+". Grant a role below so that they can see units.", "ok"
		if r.PostFormValue("password") == "" {
			d.Created = &uiCreatedUser{Email: u.Email, Password: password}
		}
		d.GrantF.Values["user"] = u.Email
	})
}

func (s *Server) uiUserStatus(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if err := uiAdmin(p); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "user not found")
	}
	disabled := r.PostFormValue("disabled") == "true"
	u, err := s.Access.UpdateUser(r.Context(), p, id, access.UserPatch{Disabled: &disabled})
	if err != nil {
		if !uiFormFailure(err) {
			return err
		}
		return s.uiUsersAgain(w, r, p, statusOf(err), func(d *uiUsersData) { d.Error = s.publicError(r, err).Message })
	}
	if disabled {
		s.uiSetFlash(w, "Disabled "+u.Email+": they can no longer log in or use their tokens.")
	} else {
		s.uiSetFlash(w, "Enabled "+u.Email+".")
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return nil
}

func (s *Server) uiGrant(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if err := uiAdmin(p); err != nil {
		return err
	}
	f := newUIForm("grant").fill(r, uiGrantFields...)
	g, err := s.Access.Grant(r.Context(), p, access.GrantInput{User: f.Values["user"], Unit: f.Values["unit"], Role: access.Role(f.Values["role"])})
	if err != nil {
		if !uiFormFailure(err) {
			return err
		}
		f.fail(s, r, err, uiGrantFields...)
		return s.uiUsersAgain(w, r, p, statusOf(err), func(d *uiUsersData) { d.GrantF = f })
	}
	s.uiSetFlash(w, "Granted "+string(g.Role)+" on "+g.Unit+" to "+g.UserEmail+".")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return nil
}

func (s *Server) uiRevoke(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if err := uiAdmin(p); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "grant not found")
	}
	if err := s.Access.Revoke(r.Context(), p, id); err != nil {
		return err
	}
	s.uiSetFlash(w, "Revoked the grant.")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return nil
}
