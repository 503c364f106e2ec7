package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/all"
	"github.com/vernetzen/vernetzen/internal/org"
)

func TestUIConnectSimulatorChannel(t *testing.T) {
	e := newTestEnv(t)
	e.user("de@example.com", "bmw-de", access.RoleManager)
	e.user("uk@example.com", "bmw-uk", access.RoleManager)
	e.user("view@example.com", "bmw-de", access.RoleViewer)
	id := e.channelByHandle("simulator", "bmw_de")
	path := fmt.Sprintf("/channels/%d", id)

	b := e.browser()
	b.login("de@example.com")
	st, body := b.get(path)
	if st != 200 || !strings.Contains(body, `id="connection"`) || !strings.Contains(body, "Not connected.") {
		t.Fatalf("panel before connecting: %d\n%s", st, body)
	}
	// The simulator's form starts with the channel's handle.
	if !strings.Contains(body, `id="connect-identifier" name="identifier" type="text" value="bmw_de"`) {
		t.Fatalf("identifier not prefilled:\n%s", body)
	}
	st, loc, _ := b.post(path+"/connect", url.Values{"identifier": {"bmw_de"}})
	if st != http.StatusSeeOther || loc != path+"#connection" {
		t.Fatalf("connect: %d %q", st, loc)
	}
	st, body = b.get(path)
	if st != 200 || !strings.Contains(body, "Connected as <strong class=\"mono\">@bmw_de</strong>") || !strings.Contains(body, "Connected as @bmw_de.") {
		t.Fatalf("panel after connecting: %d\n%s", st, body)
	}
	if !strings.Contains(body, `id="disconnect"`) {
		t.Fatal("no disconnect form")
	}

	// Polling stores messages; the panel counts them and says when.
	ctx := context.Background()
	e.clock.Add(2 * time.Hour)
	e.sim.Advance()
	for i := 0; i < 20; i++ {
		next, err := e.conn.PollOnce(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if next > 0 {
			break
		}
	}
	n, _ := e.store.CountMessages(ctx, id)
	if _, body = b.get(path); n == 0 || !strings.Contains(body, fmt.Sprintf(`<dd id="connection-messages">%d</dd>`, n)) || strings.Contains(body, "<dt>Last polled</dt><dd>—") {
		t.Fatalf("%d messages; panel:\n%s", n, body)
	}

	// A viewer sees the state but no forms.
	v := e.browser()
	v.login("view@example.com")
	if _, body = v.get(path); !strings.Contains(body, "Connected as") || strings.Contains(body, `action="`+path+`/connect"`) || strings.Contains(body, `id="disconnect"`) {
		t.Fatalf("viewer's panel:\n%s", body)
	}
	if st, _, _ = v.post(path+"/disconnect", url.Values{"confirm": {"yes"}}); st != http.StatusForbidden {
		t.Fatalf("viewer disconnects: %d", st)
	}

	// A manager of another unit: the channel does not exist for them.
	o := e.browser()
	o.login("uk@example.com")
	for _, p := range []string{"/connect", "/oauth", "/disconnect"} {
		if st, _, _ = o.post(path+p, url.Values{"identifier": {"bmw_de"}, "confirm": {"yes"}}); st != http.StatusNotFound {
			t.Errorf("out-of-scope POST %s: %d", p, st)
		}
	}

	// Disconnect wants the box ticked.
	if st, _, body = b.post(path+"/disconnect", nil); st != http.StatusBadRequest || !strings.Contains(body, "tick the box") {
		t.Fatalf("unconfirmed disconnect: %d", st)
	}
	if st, loc, _ = b.post(path+"/disconnect", url.Values{"confirm": {"yes"}}); st != http.StatusSeeOther || loc != path+"#connection" {
		t.Fatalf("disconnect: %d %q", st, loc)
	}
	if _, found, _ := e.store.ConnectionByChannel(ctx, id); found {
		t.Fatal("still connected after disconnect")
	}
	if _, body = b.get(path); !strings.Contains(body, "Not connected.") {
		t.Fatal("panel after disconnect")
	}
}

func TestUIConnectErrorsKeepInputButNoSecret(t *testing.T) {
	e := newTestEnv(t)
	e.user("admin@example.com", "group", access.RoleAdmin)
	mastodonID := e.channelByHandle("mastodon", "bmw_de@social.example")
	path := fmt.Sprintf("/channels/%d", mastodonID)
	b := e.browser()
	b.login("admin@example.com")

	st, body := b.get(path)
	if st != 200 || !strings.Contains(body, "Sign in with Mastodon") || !strings.Contains(body, `id="connect-instance_url" name="instance_url" type="text" value="https://social.example"`) {
		t.Fatalf("mastodon panel: %d\n%s", st, body)
	}
	const token = "sekrit-token-4711"
	cases := []struct {
		name   string
		form   url.Values
		code   int
		field  string
		keep   string
		substr string
	}{
		{"plain http", url.Values{"instance_url": {"http://social.example"}, "access_token": {token}}, 400, "connect-instance_url", `value="http://social.example"`, "https"},
		{"no token", url.Values{"instance_url": {"https://social.example"}}, 400, "connect-access_token", `value="https://social.example"`, "token"},
		{"unreachable", url.Values{"instance_url": {"https://127.0.0.1:1"}, "access_token": {token}}, 503, "", `value="https://127.0.0.1:1"`, "could not be reached"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _, body := b.post(path+"/connect", tc.form)
			if st != tc.code {
				t.Fatalf("%d, want %d\n%s", st, tc.code, body)
			}
			if tc.field != "" && !strings.Contains(fieldError(body, tc.field), tc.substr) {
				t.Errorf("error beside %s: %q", tc.field, fieldError(body, tc.field))
			}
			if tc.field == "" && !strings.Contains(body, tc.substr) {
				t.Errorf("no form error %q", tc.substr)
			}
			if !strings.Contains(body, tc.keep) {
				t.Errorf("input lost: %s", tc.keep)
			}
			if strings.Contains(body, token) {
				t.Fatal("the page echoes the token")
			}
			if !strings.Contains(body, `id="connect-access_token" name="access_token" type="password" value=""`) {
				t.Error("the token field is not empty")
			}
		})
	}
	// Bluesky: the app password is never shown again either.
	bc, err := e.org.CreateChannel(context.Background(), access.SystemPrincipal(), org.ChannelInput{Unit: "bmw", Platform: "bluesky", URL: "https://bsky.app/profile/bmw.example"})
	if err != nil {
		t.Fatal(err)
	}
	bsky := bc.ID
	st, _, body = b.post(fmt.Sprintf("/channels/%d/connect", bsky), url.Values{"identifier": {"bmw.example"}, "app_password": {token}, "service_url": {"http://pds.example"}})
	if st != 400 || !strings.Contains(fieldError(body, "connect-service_url"), "https") || strings.Contains(body, token) || !strings.Contains(body, `value="bmw.example"`) {
		t.Fatalf("bluesky: %d %q", st, fieldError(body, "connect-service_url"))
	}
	if _, found, _ := e.store.ConnectionByChannel(context.Background(), mastodonID); found {
		t.Fatal("a refused connect stored credentials")
	}
	// A platform without OAuth set up: the sign-in button says why.
	x := e.channelID("mini", "x")
	if st, body = b.get(fmt.Sprintf("/channels/%d", x)); !strings.Contains(body, "Connect with X (Twitter)") {
		t.Fatalf("x panel: %d", st)
	}
	if st, _, body = b.post(fmt.Sprintf("/channels/%d/oauth", x), nil); st != 503 || !strings.Contains(body, "not set up on this hub") {
		t.Fatalf("x without app: %d", st)
	}
}

// fakeMastodon answers the parts of Mastodon's API the sign-in uses, per
// docs.joinmastodon.org: POST /api/v1/apps, POST /oauth/token,
// GET /api/v1/accounts/verify_credentials. /oauth/authorize is the
// address the browser is sent to (answered only when approve is set).
type fakeMastodon struct {
	srv *httptest.Server
	mu  sync.Mutex
	// what the hub sent
	apps     int
	redirect string
	verifier string
	// approve makes /oauth/authorize send the browser straight back with
	// a code, as if the user had signed in and allowed access.
	approve bool
}

func newFakeMastodon(t *testing.T) *fakeMastodon {
	f := &fakeMastodon{}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v1/apps":
			var in map[string]any
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["client_name"] == nil {
				w.WriteHeader(422)
				fmt.Fprint(w, `{"error": "Validation failed"}`)
				return
			}
			f.apps++
			f.redirect, _ = in["redirect_uris"].(string)
			fmt.Fprintf(w, `{"id": "1", "name": "vernetzen", "client_id": "cid-1", "client_secret": "csecret-1", "redirect_uri": %q}`, f.redirect)
		case r.Method == "POST" && r.URL.Path == "/oauth/token":
			r.ParseForm()
			if r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("code") != "good-code" ||
				r.PostForm.Get("client_id") != "cid-1" || r.PostForm.Get("client_secret") != "csecret-1" ||
				r.PostForm.Get("redirect_uri") != f.redirect || r.PostForm.Get("code_verifier") == "" {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}`)
				return
			}
			f.verifier = r.PostForm.Get("code_verifier")
			fmt.Fprint(w, `{"access_token": "tok-oauth", "token_type": "Bearer", "scope": "read write:statuses write:media", "created_at": 1700000000}`)
		case r.Method == "GET" && r.URL.Path == "/oauth/authorize" && f.approve:
			// The user signs in and allows access at once.
			q := r.URL.Query()
			http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {"good-code"}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
		case r.Method == "GET" && r.URL.Path == "/api/v1/accounts/verify_credentials":
			if r.Header.Get("Authorization") != "Bearer tok-oauth" {
				w.WriteHeader(401)
				fmt.Fprint(w, `{"error": "The access token is invalid"}`)
				return
			}
			fmt.Fprintf(w, `{"id": "109", "username": "bmw_de", "acct": "bmw_de", "display_name": "BMW Deutschland", "url": "%s/@bmw_de", "followers_count": 12, "following_count": 1}`, f.srv.URL)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error": "Record not found"}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func TestUIMastodonSignIn(t *testing.T) {
	e := newTestEnv(t)
	fake := newFakeMastodon(t)
	e.conn.Registry = all.Registry(connector.Options{HTTP: fake.srv.Client(), Limiter: connector.NewLimiter()})
	id := e.channelByHandle("mastodon", "bmw_de@social.example")
	ch, err := e.org.Channel(context.Background(), access.SystemPrincipal(), id)
	if err != nil {
		t.Fatal(err)
	}
	e.user("mgr@example.com", ch.Unit, access.RoleManager)
	path := fmt.Sprintf("/channels/%d", id)
	b := e.browser()
	b.login("mgr@example.com")
	if st, body := b.get(path); st != 200 || !strings.Contains(body, `action="`+path+`/oauth"`) {
		t.Fatalf("channel page: %d", st)
	}
	// Chromium applies CSP form-action to the redirect after a form: the
	// sign-in form's page lets it go to an https:// platform, other pages
	// keep form-action 'self'.
	csp := func(b *browser, path string) string {
		t.Helper()
		resp, err := b.c.Get(e.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Content-Security-Policy")
	}
	if got := csp(b, path); !strings.Contains(got, "form-action 'self' https:;") && !strings.HasSuffix(got, "form-action 'self' https:") {
		t.Fatalf("channel page's CSP: %q", got)
	}
	if got := csp(b, "/directory"); !strings.HasSuffix(got, "form-action 'self'") {
		t.Fatalf("directory's CSP: %q", got)
	}

	begin := func() url.Values {
		t.Helper()
		st, loc, body := b.post(path+"/oauth", url.Values{"instance_url": {fake.srv.URL}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, fake.srv.URL+"/oauth/authorize?") {
			t.Fatalf("begin: %d %q\n%s", st, loc, body)
		}
		u, _ := url.Parse(loc)
		q := u.Query()
		if q.Get("client_id") != "cid-1" || q.Get("redirect_uri") != e.http.URL+"/oauth/callback" || q.Get("state") == "" ||
			q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
			t.Fatalf("authorize URL: %s", loc)
		}
		return q
	}
	q := begin()
	if fake.apps != 1 || fake.redirect != e.http.URL+"/oauth/callback" {
		t.Fatalf("app registration: %d %q", fake.apps, fake.redirect)
	}

	// The platform sends the browser back with the state and a code.
	cb := "/oauth/callback?" + url.Values{"state": {q.Get("state")}, "code": {"good-code"}}.Encode()
	st, loc, _ := b.do("GET", cb, nil)
	if st != http.StatusSeeOther || loc != path+"#connection" {
		t.Fatalf("callback: %d %q", st, loc)
	}
	if fake.verifier == "" {
		t.Fatal("no PKCE verifier sent")
	}
	st, body := b.get(path)
	if st != 200 || !strings.Contains(body, "Connected as @bmw_de@") || !strings.Contains(body, "Connected as <strong") {
		t.Fatalf("after callback: %d\n%s", st, body)
	}
	if strings.Contains(body, "tok-oauth") || strings.Contains(body, "csecret-1") || strings.Contains(body, fake.verifier) {
		t.Fatal("a secret on the page")
	}
	conn, _, _ := e.store.ConnectionByChannel(context.Background(), id)
	if conn.State != connection.StateConnected || conn.BaseURL != fake.srv.URL || conn.ExternalID != "109" {
		t.Fatalf("stored: %+v", conn)
	}

	// The same state a second time: the error page, nothing changed.
	st, _, body = b.do("GET", cb, nil)
	if st != http.StatusBadRequest || !strings.Contains(body, "expired or was already used") || strings.Contains(body, `id="connection"`) {
		t.Fatalf("replay: %d\n%s", st, body)
	}
	// An unknown state is refused the same way.
	if st, _, _ = b.do("GET", "/oauth/callback?state=nope&code=good-code", nil); st != http.StatusBadRequest {
		t.Fatalf("unknown state: %d", st)
	}

	// The platform refuses (the user said no): the channel page says so.
	q = begin()
	if fake.apps != 1 {
		t.Fatalf("the app was registered again: %d", fake.apps)
	}
	st, _, body = b.do("GET", "/oauth/callback?"+url.Values{"state": {q.Get("state")}, "error": {"access_denied"}}.Encode(), nil)
	if st != http.StatusBadRequest || !strings.Contains(body, "did not grant access") || !strings.Contains(body, "access_denied") || !strings.Contains(body, `id="connection"`) {
		t.Fatalf("refused: %d\n%s", st, body)
	}
	// A bad code: the platform's answer on the channel page.
	q = begin()
	st, _, body = b.do("GET", "/oauth/callback?"+url.Values{"state": {q.Get("state")}, "code": {"bad-code"}}.Encode(), nil)
	if st != http.StatusBadRequest || !strings.Contains(body, "refused") || !strings.Contains(body, `class="flash error"`) {
		t.Fatalf("bad code: %d\n%s", st, body)
	}

	// Someone else's state does not work for another user.
	q = begin()
	e.user("other@example.com", ch.Unit, access.RoleManager)
	o := e.browser()
	o.login("other@example.com")
	if st, _, _ = o.do("GET", "/oauth/callback?"+url.Values{"state": {q.Get("state")}, "code": {"good-code"}}.Encode(), nil); st != http.StatusBadRequest {
		t.Fatalf("another user's state: %d", st)
	}
	// Anonymous: the login page, coming back to the callback.
	if st, loc, _ = e.browser().do("GET", cb, nil); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("anonymous callback: %d %q", st, loc)
	}
}

func TestUINoticesBanner(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	e.user("de@example.com", "bmw-de", access.RoleManager)
	id := e.channelByHandle("simulator", "bmw_de")
	path := fmt.Sprintf("/channels/%d", id)
	b := e.browser()
	b.login("de@example.com")
	if _, body := b.get(path); strings.Contains(body, `id="notices"`) {
		t.Fatal("a banner before anything happened")
	}
	if st, _, _ := b.post(path+"/connect", url.Values{"identifier": {"bmw_de"}}); st != http.StatusSeeOther {
		t.Fatalf("connect: %d", st)
	}
	if _, err := e.conn.PollOnce(ctx, id); err != nil {
		t.Fatal(err)
	}
	// Revoked at the platform: the poll gives up and tells the owners.
	e.sim.RevokeTokens("bmw_de")
	e.clock.Add(time.Hour)
	e.sim.Advance()
	for i := 0; i < 3; i++ {
		next, err := e.conn.PollOnce(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if next < 0 {
			break
		}
	}
	st, body := b.get("/directory")
	if st != 200 || !strings.Contains(body, `id="notices"`) || !strings.Contains(body, `href="`+path+`#connection"`) || !strings.Contains(body, "reconnect") {
		t.Fatalf("banner: %d\n%s", st, body)
	}
	if _, body = b.get(path); !strings.Contains(body, "Reconnect needed") || !strings.Contains(body, "conn-last-error") {
		t.Fatalf("panel after revocation:\n%s", body)
	}
	// Someone with no notices sees no banner.
	e.user("uk@example.com", "bmw-uk", access.RoleManager)
	o := e.browser()
	o.login("uk@example.com")
	if _, body = o.get("/directory"); strings.Contains(body, `id="notices"`) {
		t.Fatal("another user sees the banner")
	}
	// Dismiss clears it and goes back.
	st, loc, _ := b.post("/notices/read", nil)
	if st != http.StatusSeeOther || loc != "/directory" {
		t.Fatalf("dismiss: %d %q", st, loc)
	}
	if _, body = b.get("/directory"); strings.Contains(body, `id="notices"`) {
		t.Fatal("banner after dismiss")
	}
}

func TestUIPlatformApps(t *testing.T) {
	e := newTestEnv(t)
	e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("deadmin@example.com", "bmw-de", access.RoleAdmin)
	e.user("mgr@example.com", "bmw", access.RoleManager)

	for _, who := range []string{"mgr@example.com", "deadmin@example.com"} {
		b := e.browser()
		b.login(who)
		if st, _ := b.get("/admin/platforms"); st != http.StatusForbidden {
			t.Errorf("%s: %d", who, st)
		}
		if st, _, _ := b.post("/admin/platforms/x", url.Values{"client_id": {"evil"}}); st != http.StatusForbidden {
			t.Errorf("%s sets an app: %d", who, st)
		}
	}
	b := e.browser()
	b.login("admin@example.com")
	st, body := b.get("/admin/platforms")
	if st != 200 || !strings.Contains(body, `id="app-x"`) || !strings.Contains(body, e.http.URL+"/oauth/callback") ||
		!strings.Contains(body, e.http.URL+"/hooks/facebook") || !strings.Contains(body, "client secret not set") || !strings.Contains(body, `href="/admin/platforms"`) {
		t.Fatalf("platforms page: %d\n%s", st, body)
	}
	const sec = "x-client-secret-0815"
	st, _, body = b.post("/admin/platforms/x", url.Values{"client_secret": {sec}})
	if st != 400 || !strings.Contains(fieldError(body, "app-x-client_id"), "client id") || strings.Contains(body, sec) {
		t.Fatalf("no client id: %d %q", st, fieldError(body, "app-x-client_id"))
	}
	st, loc, _ := b.post("/admin/platforms/x", url.Values{"client_id": {"x-client-id"}, "client_secret": {sec}})
	if st != http.StatusSeeOther || loc != "/admin/platforms#app-x" {
		t.Fatalf("set app: %d %q", st, loc)
	}
	st, body = b.get("/admin/platforms")
	if st != 200 || !strings.Contains(body, "client secret set") || !strings.Contains(body, "x-client-id") || strings.Contains(body, sec) {
		t.Fatalf("after set: %d\n%s", st, body)
	}
	if st, _, _ = b.post("/admin/platforms/myspace", url.Values{"client_id": {"a"}}); st != http.StatusNotFound {
		t.Fatalf("unknown platform: %d", st)
	}
	// With the app set, X's sign-in starts.
	x := e.channelID("mini", "x")
	st, loc, _ = b.post(fmt.Sprintf("/channels/%d/oauth", x), nil)
	if st != http.StatusSeeOther || !strings.Contains(loc, "client_id=x-client-id") || !strings.Contains(loc, "code_challenge=") {
		t.Fatalf("x sign-in: %d %q", st, loc)
	}
}
