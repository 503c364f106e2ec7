package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// routesUI registers the HTML pages. Every page calls the same service
// methods as the JSON API; the handlers only translate between forms and
// service inputs, and between service errors and re-rendered forms.
func (s *Server) routesUI() {
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", uiStaticHandler()))

	s.mux.HandleFunc("GET /{$}", s.uiRoot)
	s.mux.HandleFunc("GET /login", s.uiLoginPage)
	s.mux.HandleFunc("POST /login", s.uiLogin)
	s.uiPageRoute("POST /logout", s.uiLogout)

	s.mux.HandleFunc("GET /hub", s.uiHub)

	s.uiPageRoute("GET /directory", s.uiDirectory)
	s.uiPageRoute("GET /units/{key}", s.uiUnit)
	s.uiPageRoute("POST /units/{key}", s.uiUnitUpdate)
	s.uiPageRoute("POST /units/{key}/children", s.uiUnitCreateChild)
	s.uiPageRoute("POST /units/{key}/move", s.uiUnitMove)
	s.uiPageRoute("POST /units/{key}/delete", s.uiUnitDelete)

	s.uiPageRoute("GET /channels/new", s.uiChannelNew)
	s.uiPageRoute("POST /channels", s.uiChannelCreate)
	s.uiPageRoute("GET /channels/{id}", s.uiChannel)
	s.uiPageRoute("POST /channels/{id}", s.uiChannelUpdate)
	s.uiPageRoute("POST /channels/{id}/retire", s.uiChannelRetire)
	s.uiPageRoute("POST /channels/{id}/delete", s.uiChannelDelete)

	s.uiPageRoute("GET /admin/users", s.uiUsers)
	s.uiPageRoute("POST /admin/users", s.uiUserCreate)
	s.uiPageRoute("POST /admin/users/{id}/status", s.uiUserStatus)
	s.uiPageRoute("POST /admin/grants", s.uiGrant)
	s.uiPageRoute("POST /admin/grants/{id}/revoke", s.uiRevoke)

	s.routesUIConnections()
	s.routesUIPublish()
	s.routesUIInbox()
	s.routesUIInboxSettings()
	s.routesUIInboxTeams()
	s.routesUIAnalytics()

	// Anything else answers the 404 page, so that a mistyped address still
	// shows the navigation. (Not "GET /": it would conflict with the API's
	// "/api/" catch-all, neither pattern being more specific.)
	s.mux.HandleFunc("/", s.uiNotFound)
}

// uiHandler is an HTML handler for a logged-in caller. A returned error
// is shown as the error page (forms handle their own errors and return nil).
type uiHandler func(w http.ResponseWriter, r *http.Request, p *access.Principal) error

// uiPageRoute registers a handler that needs a logged-in caller: it bounds and
// parses the form, resolves the session (checking CSRF on POST) and sends
// anonymous callers to the login page.
func (s *Server) uiPageRoute(pattern string, h uiHandler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !safeMethod(r.Method) {
			// Parse here, under the body limit, so that the CSRF check
			// reads an already parsed form and an oversized body is a
			// 413, not a confusing CSRF failure.
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			if err := r.ParseForm(); err != nil {
				var e error = errs.Field("body", "the form could not be read")
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					e = errs.E(errs.TooLarge, "the form is larger than %d bytes", MaxBodyBytes)
				}
				s.uiError(w, r, e)
				return
			}
		}
		ar, err := s.authenticate(r)
		if err != nil {
			if errs.Is(err, errs.Unauthorized) {
				s.uiRedirectToLogin(w, r)
				return
			}
			s.uiError(w, ar, err)
			return
		}
		if err := h(w, ar, principalOf(ar)); err != nil {
			s.uiError(w, ar, err)
		}
	})
}

// uiOptionalPrincipal resolves the session of a public page's visitor, if
// any, so that the navigation can show who is logged in. It never fails.
func (s *Server) uiOptionalPrincipal(r *http.Request) *http.Request {
	if c, err := r.Cookie(sessionCookie); err != nil || c.Value == "" {
		return r
	}
	ar, err := s.authenticate(r)
	if err != nil {
		return r
	}
	return ar
}

// uiRedirectToLogin sends an anonymous caller to the login page, remembering
// where it wanted to go (GET only: a POST's target is not a page).
func (s *Server) uiRedirectToLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") == "true" {
		// htmx would follow a 303 inside its XHR and swap the login page
		// into a fragment; HX-Redirect makes it load the page instead.
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath returns next when it is a path on this site, else fallback:
// a login link must not send the user to another site (open redirect).
func uiLocalPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

func (s *Server) uiRoot(w http.ResponseWriter, r *http.Request) {
	r = s.uiOptionalPrincipal(r)
	if principalOf(r) != nil {
		http.Redirect(w, r, "/directory", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/hub", http.StatusSeeOther)
}

func (s *Server) uiNotFound(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api" {
		s.apiError(w, r, errs.E(errs.NotFound, "no such API route: %s %s", r.Method, r.URL.Path))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A page that exists for GET answers other methods with 405, as
		// the mux would without this catch-all.
		probe := r.Clone(r.Context())
		probe.Method = http.MethodGet
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
	}
	s.uiError(w, s.uiOptionalPrincipal(r), errs.E(errs.NotFound, "not found"))
}

// uiError shows an error page with the layout. A NotFound always shows
// the same text, whatever the service said, so that an object outside the
// caller's scope looks exactly like one that does not exist.
func (s *Server) uiError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.publicError(r, err)
	status := statusOf(e)
	if e.Code == errs.Unauthorized {
		s.uiRedirectToLogin(w, r)
		return
	}
	d := uiErrorPage{uiPage: s.uiBase(r, "", "")}
	d.Status = status
	switch e.Code {
	case errs.NotFound:
		d.Title, d.Heading = "Not found", "Not found"
		d.Message = "There is nothing at this address, or it is not part of the units you may see."
	case errs.Forbidden:
		d.Title, d.Heading = "Not allowed", "Not allowed"
		d.Message = e.Message
	case errs.Internal:
		d.Title, d.Heading = "Something went wrong", "Something went wrong"
		d.Message = "The server could not complete this request. It has been logged; please try again later."
	default:
		d.Title, d.Heading = http.StatusText(status), http.StatusText(status)
		d.Message = e.Error()
	}
	s.uiRender(w, r, status, "error", d)
}

type uiErrorPage struct {
	uiPage
	Status  int
	Heading string
	Message string
}
