package web

import (
	"net/http"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

type uiLoginData struct {
	uiPage
	Form *uiForm
	Next string
}

func (s *Server) uiLoginPage(w http.ResponseWriter, r *http.Request) {
	next := uiLocalPath(r.URL.Query().Get("next"), "")
	if ar := s.uiOptionalPrincipal(r); principalOf(ar) != nil {
		http.Redirect(w, r, uiLocalPath(next, "/directory"), http.StatusSeeOther)
		return
	}
	d := uiLoginData{uiPage: s.uiBase(r, "Log in", "login"), Form: newUIForm("login"), Next: next}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "login", d)
}

// uiLogin checks the password and opens a session. There is no session
// yet to hold a CSRF token, so a cross-site login (logging the victim in
// as the attacker) is refused by the Origin check and by SameSite=Lax.
func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.uiError(w, r, errs.Field("body", "the form could not be read"))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		if strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://") != r.Host {
			s.uiError(w, r, errs.E(errs.Forbidden, "the login form came from another site"))
			return
		}
	}
	f := newUIForm("login").fill(r, "email")
	next := uiLocalPath(r.PostFormValue("next"), "")
	password := r.PostFormValue("password")
	status := http.StatusOK
	switch {
	case f.Values["email"] == "":
		f.Errors["email"] = "enter your e-mail address"
		status = http.StatusBadRequest
	case password == "":
		f.Errors["password"] = "enter your password"
		status = http.StatusBadRequest
	default:
		session, _, err := s.Access.Login(r.Context(), f.Values["email"], password, clientIP(r, s.TrustedProxies))
		if err == nil {
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: session, Path: "/", HttpOnly: true,
				Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
			http.Redirect(w, r, uiLocalPath(next, "/directory"), http.StatusSeeOther)
			return
		}
		// Wrong password and throttling both say so above the form: which
		// field was wrong is not told, so the form can't probe accounts.
		e := s.publicError(r, err)
		f.Errors[""] = e.Message
		status = statusOf(e)
	}
	d := uiLoginData{uiPage: s.uiBase(r, "Log in", "login"), Form: f, Next: next}
	s.uiRender(w, r, status, "login", d)
}

func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request, _ *access.Principal) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.Access.Logout(r.Context(), c.Value); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	s.uiSetFlash(w, "You are logged out.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
