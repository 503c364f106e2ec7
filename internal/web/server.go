// Package web is vernetzen's HTTP side: routes, middleware, the JSON API,
// the server-rendered HTML pages and the static files. The HTML handlers
// and the JSON API call the same service methods; errors from services are
// mapped to HTTP statuses in one place (statusOf).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// MaxBodyBytes bounds every request body; a larger body answers 413.
const MaxBodyBytes = 1 << 20

// Pinger is what /readyz asks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config wires the server to the services.
type Config struct {
	Org    *org.Service
	Access *access.Service
	// Connections links channels to platforms; nil leaves those routes out.
	Connections *connection.Service
	Publish     *publish.Service   // nil leaves the publishing routes out
	Inbox       *inbox.Service     // nil leaves the inbox routes out
	Leads       *leads.Service     // nil leaves the leads routes out
	Analytics   *analytics.Service // nil leaves the analytics routes out
	DB          Pinger
	Log         *slog.Logger
	Version     string
	// SecureCookies marks cookies Secure. On by default; the demo on
	// http://127.0.0.1 turns it off, since browsers drop Secure cookies
	// sent over plain HTTP except on localhost.
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for login throttling); none: the peer is the client.
	TrustedProxies []netip.Prefix
	// Extra mounts more handlers (the simulator platform, webhooks) under
	// the given patterns.
	Extra map[string]http.Handler
}

// Server is the HTTP handler of the hub.
type Server struct {
	Config
	mux     *http.ServeMux
	metrics *metrics
	routes  []route // the API's routes, for the OpenAPI document's test
}

type route struct{ method, pattern string }

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{Config: cfg, mux: http.NewServeMux(), metrics: newMetrics()}
	s.routesOps()
	s.routesAPI()
	s.routesConnections()
	s.routesPublish()
	s.routesInbox()
	s.routesInboxLabels()
	s.routesInboxSettings()
	s.routesInboxTeams()
	s.routesAnalytics()
	s.routesUI()
	for pattern, h := range cfg.Extra {
		s.mux.Handle(pattern, h)
	}
	return s
}

// Handler returns the server's handler with the outer middleware.
func (s *Server) Handler() http.Handler {
	return s.recoverer(s.logRequests(s.mux))
}

// ctxKey keys the request context's values.
type ctxKey int

const (
	keyPrincipal ctxKey = iota
	keyCSRF
)

// principalOf returns the request's caller (nil: anonymous).
func principalOf(r *http.Request) *access.Principal {
	p, _ := r.Context().Value(keyPrincipal).(*access.Principal)
	return p
}

func csrfOf(r *http.Request) string {
	c, _ := r.Context().Value(keyCSRF).(string)
	return c
}

// statusOf maps a service error to an HTTP status: the one place where
// error codes meet HTTP.
func statusOf(err error) int {
	switch errs.CodeOf(err) {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.RateLimited:
		return http.StatusTooManyRequests
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// publicError is the error as the caller may see it: internal errors are
// logged and answered with a generic message.
func (s *Server) publicError(r *http.Request, err error) *errs.Error {
	var e *errs.Error
	if errors.As(err, &e) && e.Code != errs.Internal {
		return e
	}
	s.Log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return &errs.Error{Code: errs.Internal, Message: "internal error; the server log has the details"}
}

// writeJSON answers v as JSON with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// apiError answers an error in the API's shape:
// {"error": {"code": "...", "message": "...", "field": "..."}}.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.publicError(r, err)
	body := map[string]string{"code": string(e.Code), "message": e.Error()}
	if e.Field != "" {
		body["field"] = e.Field
	}
	if e.Code == errs.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vernetzen"`)
	}
	writeJSON(w, statusOf(e), map[string]any{"error": body})
}

// decodeJSON reads a JSON request body into v: at most MaxBodyBytes, no
// unknown fields, exactly one value.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.Field("body", "send JSON (Content-Type: application/json), not %s", ct)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return errs.E(errs.TooLarge, "the request body is larger than %d bytes", MaxBodyBytes)
		case errors.As(err, &typ):
			return errs.Field(typ.Field, "expected %s, got %s", typ.Type, typ.Value)
		case errors.As(err, &syntax):
			return errs.Field("body", "malformed JSON at byte %d", syntax.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errs.Field(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		case err.Error() == "EOF":
			return errs.Field("body", "the request body is empty")
		default:
			return errs.Field("body", "malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return errs.Field("body", "the body holds more than one JSON value")
	}
	return nil
}

// ---- authentication ----

const sessionCookie = "vz_session"

// authenticate puts the caller into the request's context: a bearer token
// for the API, or a session cookie for the pages (and for the API when the
// pages' scripts call it, then with the CSRF check).
func (s *Server) authenticate(r *http.Request) (*http.Request, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return r, errs.E(errs.Unauthorized, "use Authorization: Bearer <token>")
		}
		p, err := s.Access.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.NotFound) {
				return r, errs.E(errs.Unauthorized, "invalid or expired token")
			}
			return r, err
		}
		return r.WithContext(context.WithValue(r.Context(), keyPrincipal, p)), nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return r, errs.E(errs.Unauthorized, "log in or send an API token")
	}
	p, csrf, err := s.Access.Session(r.Context(), c.Value)
	if err != nil {
		if errs.Is(err, errs.Unauthorized) {
			return r, errs.E(errs.Unauthorized, "the session has ended; log in again")
		}
		return r, err
	}
	ctx := context.WithValue(r.Context(), keyPrincipal, p)
	ctx = context.WithValue(ctx, keyCSRF, csrf)
	r = r.WithContext(ctx)
	if !safeMethod(r.Method) && !validCSRF(r, csrf) {
		return r, errs.E(errs.Forbidden, "the form is stale or came from another site (CSRF check failed); reload the page")
	}
	return r, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// validCSRF checks the synchroniser token from the form field or the
// X-CSRF-Token header (htmx sends it), and that a browser's Origin, when
// sent, is this host.
func validCSRF(r *http.Request, want string) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		o := strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")
		if o != r.Host {
			return false
		}
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && len(got) == len(want) && subtleEq(got, want)
}

// api wraps an API handler: it authenticates the caller and answers errors
// as JSON. The route is recorded for the OpenAPI document's test.
func (s *Server) api(method, pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.routes = append(s.routes, route{method, pattern})
	s.mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		r, err := s.authenticate(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.apiError(w, r, err)
		}
	})
}

// ---- operations ----

func (s *Server) routesOps() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.DB.Ping(ctx); err != nil {
			s.Log.Warn("not ready", "err", err)
			http.Error(w, "database unavailable\n", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ready\n"))
	})
	s.mux.HandleFunc("GET /metrics", s.metrics.serve)
}
