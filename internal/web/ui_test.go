package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/org"
)

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so that tests see the pages' 303s and where they point.
type browser struct {
	t    *testing.T
	e    *testEnv
	c    *http.Client
	csrf string
}

func (e *testEnv) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// do sends a request and returns the status, the Location and the body.
func (b *browser) do(method, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.http.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if m := csrfMeta.FindSubmatch(data); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	st, _, body := b.do("GET", path, nil)
	return st, body
}

// post sends a form with the page's CSRF token.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	if b.csrf == "" {
		b.t.Fatal("no CSRF token yet: GET a page first")
	}
	f := url.Values{"csrf": {b.csrf}}
	for k, v := range form {
		f[k] = v
	}
	return b.do("POST", path, f)
}

// login logs in with the test password and loads the directory, which
// gives the CSRF token.
func (b *browser) login(email string) {
	b.t.Helper()
	st, loc, body := b.do("POST", "/login", url.Values{"email": {email}, "password": {"password-" + email}})
	if st != http.StatusSeeOther || loc != "/directory" {
		b.t.Fatalf("login %s: %d %q\n%s", email, st, loc, body)
	}
	if st, body := b.get("/directory"); st != 200 {
		b.t.Fatalf("directory after login: %d\n%s", st, body)
	}
}

func (e *testEnv) channelID(unit, platform string) int64 {
	e.t.Helper()
	list, _, err := e.org.Channels(context.Background(), access.SystemPrincipal(), org.ChannelFilter{Unit: unit, Platform: platform})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range list {
		if c.Unit == unit {
			return c.ID
		}
	}
	e.t.Fatalf("no %s channel of unit %s", platform, unit)
	return 0
}

func TestUILogin(t *testing.T) {
	e := newTestEnv(t)
	e.user("anna@example.com", "mini", access.RoleManager)

	t.Run("anonymous pages redirect to login with next", func(t *testing.T) {
		b := e.browser()
		st, loc, _ := b.do("GET", "/units/mini?platform=x", nil)
		if st != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/units/mini?platform=x") {
			t.Fatalf("got %d %q", st, loc)
		}
		if st, loc, _ := b.do("GET", "/", nil); st != http.StatusSeeOther || loc != "/hub" {
			t.Fatalf("/ anonymous: %d %q", st, loc)
		}
	})

	t.Run("good password", func(t *testing.T) {
		b := e.browser()
		if st, body := b.get("/login"); st != 200 || !strings.Contains(body, `name="password"`) {
			t.Fatalf("login page: %d", st)
		}
		st, loc, _ := b.do("POST", "/login", url.Values{"email": {"Anna@Example.com"}, "password": {"password-anna@example.com"}, "next": {"/units/mini"}})
		if st != http.StatusSeeOther || loc != "/units/mini" {
			t.Fatalf("got %d %q", st, loc)
		}
		u, _ := url.Parse(e.http.URL)
		var session *http.Cookie
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == sessionCookie {
				session = c
			}
		}
		if session == nil || session.Value == "" {
			t.Fatal("no session cookie")
		}
		st, body := b.get("/directory")
		if st != 200 || !strings.Contains(body, "anna@example.com") || !strings.Contains(body, `action="/logout"`) {
			t.Fatalf("directory: %d", st)
		}
		if st, loc, _ := b.do("GET", "/", nil); st != http.StatusSeeOther || loc != "/directory" {
			t.Fatalf("/ logged in: %d %q", st, loc)
		}
	})

	t.Run("cookie flags", func(t *testing.T) {
		e.server.SecureCookies = true
		defer func() { e.server.SecureCookies = false }()
		req, _ := http.NewRequest("POST", e.http.URL+"/login", strings.NewReader(url.Values{"email": {"anna@example.com"}, "password": {"password-anna@example.com"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultTransport.RoundTrip(req) // no redirects, no jar: the raw Set-Cookie
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var c *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == sessionCookie {
				c = k
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !c.Secure {
			t.Fatalf("session cookie %+v", c)
		}
	})

	t.Run("open redirect refused", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
			b := e.browser()
			_, loc, _ := b.do("POST", "/login", url.Values{"email": {"anna@example.com"}, "password": {"password-anna@example.com"}, "next": {next}})
			if loc != "/directory" {
				t.Errorf("next=%q redirected to %q", next, loc)
			}
		}
	})

	t.Run("wrong password, then throttled", func(t *testing.T) {
		e.user("bert@example.com", "mini", access.RoleViewer)
		b := e.browser()
		for i := 1; i <= access.MaxLoginFailures; i++ {
			st, _, body := b.do("POST", "/login", url.Values{"email": {"bert@example.com"}, "password": {"wrong password"}})
			if st != http.StatusUnauthorized || !strings.Contains(body, "wrong e-mail or password") || !strings.Contains(body, `value="bert@example.com"`) {
				t.Fatalf("attempt %d: %d", i, st)
			}
		}
		// The 6th attempt is refused even with the right password.
		st, _, body := b.do("POST", "/login", url.Values{"email": {"bert@example.com"}, "password": {"password-bert@example.com"}})
		if st != http.StatusTooManyRequests || !strings.Contains(body, "too many failed logins") {
			t.Fatalf("6th attempt: %d\n%s", st, body)
		}
	})

	t.Run("logout ends the session", func(t *testing.T) {
		b := e.browser()
		b.login("anna@example.com")
		st, loc, _ := b.post("/logout", nil)
		if st != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("logout: %d %q", st, loc)
		}
		if st, loc, _ := b.do("GET", "/directory", nil); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Fatalf("after logout: %d %q", st, loc)
		}
	})
}

func TestUICSRF(t *testing.T) {
	e := newTestEnv(t)
	e.user("anna@example.com", "mini", access.RoleManager)
	b := e.browser()
	b.login("anna@example.com")
	form := url.Values{"unit": {"mini"}, "platform": {"instagram"}, "handle": {"mini"}}

	st, _, body := b.do("POST", "/channels", form)
	if st != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Fatalf("without token: %d\n%s", st, body)
	}
	bad := url.Values{"csrf": {strings.Repeat("x", len(b.csrf))}}
	for k, v := range form {
		bad[k] = v
	}
	if st, _, _ := b.do("POST", "/channels", bad); st != http.StatusForbidden {
		t.Fatalf("with a wrong token: %d", st)
	}
	if _, n, _ := e.org.Channels(context.Background(), access.SystemPrincipal(), org.ChannelFilter{Platform: "instagram", Unit: "mini"}); n != 0 {
		t.Fatalf("a refused form created %d channels", n)
	}

	st, loc, body := b.post("/channels", form)
	if st != http.StatusSeeOther || loc != "/units/mini" {
		t.Fatalf("with token: %d %q\n%s", st, loc, body)
	}
	st, body = b.get("/units/mini")
	if st != 200 || !strings.Contains(body, "https://www.instagram.com/mini") || !strings.Contains(body, "Added channel MINI on Instagram") {
		t.Fatalf("unit page after create: %d\n%s", st, body)
	}
}

func TestUIScope(t *testing.T) {
	e := newTestEnv(t)
	e.user("mini@example.com", "mini", access.RoleManager)
	b := e.browser()
	b.login("mini@example.com")

	st, body := b.get("/directory")
	if st != 200 {
		t.Fatalf("directory: %d", st)
	}
	for _, want := range []string{
		`href="/units/mini"`, `href="/units/mini-space"`, `href="/units/mini-united"`,
		`href="https://www.facebook.com/MINI"`, `href="https://www.facebook.com/MINI.SPACE"`,
		`href="https://www.facebook.com/MINI.UNITED"`, `href="https://x.com/mini"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("directory lacks %s", want)
		}
	}
	for _, not := range []string{"BMW Motorrad", `href="/units/bmw"`, "facebook.com/BMW", "Rolls", "BMW Group"} {
		if strings.Contains(body, not) {
			t.Errorf("directory of a MINI manager shows %q", not)
		}
	}

	// Filter: only X.
	st, body = b.get("/directory?platform=x")
	if st != 200 || !strings.Contains(body, `href="https://x.com/mini"`) || strings.Contains(body, "facebook.com/MINI.SPACE") {
		t.Fatalf("filtered directory: %d", st)
	}
	if st, body = b.get("/directory?q=space"); !strings.Contains(body, "MINI.SPACE") || strings.Contains(body, "MINI.UNITED") {
		t.Fatalf("searched directory: %d", st)
	}
	if st, _ = b.get("/directory?platform=myspace"); st != http.StatusBadRequest {
		t.Fatalf("unknown platform filter: %d", st)
	}
	// htmx's live filter gets the results alone, without the layout.
	req, _ := http.NewRequest("GET", e.http.URL+"/directory?q=united", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "results")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	frag, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(frag), "<html") || !strings.Contains(string(frag), "MINI.UNITED") ||
		strings.Contains(string(frag), "MINI.SPACE") {
		t.Fatalf("htmx fragment: %d\n%s", resp.StatusCode, frag)
	}

	// A BMW channel looks exactly like one that does not exist.
	bmw := e.channelID("bmw", "facebook")
	st, outside := b.get("/channels/" + strconv.FormatInt(bmw, 10))
	if st != http.StatusNotFound {
		t.Fatalf("BMW channel: %d", st)
	}
	_, missing := b.get("/channels/999999")
	if outside != missing {
		t.Error("a channel outside the scope answers differently from a missing one")
	}
	for _, path := range []string{"/channels/" + strconv.FormatInt(bmw, 10), "/channels/" + strconv.FormatInt(bmw, 10) + "/retire", "/channels/" + strconv.FormatInt(bmw, 10) + "/delete"} {
		if st, _, _ := b.post(path, url.Values{"name": {"hacked"}, "confirm": {"yes"}}); st != http.StatusNotFound {
			t.Errorf("POST %s: %d", path, st)
		}
	}
	if st, _ = b.get("/units/bmw"); st != http.StatusNotFound {
		t.Errorf("BMW unit: %d", st)
	}
	if c, err := e.org.Channel(context.Background(), access.SystemPrincipal(), bmw); err != nil || c.Status != org.StatusActive || c.Name == "hacked" {
		t.Errorf("BMW channel changed: %+v %v", c, err)
	}

	// Their own channel: page, edit, retire.
	mini := e.channelID("mini", "x")
	id := strconv.FormatInt(mini, 10)
	if st, body = b.get("/channels/" + id); st != 200 || !strings.Contains(body, "Edit this channel") {
		t.Fatalf("own channel: %d", st)
	}
	st, loc, _ := b.post("/channels/"+id, url.Values{"unit": {"mini"}, "platform": {"x"}, "url": {"www.twitter.com/mini"}, "handle": {"mini"},
		"name": {"MINI on X"}, "status": {"paused"}, "notes": {"renamed"}})
	if st != http.StatusSeeOther {
		t.Fatalf("edit: %d", st)
	}
	if st, body = b.get(loc); !strings.Contains(body, "MINI on X") || !strings.Contains(body, "paused") {
		t.Fatalf("after edit: %d", st)
	}
	if st, _, _ = b.post("/channels/"+id+"/retire", nil); st != http.StatusSeeOther {
		t.Fatalf("retire: %d", st)
	}
	if c, _ := e.org.Channel(context.Background(), access.SystemPrincipal(), mini); c.Status != org.StatusRetired {
		t.Fatalf("status after retire: %s", c.Status)
	}
	// Delete needs the confirmation box.
	if st, _, body = b.post("/channels/"+id+"/delete", nil); st != http.StatusBadRequest || !strings.Contains(body, "tick the box") {
		t.Fatalf("delete unconfirmed: %d", st)
	}
	if st, loc, _ = b.post("/channels/"+id+"/delete", url.Values{"confirm": {"yes"}}); st != http.StatusSeeOther || loc != "/units/mini" {
		t.Fatalf("delete: %d %q", st, loc)
	}
}

// fieldError returns the error shown beside a form field (by its id).
func fieldError(body, id string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestUIChannelFormErrors(t *testing.T) {
	e := newTestEnv(t)
	e.user("mini@example.com", "mini", access.RoleManager)
	b := e.browser()
	b.login("mini@example.com")

	st, body := b.get("/channels/new?unit=mini-space")
	if st != 200 || !strings.Contains(body, `<option value="mini-space" selected>`) || strings.Contains(body, `value="bmw"`) {
		t.Fatalf("new channel form: %d", st)
	}

	st, _, body = b.post("/channels", url.Values{"unit": {"mini"}, "platform": {"facebook"}, "url": {"not a url"}, "name": {"Keep me"}})
	if st != http.StatusBadRequest {
		t.Fatalf("bad url: %d", st)
	}
	if msg := fieldError(body, "channel-url"); !strings.Contains(msg, "not a web address") {
		t.Errorf("url error beside the field: %q\n%s", msg, body)
	}
	if !strings.Contains(body, `value="not a url"`) || !strings.Contains(body, `value="Keep me"`) {
		t.Error("the form lost the user's input")
	}
	if fieldError(body, "channel-name") != "" {
		t.Error("an error beside a field that is fine")
	}

	st, _, body = b.post("/channels", url.Values{"unit": {"mini"}, "platform": {"facebook"}, "url": {"https://www.facebook.com/mini.space/"}})
	if st != http.StatusConflict || !strings.Contains(fieldError(body, "channel-url"), "already registered") {
		t.Errorf("duplicate: %d %q", st, fieldError(body, "channel-url"))
	}

	st, _, body = b.post("/channels", url.Values{"unit": {"mini"}, "platform": {"myspace"}, "handle": {"x"}})
	if st != http.StatusBadRequest || !strings.Contains(fieldError(body, "channel-platform"), "unknown platform") {
		t.Errorf("platform: %d %q", st, fieldError(body, "channel-platform"))
	}

	// A unit outside the scope is "not found" beside the unit select.
	st, _, body = b.post("/channels", url.Values{"unit": {"bmw"}, "platform": {"instagram"}, "handle": {"bmw_new"}})
	if st != http.StatusBadRequest || !strings.Contains(fieldError(body, "channel-unit"), "not found") {
		t.Errorf("unit outside scope: %d %q", st, fieldError(body, "channel-unit"))
	}

	// Unit forms: a taken key beside the key, delete refused with children.
	st, _, body = b.post("/units/mini/children", url.Values{"key": {"bmw"}, "name": {"Clash"}, "kind": {"market"}})
	if st != http.StatusConflict || !strings.Contains(fieldError(body, "child-key"), "taken") {
		t.Errorf("taken key: %d %q", st, fieldError(body, "child-key"))
	}
	st, _, body = b.post("/units/mini/children", url.Values{"key": {"mini-fr"}, "name": {"MINI France"}, "kind": {"market"}, "country": {"XX"}})
	if st != http.StatusBadRequest || fieldError(body, "child-country") == "" {
		t.Errorf("bad country: %d", st)
	}
	st, loc, _ := b.post("/units/mini/children", url.Values{"key": {"mini-fr"}, "name": {"MINI France"}, "kind": {"market"}, "country": {"fr"}, "languages": {"fr"}})
	if st != http.StatusSeeOther || loc != "/units/mini-fr" {
		t.Fatalf("add child: %d %q", st, loc)
	}
	st, _, body = b.post("/units/mini-de/delete", url.Values{"confirm": {"yes"}})
	if st != http.StatusConflict || !strings.Contains(body, "still has") {
		t.Errorf("delete with children: %d", st)
	}
	if st, loc, _ = b.post("/units/mini-fr/delete", url.Values{"confirm": {"yes"}}); st != http.StatusSeeOther || loc != "/units/mini" {
		t.Errorf("delete empty unit: %d %q", st, loc)
	}
	// The manager of mini may not move mini itself (that needs the group).
	if st, body = b.get("/units/mini"); strings.Contains(body, "Move this unit") || !strings.Contains(body, "Edit this unit") {
		t.Errorf("unit page actions: %d", st)
	}
}

func TestUIViewerSeesNoActions(t *testing.T) {
	e := newTestEnv(t)
	e.user("view@example.com", "mini", access.RoleViewer)
	b := e.browser()
	b.login("view@example.com")
	_, body := b.get("/directory")
	if strings.Contains(body, "/channels/new") {
		t.Error("a viewer is offered a new channel")
	}
	_, body = b.get("/units/mini")
	if strings.Contains(body, "Edit this unit") || strings.Contains(body, "New channel") {
		t.Error("a viewer is offered changes")
	}
	if st, _ := b.get("/channels/new"); st != http.StatusForbidden {
		t.Errorf("new channel for a viewer: %d", st)
	}
	if st, _, _ := b.post("/units/mini", url.Values{"name": {"Renamed"}, "kind": {"brand"}}); st != http.StatusForbidden {
		t.Errorf("edit by a viewer: %d", st)
	}
}

func TestHub(t *testing.T) {
	e := newTestEnv(t)
	// Retire one active channel, pause another: neither may show.
	sys := access.SystemPrincipal()
	ctx := context.Background()
	if _, err := e.org.RetireChannel(ctx, sys, e.channelID("careers", "facebook")); err != nil {
		t.Fatal(err)
	}
	paused := org.StatusPaused
	if _, err := e.org.UpdateChannel(ctx, sys, e.channelID("design", "facebook"), org.ChannelPatch{Status: &paused}); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(e.http.URL + "/hub") // anonymous, no cookies
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(data)
	if resp.StatusCode != 200 {
		t.Fatalf("hub: %d", resp.StatusCode)
	}
	for _, want := range []string{
		"Where to find us", ">BMW<", ">MINI<", ">Rolls-Royce Motor Cars<", ">BMW Motorrad<", ">BMW Group<",
		`href="https://www.facebook.com/BMW"`, `href="https://www.facebook.com/MINI"`, `href="https://www.facebook.com/RollsRoyce.Motor.Cars"`,
		`href="https://www.facebook.com/BMW.Motorrad"`, `href="https://www.facebook.com/BMWGroup"`, `href="https://www.facebook.com/BMW.i"`,
		`href="https://www.facebook.com/BMW.Welt"`, `href="https://x.com/mini"`, `href="https://x.com/bmwi"`, `href="https://www.youtube.com/bmw"`,
		`href="https://www.bmw.tv/com"`, `href="https://www.instagram.com/BMW"`, `href="https://m-power.com"`,
		`href="https://social.example/@bmw_de"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("hub lacks %s", want)
		}
	}
	for _, not := range []string{"plus.google.com", "Google+", "Foursquare", "BMW.Karriere", "BMW.Design",
		"own video portal", "demo addition", "owned community for M drivers", "csrf", "/channels/", "/units/", "Simulator"} {
		if strings.Contains(body, not) {
			t.Errorf("hub shows %q", not)
		}
	}
	// The brands' own channels are in their section: MINI's X account
	// sits between the MINI heading and the next brand's.
	mini := strings.Index(body, `id="mini-title"`)
	next := strings.Index(body[mini:], `<section class="brand-card"`)
	if mini < 0 || next < 0 || !strings.Contains(body[mini:mini+next], `href="https://x.com/mini"`) ||
		!strings.Contains(body[mini:mini+next], "MINI.SPACE") {
		t.Error("MINI's section lacks its channels")
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "public") {
		t.Errorf("anonymous hub Cache-Control %q", cc)
	}
}

func TestUIAdmin(t *testing.T) {
	e := newTestEnv(t)
	e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("mini@example.com", "mini", access.RoleManager)

	nb := e.browser()
	nb.login("mini@example.com")
	if st, body := nb.get("/admin/users"); st != http.StatusForbidden || !strings.Contains(body, "for admins") {
		t.Fatalf("non-admin: %d", st)
	}
	if _, body := nb.get("/directory"); strings.Contains(body, `href="/admin/users"`) {
		t.Error("a non-admin sees the Users link")
	}
	if st, _, _ := nb.post("/admin/users", url.Values{"email": {"x@example.com"}}); st != http.StatusForbidden {
		t.Errorf("non-admin adds a user: %d", st)
	}

	b := e.browser()
	b.login("admin@example.com")
	st, body := b.get("/admin/users")
	if st != 200 || !strings.Contains(body, "mini@example.com") || !strings.Contains(body, `href="/admin/users"`) {
		t.Fatalf("admin page: %d", st)
	}

	// Add a user without a password: a generated one is shown once.
	st, _, body = b.post("/admin/users", url.Values{"email": {"new@example.com"}, "name": {"New Person"}})
	if st != 200 {
		t.Fatalf("add user: %d", st)
	}
	m := regexp.MustCompile(`id="new-password">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no generated password shown\n%s", body)
	}
	if _, _, err := e.access.Login(context.Background(), "new@example.com", m[1], "192.0.2.1"); err != nil {
		t.Fatalf("the shown password does not log in: %v", err)
	}
	st, _, body = b.post("/admin/users", url.Values{"email": {"not an address"}})
	if st != http.StatusBadRequest || fieldError(body, "user-email") == "" {
		t.Errorf("bad e-mail: %d", st)
	}
	st, _, body = b.post("/admin/users", url.Values{"email": {"new@example.com"}})
	if st != http.StatusConflict || fieldError(body, "user-email") == "" {
		t.Errorf("duplicate e-mail: %d", st)
	}

	// Grant, then revoke.
	st, _, body = b.post("/admin/grants", url.Values{"user": {"new@example.com"}, "unit": {"bmw"}, "role": {"nobody"}})
	if st != http.StatusBadRequest || fieldError(body, "grant-role") == "" {
		t.Errorf("bad role: %d", st)
	}
	if st, _, body := b.post("/admin/grants", url.Values{"user": {"new@example.com"}, "unit": {"bmw"}, "role": {"editor"}}); st != http.StatusSeeOther {
		t.Fatalf("grant: %d\n%s", st, body)
	}
	_, body = b.get("/admin/users")
	m = regexp.MustCompile(`action="/admin/grants/(\d+)/revoke"[^>]*data-confirm="Revoke editor on bmw\?"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no revoke button for the new grant")
	}
	if st, _, _ := b.post("/admin/grants/"+m[1]+"/revoke", nil); st != http.StatusSeeOther {
		t.Fatalf("revoke: %d", st)
	}
	if u, _, _ := e.store.UserByEmail(context.Background(), "new@example.com"); true {
		if gs, _ := e.store.GrantsOfUser(context.Background(), u.ID); len(gs) != 0 {
			t.Errorf("grants after revoke: %v", gs)
		}
		// Disable: the user can no longer log in.
		if st, _, _ := b.post("/admin/users/"+strconv.FormatInt(u.ID, 10)+"/status", url.Values{"disabled": {"true"}}); st != http.StatusSeeOther {
			t.Fatalf("disable: %d", st)
		}
		if _, _, err := e.access.Login(context.Background(), "new@example.com", m[1], "192.0.2.1"); err == nil {
			t.Error("a disabled user logs in")
		}
	}
}

func TestUIPagesAndStatic(t *testing.T) {
	e := newTestEnv(t)
	b := e.browser()
	st, body := b.get("/no/such/page")
	if st != http.StatusNotFound || !strings.Contains(body, "Not found") || !strings.Contains(body, "app.css") {
		t.Errorf("404 page: %d", st)
	}
	if st, _, _ := b.do("POST", "/hub", url.Values{}); st != http.StatusMethodNotAllowed {
		t.Errorf("POST /hub: %d", st)
	}
	if st, body = b.get("/api/v1/nothing"); st != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("API 404 is not JSON: %d %s", st, body)
	}
	for _, name := range []string{"app.css", "app.js", "htmx.min.js"} {
		resp, err := http.Get(e.http.URL + uiStaticURL(name))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	if st, _ := b.get("/static/"); st != http.StatusNotFound {
		t.Errorf("static listing: %d", st)
	}
	_, body = b.get("/login")
	if strings.Contains(body, "<script>") {
		t.Error("inline script: the CSP would block it")
	}
}
