package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/org"
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func TestManagerOfMINIListsExactlyTheFourMINIChannels(t *testing.T) {
	e := newTestEnvMap(t)
	tok := e.user("mini@example.com", "mini", access.RoleManager)
	var res struct {
		Items []org.Channel `json:"items"`
	}
	if st := e.do(tok, "GET", "/api/v1/channels", nil, &res); st != 200 {
		t.Fatalf("status %d", st)
	}
	var got []string
	for _, c := range res.Items {
		got = append(got, c.Platform+":"+c.Name)
	}
	sort.Strings(got)
	want := []string{"facebook:MINI", "facebook:MINI SPACE", "facebook:MINI UNITED", "x:MINI"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("channels = %v, want %v", got, want)
	}
	// A BMW channel: reading, changing and deleting answer 404.
	var bmw struct {
		Items []org.Channel `json:"items"`
	}
	adm := e.user("root@example.com", "group", access.RoleAdmin)
	e.do(adm, "GET", "/api/v1/channels?unit=bmw&platform=facebook", nil, &bmw)
	if len(bmw.Items) == 0 {
		t.Fatal("no BMW facebook channels")
	}
	id := bmw.Items[0].ID
	for _, req := range []struct{ method, path string }{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/retire"}} {
		var body any
		if req.method == "PATCH" {
			body = map[string]string{"notes": "hijacked"}
		}
		var ae apiError
		if st := e.do(tok, req.method, fmt.Sprintf("/api/v1/channels/%d%s", id, req.path), body, &ae); st != 404 || ae.Error.Code != "not_found" {
			t.Errorf("%s BMW channel as MINI manager: %d %+v, want 404", req.method, st, ae)
		}
	}
	var after org.Channel
	if e.do(adm, "GET", fmt.Sprintf("/api/v1/channels/%d", id), nil, &after); after.Notes == "hijacked" || after.Status != org.StatusActive {
		t.Fatalf("the BMW channel changed: %+v", after)
	}
}

// TestScopeMatrix walks roles × units × endpoints: every user reads what
// lies under its grants and nothing else, and changes only what its role
// allows there.
func TestScopeMatrix(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	sys := access.SystemPrincipal()
	units, err := e.org.Tree(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	unitPath := map[string]string{}
	for _, u := range units {
		unitPath[u.Key] = u.Path
	}
	grants := []struct {
		unit string
		role access.Role
	}{
		{"group", access.RoleAdmin}, {"mini", access.RoleManager}, {"bmw", access.RoleEditor}, {"bmw-de", access.RoleAgent},
		{"mini-de", access.RoleSales}, {"motorrad", access.RoleViewer}, {"bmw-park-lane", access.RoleManager}, {"bmw-uk", access.RoleAdmin},
		{"", ""},
	}
	for i, g := range grants {
		name := fmt.Sprintf("%s-of-%s", g.role, g.unit)
		if g.unit == "" {
			name = "nobody"
		}
		t.Run(name, func(t *testing.T) {
			tok := e.user(fmt.Sprintf("u%d@example.com", i), g.unit, g.role)
			// Earlier subtests add channels: take the directory as it is now.
			channels, _, err := e.org.Channels(ctx, sys, org.ChannelFilter{})
			if err != nil {
				t.Fatal(err)
			}
			covers := func(path string) bool { return g.unit != "" && strings.HasPrefix(path, unitPath[g.unit]) }
			manages := func(path string) bool {
				return covers(path) && (g.role == access.RoleAdmin || g.role == access.RoleManager)
			}
			expect := func(path string, write bool) int {
				switch {
				case !covers(path):
					return 404
				case write && !manages(path):
					return 403
				default:
					return 200
				}
			}
			var lst struct {
				Items []org.Channel `json:"items"`
				Total int           `json:"total"`
			}
			if st := e.do(tok, "GET", "/api/v1/channels", nil, &lst); st != 200 {
				t.Fatalf("list: %d", st)
			}
			want := 0
			for _, c := range channels {
				if covers(c.UnitPath) {
					want++
				}
			}
			if len(lst.Items) != want || lst.Total != want {
				t.Errorf("list: %d channels (total %d), want %d", len(lst.Items), lst.Total, want)
			}
			for _, c := range lst.Items {
				if !covers(unitPath[c.Unit]) {
					t.Errorf("list shows channel %d of unit %s", c.ID, c.Unit)
				}
			}
			for _, c := range channels {
				path := fmt.Sprintf("/api/v1/channels/%d", c.ID)
				if st := e.do(tok, "GET", path, nil, nil); st != expect(c.UnitPath, false) {
					t.Errorf("GET channel %d (%s): %d, want %d", c.ID, c.Unit, st, expect(c.UnitPath, false))
				}
				if st := e.do(tok, "PATCH", path, map[string]string{"notes": c.Notes}, nil); st != expect(c.UnitPath, true) {
					t.Errorf("PATCH channel %d (%s): %d, want %d", c.ID, c.Unit, st, expect(c.UnitPath, true))
				}
				if st := e.do(tok, "GET", path+"/audience", nil, nil); st != expect(c.UnitPath, false) {
					t.Errorf("GET audience %d (%s): %d", c.ID, c.Unit, st)
				}
			}
			for _, u := range units {
				path := "/api/v1/units/" + u.Key
				if st := e.do(tok, "GET", path, nil, nil); st != expect(u.Path, false) {
					t.Errorf("GET unit %s: %d, want %d", u.Key, st, expect(u.Path, false))
				}
				if st := e.do(tok, "PATCH", path, map[string]string{"name": u.Name}, nil); st != expect(u.Path, true) {
					t.Errorf("PATCH unit %s: %d, want %d", u.Key, st, expect(u.Path, true))
				}
				// Creating a channel on a unit out of scope names the field, as for a unit that does not exist.
				st := e.do(tok, "POST", "/api/v1/channels", map[string]string{"unit": u.Key, "platform": "website", "url": fmt.Sprintf("https://u%d-%s.example", i, u.Key)}, nil)
				want := map[int]int{404: 400, 403: 403, 200: 201}[expect(u.Path, true)]
				if st != want {
					t.Errorf("POST channel on %s: %d, want %d", u.Key, st, want)
				}
			}
			// Admin endpoints.
			wantUsers := 403
			if g.role == access.RoleAdmin {
				wantUsers = 200
			}
			if st := e.do(tok, "GET", "/api/v1/users", nil, nil); st != wantUsers {
				t.Errorf("GET users: %d, want %d", st, wantUsers)
			}
		})
	}
}

func TestDeleteOutOfScopeChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	dealer := e.user("dealer@example.com", "bmw-park-lane", access.RoleManager)
	other := e.user("other@example.com", "bmw-muenchen-nord", access.RoleManager)
	var c org.Channel
	if st := e.do(dealer, "POST", "/api/v1/channels", map[string]string{"unit": "bmw-park-lane", "platform": "instagram", "handle": "bmwparklane"}, &c); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if c.URL != "https://www.instagram.com/bmwparklane" {
		t.Errorf("url = %q", c.URL)
	}
	path := fmt.Sprintf("/api/v1/channels/%d", c.ID)
	if st := e.do(other, "DELETE", path, nil, nil); st != 404 {
		t.Fatalf("other dealer deletes: %d, want 404", st)
	}
	if st := e.do(dealer, "GET", path, nil, nil); st != 200 {
		t.Fatalf("channel gone after a refused delete: %d", st)
	}
	if st := e.do(dealer, "DELETE", path, nil, nil); st != 204 {
		t.Fatalf("own delete: %d", st)
	}
	if st := e.do(dealer, "GET", path, nil, nil); st != 404 {
		t.Fatalf("after delete: %d", st)
	}
}

func TestAPIBadInput(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	countChannels := func() int {
		var lst struct{ Total int }
		e.do(adm, "GET", "/api/v1/channels", nil, &lst)
		return lst.Total
	}
	before := countChannels()
	big := map[string]string{"unit": "bmw", "platform": "website", "url": "https://x.example", "notes": strings.Repeat("x", MaxBodyBytes+10)}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown platform", "POST", "/api/v1/channels", map[string]string{"unit": "bmw", "platform": "myspace", "url": "myspace.com/bmw"}, 400, "invalid", "platform"},
		{"duplicate channel", "POST", "/api/v1/channels", map[string]string{"unit": "bmw", "platform": "facebook", "url": "https://www.facebook.com/bmw/"}, 409, "conflict", "url"},
		{"duplicate via other host", "POST", "/api/v1/channels", map[string]string{"unit": "mini", "platform": "twitter", "url": "https://x.com/MINI"}, 409, "conflict", "url"},
		{"url of another platform", "POST", "/api/v1/channels", map[string]string{"unit": "bmw", "platform": "facebook", "url": "twitter.com/bmw"}, 400, "invalid", "url"},
		{"no url or handle", "POST", "/api/v1/channels", map[string]string{"unit": "bmw", "platform": "facebook"}, 400, "invalid", "url"},
		{"bad status", "POST", "/api/v1/channels", map[string]string{"unit": "bmw", "platform": "website", "url": "a.example", "status": "zombie"}, 400, "invalid", "status"},
		{"unknown field", "POST", "/api/v1/channels", map[string]string{"unit": "bmw", "platform": "website", "url": "b.example", "colour": "red"}, 400, "invalid", "colour"},
		{"wrong type", "POST", "/api/v1/channels", map[string]any{"unit": 5, "platform": "website"}, 400, "invalid", "unit"},
		{"oversized body", "POST", "/api/v1/channels", big, 413, "too_large", ""},
		{"bad unit key", "POST", "/api/v1/units", map[string]string{"key": "Bad Key", "name": "x", "kind": "market", "parent": "bmw"}, 400, "invalid", "key"},
		{"taken unit key", "POST", "/api/v1/units", map[string]string{"key": "mini", "name": "x", "kind": "market", "parent": "bmw"}, 409, "conflict", ""},
		{"bad country", "POST", "/api/v1/units", map[string]string{"key": "bmw-xx", "name": "x", "kind": "market", "parent": "bmw", "country": "XX"}, 400, "invalid", "country"},
		{"bad time zone", "POST", "/api/v1/units", map[string]string{"key": "bmw-yy", "name": "x", "kind": "market", "parent": "bmw", "time_zone": "Mars/Olympus"}, 400, "invalid", "time_zone"},
		{"delete unit with channels", "DELETE", "/api/v1/units/mini", nil, 409, "conflict", ""},
		{"move into own subtree", "POST", "/api/v1/units/bmw/move", map[string]string{"parent": "bmw-de"}, 400, "invalid", "parent"},
		{"bad id", "GET", "/api/v1/channels/abc", nil, 400, "invalid", "id"},
		{"missing channel", "GET", "/api/v1/channels/999999", nil, 404, "not_found", ""},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, "not_found", ""},
		{"bad role", "POST", "/api/v1/grants", map[string]string{"user": "admin@example.com", "unit": "bmw", "role": "king"}, 400, "invalid", "role"},
		{"bad audience day", "POST", "/api/v1/channels/1/audience", map[string]any{"points": []map[string]any{{"day": "2026-13-01", "followers": 5}}}, 400, "invalid", "points[0].day"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ae apiError
			st := e.do(adm, tc.method, tc.path, tc.body, &ae)
			if st != tc.status || ae.Error.Code != tc.code || (tc.field != "" && ae.Error.Field != tc.field) || ae.Error.Message == "" {
				t.Fatalf("%d %+v, want %d %s field %q", st, ae.Error, tc.status, tc.code, tc.field)
			}
		})
	}
	if after := countChannels(); after != before {
		t.Fatalf("bad input changed the channel count: %d → %d", before, after)
	}
	// No token, bad token.
	if st := e.do("", "GET", "/api/v1/channels", nil, nil); st != 401 {
		t.Errorf("no token: %d", st)
	}
	if st := e.do("vzt_forged", "GET", "/api/v1/channels", nil, nil); st != 401 {
		t.Errorf("bad token: %d", st)
	}
}

func TestUnitLifecycleAndMove(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	var u org.Unit
	if st := e.do(adm, "POST", "/api/v1/units", map[string]any{"key": "bmw-at", "name": "BMW Austria", "kind": "market", "parent": "bmw", "country": "at", "languages": []string{"de-at"}, "time_zone": "Europe/Vienna"}, &u); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if u.Country != "AT" || u.Languages[0] != "de-AT" || u.Parent != "bmw" || u.Depth != 2 {
		t.Fatalf("created %+v", u)
	}
	if st := e.do(adm, "POST", "/api/v1/units", map[string]any{"key": "bmw-wien", "name": "BMW Wien", "kind": "dealer", "parent": "bmw-at"}, nil); st != 201 {
		t.Fatalf("create child: %d", st)
	}
	// Moving the market moves its dealer with it.
	if st := e.do(adm, "POST", "/api/v1/units/bmw-at/move", map[string]string{"parent": "mini"}, &u); st != 200 || u.Parent != "mini" {
		t.Fatalf("move: %d %+v", st, u)
	}
	mgr := e.user("mini@example.com", "mini", access.RoleManager)
	var child org.Unit
	if st := e.do(mgr, "GET", "/api/v1/units/bmw-wien", nil, &child); st != 200 || child.Depth != 3 {
		t.Fatalf("the dealer did not move with its market: %d %+v", st, child)
	}
	if st := e.do(adm, "DELETE", "/api/v1/units/bmw-at", nil, nil); st != 409 {
		t.Fatalf("delete with child: %d", st)
	}
	if st := e.do(adm, "DELETE", "/api/v1/units/bmw-wien", nil, nil); st != 204 {
		t.Fatalf("delete child: %d", st)
	}
	if st := e.do(adm, "DELETE", "/api/v1/units/bmw-at", nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
}

func TestTokensAndUsers(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "bmw", access.RoleAdmin)
	var created struct {
		User     access.User `json:"user"`
		Password string      `json:"password"`
	}
	if st := e.do(adm, "POST", "/api/v1/users", map[string]string{"email": "New@Example.com"}, &created); st != 201 || created.Password == "" || created.User.Email != "new@example.com" {
		t.Fatalf("create user: %d %+v", st, created)
	}
	if st := e.do(adm, "POST", "/api/v1/grants", map[string]string{"user": "new@example.com", "unit": "bmw-de", "role": "viewer"}, nil); st != 201 {
		t.Fatalf("grant: %d", st)
	}
	// A BMW admin can't grant on MINI: the unit is out of its scope.
	var ae apiError
	if st := e.do(adm, "POST", "/api/v1/grants", map[string]string{"user": "new@example.com", "unit": "mini", "role": "admin"}, &ae); st != 400 || ae.Error.Field != "unit" {
		t.Fatalf("grant out of scope: %d %+v", st, ae)
	}
	var tok struct {
		Token  access.Token `json:"token"`
		Secret string       `json:"secret"`
	}
	if st := e.do(adm, "POST", "/api/v1/tokens", map[string]string{"name": "ci", "user": "new@example.com"}, &tok); st != 201 || !strings.HasPrefix(tok.Secret, access.TokenPrefix) {
		t.Fatalf("token: %d %+v", st, tok)
	}
	var me struct {
		User   access.User    `json:"user"`
		Grants []access.Grant `json:"grants"`
	}
	if st := e.do(tok.Secret, "GET", "/api/v1/me", nil, &me); st != 200 || me.User.Email != "new@example.com" || len(me.Grants) != 1 {
		t.Fatalf("me: %d %+v", st, me)
	}
	// The token list never shows the secret.
	resp, err := http.NewRequest("GET", e.http.URL+"/api/v1/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Set("Authorization", "Bearer "+tok.Secret)
	r, err := http.DefaultClient.Do(resp)
	if err != nil {
		t.Fatal(err)
	}
	var raw json.RawMessage
	json.NewDecoder(r.Body).Decode(&raw)
	r.Body.Close()
	if strings.Contains(string(raw), tok.Secret[len(access.TokenPrefix)+6:]) {
		t.Fatal("token list leaks the secret")
	}
	if st := e.do(adm, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.Token.ID), nil, nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st := e.do(tok.Secret, "GET", "/api/v1/me", nil, nil); st != 401 {
		t.Fatalf("revoked token still works: %d", st)
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newTestEnv(t)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if st := e.do("", "GET", "/api/v1/openapi.json", nil, &doc); st != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %d %q", st, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range e.server.routes {
		served[r.method+" "+r.pattern] = true
		if !documented[r.method+" "+r.pattern] {
			t.Errorf("route %s %s is not in openapi.json", r.method, r.pattern)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.json documents %s, which is not served", op)
		}
	}
}

func TestExports(t *testing.T) {
	e := newTestEnvMap(t)
	tok := e.user("mini@example.com", "mini", access.RoleManager)
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/export/channels.csv", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if resp.StatusCode != 200 || len(lines) != 5 || !strings.HasPrefix(lines[0], "id,unit,") {
		t.Fatalf("csv: %d\n%s", resp.StatusCode, b.String())
	}
}
