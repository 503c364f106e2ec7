package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/org"
)

// The templates and static files are embedded so that the one binary is
// the whole application.
var (
	//go:embed templates
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// uiStaticVersions maps a static file's name to a hash of its content. Pages
// link to /static/NAME?v=HASH, so a file can be cached for a year and a new
// release still reaches every browser at once.
var uiStaticVersions = func() map[string]string {
	m := map[string]string{}
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}()

// uiStaticURL is the versioned address of a static file.
func uiStaticURL(name string) string {
	return "/static/" + name + "?v=" + uiStaticVersions[name]
}

// uiStaticHandler serves the embedded static files: for a year when asked
// by the current version (the URL changes with the content), briefly
// otherwise, and never as a directory listing.
func uiStaticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(r.URL.Path)
		v, ok := uiStaticVersions[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == v {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("ETag", `"`+v+`"`)
		files.ServeHTTP(w, r)
	})
}

// uiFuncs are the helpers the templates may call.
var uiFuncs = template.FuncMap{
	"static":       uiStaticURL,
	"platformName": uiPlatformName,
	"field":        uiNewField,
	"choice":       uiNewChoice,
	"hint":         func(f uiField, h string) uiField { f.Hint = h; return f },
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"followers": uiCount,
	// num shows an optional figure, "—" when there is none.
	"num": func(p *int64) string {
		if p == nil {
			return "—"
		}
		return strconv.FormatInt(*p, 10)
	},
	"percent": func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + " %" },
	// repeat indents a unit in a select by its depth.
	"repeat": func(depth int) string { return strings.Repeat("\u00a0\u00a0", depth) },
	"join":   strings.Join,
	"same":   strings.EqualFold,
	"displayURL": func(u string) string {
		return strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "www.")
	},
}

// uiPages holds one template set per page: the layout and partials cloned,
// plus the page's own file, which defines "content" (and may define more
// blocks that htmx requests render alone).
var uiPages = func() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(uiFuncs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	out := map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		out[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return out
}()

// uiPage is what every page's template gets: the caller and the layout's
// parts. Page data types embed it.
type uiPage struct {
	Title   string
	Section string // which navigation entry is current
	User    *access.User
	Admin   bool // may open the users and access page
	// Which areas this hub serves, for the navigation.
	HasPublish, HasInbox, HasLeads, HasAnalytics bool
	CSRF                                         string
	Flash                                        string
	FlashKind                                    string // "ok" or "error"
	// Notices are the caller's unread notices (a channel needs
	// reconnecting), for the layout's banner.
	Notices []connection.Notice
}

// uiBase builds the common page data from the request's caller.
func (s *Server) uiBase(r *http.Request, title, section string) uiPage {
	pg := uiPage{Title: title, Section: section, CSRF: csrfOf(r),
		HasPublish: s.Publish != nil, HasInbox: s.Inbox != nil, HasLeads: s.Leads != nil, HasAnalytics: s.Analytics != nil}
	if p := principalOf(r); p != nil {
		u := p.User
		pg.User = &u
		pg.Admin = p.CanAnywhere(access.ManageAccess)
		pg.Notices = s.uiNotices(r, p)
	}
	return pg
}

// uiRender executes a page's layout into a buffer first, so that a template
// failure becomes a clean 500 instead of half a page.
func (s *Server) uiRender(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.uiRenderBlock(w, r, status, name, "layout", data)
}

// uiRenderBlock executes one named template of a page: "layout" for the
// full page, or a fragment for htmx.
func (s *Server) uiRenderBlock(w http.ResponseWriter, r *http.Request, status int, name, block string, data any) {
	t, ok := uiPages[name]
	if !ok {
		s.Log.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		s.Log.Error("render page", "page", name, "block", block, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		// Pages carry the caller's data and CSRF token: never cache them.
		h.Set("Cache-Control", "no-store")
	}
	h.Add("Vary", "HX-Request")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// uiHTMXFragment reports whether the request is htmx asking for the element
// with the given id alone. A history restore wants the full page.
func uiHTMXFragment(r *http.Request, target string) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" &&
		r.Header.Get("HX-Target") == target
}

// ---- flash messages ----

const uiFlashCookie = "vz_flash"

// uiSetFlash leaves a one-line message for the page after a redirect (the
// POST-redirect-GET pattern keeps reloads from resubmitting forms).
func (s *Server) uiSetFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: uiFlashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// uiTakeFlash reads and clears the flash message.
func (s *Server) uiTakeFlash(w http.ResponseWriter, r *http.Request, pg *uiPage) {
	c, err := r.Cookie(uiFlashCookie)
	if err != nil || c.Value == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: uiFlashCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	if msg, err := url.QueryUnescape(c.Value); err == nil && len(msg) <= 300 {
		pg.Flash, pg.FlashKind = msg, "ok"
	}
}

// ---- forms ----

// uiForm is one HTML form's state: the values to show (the user's input
// after a failed submit) and an error per field, plus one for the form as
// a whole under the key "".
type uiForm struct {
	ID     string
	Values map[string]string
	Errors map[string]string
}

func newUIForm(id string) *uiForm {
	return &uiForm{ID: id, Values: map[string]string{}, Errors: map[string]string{}}
}

// General is the form-wide error, for errors that name no field of the form.
func (f *uiForm) General() string { return f.Errors[""] }

// fail puts a service error beside its field, or above the form when it
// names no field the form has (fields lists those it has). Internal errors
// are logged and shown without their details.
func (f *uiForm) fail(s *Server, r *http.Request, err error, fields ...string) {
	e := s.publicError(r, err)
	if e.Field != "" && slices.Contains(fields, e.Field) {
		f.Errors[e.Field] = e.Message
		return
	}
	f.Errors[""] = e.Error()
}

// fill copies the named fields from the request's form.
func (f *uiForm) fill(r *http.Request, names ...string) *uiForm {
	for _, n := range names {
		f.Values[n] = strings.TrimSpace(r.PostFormValue(n))
	}
	return f
}

// uiField is one input as a template draws it.
type uiField struct {
	ID, Name, Label, Type, Value, Error, Hint string
	Options                                   []uiOption
}

type uiOption struct {
	Value, Label string
	Selected     bool
	Disabled     bool
}

// uiNewField makes an input for the template: field FORM NAME LABEL TYPE.
func uiNewField(f *uiForm, name, label, typ string) uiField {
	return uiField{ID: f.ID + "-" + name, Name: name, Label: label, Type: typ, Value: f.Values[name], Error: f.Errors[name]}
}

// uiNewChoice makes a select: choice FORM NAME LABEL OPTIONS.
func uiNewChoice(f *uiForm, name, label string, opts []uiOption) uiField {
	fd := uiNewField(f, name, label, "select")
	fd.Options = make([]uiOption, len(opts))
	for i, o := range opts {
		o.Selected = o.Value == fd.Value
		fd.Options[i] = o
	}
	return fd
}

// ---- display helpers ----

func uiPlatformName(key string) string {
	if p, ok := org.PlatformByKey(key); ok {
		return p.Name
	}
	return key
}

// uiCount writes a follower count the short way people read it.
func uiCount(n *int64) string {
	if n == nil {
		return ""
	}
	v := *n
	switch {
	case v >= 1_000_000:
		return strconv.FormatFloat(float64(v)/1_000_000, 'f', 1, 64) + "M"
	case v >= 10_000:
		return strconv.FormatFloat(float64(v)/1_000, 'f', 0, 64) + "k"
	default:
		return strconv.FormatInt(v, 10)
	}
}
