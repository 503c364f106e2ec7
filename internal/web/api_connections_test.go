package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// channelByHandle finds a channel by platform and handle.
func (e *testEnv) channelByHandle(platform, handle string) int64 {
	e.t.Helper()
	chs, _, err := e.org.Channels(context.Background(), access.SystemPrincipal(), org.ChannelFilter{Platform: platform})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range chs {
		if c.Handle == handle {
			return c.ID
		}
	}
	e.t.Fatalf("no %s channel %q", platform, handle)
	return 0
}

func (e *testEnv) rawDo(token, method, path, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConnectSimulatorChannelAndPoll(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	mgr := e.user("de@example.com", "bmw-de", access.RoleManager)
	id := e.channelByHandle("simulator", "bmw_de")
	path := fmt.Sprintf("/api/v1/channels/%d", id)

	var st connection.Status
	if code := e.do(mgr, "GET", path+"/connection", nil, &st); code != 200 || st.Connected || len(st.Methods) == 0 {
		t.Fatalf("before: %d %+v", code, st)
	}
	code, body := e.rawDo(mgr, "PUT", path+"/credentials", `{"identifier": "bmw_de"}`)
	if code != 200 || !strings.Contains(body, `"connected":true`) || !strings.Contains(body, `"state":"connected"`) {
		t.Fatalf("connect: %d %s", code, body)
	}
	// The answer, and the stored row, hold no token in the clear.
	conn, _, err := e.store.ConnectionByChannel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(conn.Sealed, "v1.") || strings.Contains(body, "token") && strings.Contains(body, "access_token\":\"") {
		t.Fatalf("credentials not sealed: %q / %s", conn.Sealed, body)
	}
	// Let the simulated network produce messages, then poll until quiet.
	if _, err := e.conn.PollOnce(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	e.sim.Advance()
	total := 0
	for i := 0; i < 20; i++ {
		next, err := e.conn.PollOnce(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := e.store.CountMessages(ctx, id)
		total = n
		if next > 0 {
			break
		}
	}
	if total == 0 {
		t.Fatal("the poll stored no messages")
	}
	// A second poll with nothing new stores nothing twice.
	if _, err := e.conn.PollOnce(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.store.CountMessages(ctx, id); n != total {
		t.Fatalf("a quiet poll changed the count: %d → %d", total, n)
	}
	if code := e.do(mgr, "GET", path+"/connection", nil, &st); code != 200 || st.LastPolledAt == nil {
		t.Fatalf("after poll: %d %+v", code, st)
	}
	// The audience job records today's followers into the channel's history.
	if next, err := e.conn.RecordAudience(ctx, id); err != nil || next <= 0 {
		t.Fatalf("record audience: %v %v", next, err)
	}
	var ch org.Channel
	var hist struct {
		Items []org.AudiencePoint `json:"items"`
	}
	e.do(mgr, "GET", path, nil, &ch)
	e.do(mgr, "GET", path+"/audience", nil, &hist)
	if ch.Followers == nil || len(hist.Items) != 1 || hist.Items[0].Followers != *ch.Followers {
		t.Fatalf("audience: channel %v, history %+v", ch.Followers, hist.Items)
	}
	// A manager of another unit can neither see nor connect it.
	other := e.user("uk@example.com", "bmw-uk", access.RoleManager)
	if code, _ := e.rawDo(other, "PUT", path+"/credentials", `{"identifier": "x"}`); code != 404 {
		t.Fatalf("out-of-scope connect: %d", code)
	}
	if code, _ := e.rawDo(other, "GET", path+"/connection", ""); code != 404 {
		t.Fatalf("out-of-scope status: %d", code)
	}
	// Revoked at the platform: the poll stops, the channel shows
	// "reconnect needed" and its owners get a notice.
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
	if e.do(mgr, "GET", path+"/connection", nil, &st); st.State != connection.StateReconnectNeeded {
		t.Fatalf("after revocation: %+v", st.Connection)
	}
	var notices struct {
		Items []connection.Notice `json:"items"`
	}
	if e.do(mgr, "GET", "/api/v1/notices", nil, &notices); len(notices.Items) == 0 || !strings.Contains(notices.Items[0].Text, "reconnect") {
		t.Fatalf("owner not told: %+v", notices)
	}
	// Disconnect forgets the credentials.
	if code := e.do(mgr, "DELETE", path+"/credentials", nil, nil); code != 204 {
		t.Fatalf("disconnect: %d", code)
	}
	if _, found, _ := e.store.ConnectionByChannel(ctx, id); found {
		t.Fatal("credentials kept after disconnect")
	}
}

func TestConnectBadInput(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	mastodonID := e.channelByHandle("mastodon", "bmw_de@social.example")
	// A website has no connector: it can't be connected at all.
	chs, _, _ := e.org.Channels(context.Background(), access.SystemPrincipal(), org.ChannelFilter{Platform: "website"})
	website := chs[0].ID
	cases := []struct {
		name  string
		id    int64
		body  string
		code  int
		field string
	}{
		{"mastodon without token", mastodonID, `{"instance_url": "https://social.example"}`, 400, "access_token"},
		{"mastodon plain http", mastodonID, `{"instance_url": "http://social.example", "access_token": "t"}`, 400, "instance_url"},
		{"mastodon unreachable", mastodonID, `{"instance_url": "https://127.0.0.1:1", "access_token": "t"}`, 503, ""},
		{"unknown field", mastodonID, `{"password": "x"}`, 400, "password"},
		{"platform without connector", website, `{"access_token": "t"}`, 400, "platform"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ae apiError
			code := e.do(adm, "PUT", fmt.Sprintf("/api/v1/channels/%d/credentials", tc.id), rawJSON(tc.body), &ae)
			if code != tc.code || (tc.field != "" && ae.Error.Field != tc.field) {
				t.Fatalf("%d %+v, want %d field %q", code, ae.Error, tc.code, tc.field)
			}
			if strings.Contains(ae.Error.Message, `"t"`) {
				t.Fatalf("the error echoes the token: %s", ae.Error.Message)
			}
		})
	}
	if _, found, _ := e.store.ConnectionByChannel(context.Background(), mastodonID); found {
		t.Fatal("a refused connect stored credentials")
	}
}

func TestConnectWithoutKeyIsRefused(t *testing.T) {
	e := newTestEnv(t)
	e.conn.Box = nil
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	id := e.channelByHandle("simulator", "bmw_uk")
	var ae apiError
	if code := e.do(adm, "PUT", fmt.Sprintf("/api/v1/channels/%d/credentials", id), map[string]string{"identifier": "bmw_uk"}, &ae); code != 503 || !strings.Contains(ae.Error.Message, "secret key") {
		t.Fatalf("%d %+v", code, ae)
	}
}

func TestKeyRotationKeepsConnectionsWorking(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	id := e.channelByHandle("simulator", "mini_de")
	if _, err := e.conn.ConnectWithToken(ctx, access.SystemPrincipal(), id, connection.TokenInput{Identifier: "mini_de"}); err != nil {
		t.Fatal(err)
	}
	old := e.conn.Box
	next, _ := secret.New(secret.GenerateKey())
	n, err := e.conn.RotateKey(ctx, old, next)
	if err != nil || n != 1 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	conn, _, _ := e.store.ConnectionByChannel(ctx, id)
	if _, err := old.Open(conn.Sealed); err == nil {
		t.Fatal("the old key still opens the credentials")
	}
	e.conn.Box = next
	e.clock.Add(time.Hour)
	e.sim.Advance()
	if _, err := e.conn.PollOnce(ctx, id); err != nil {
		t.Fatal(err)
	}
	if conn, _, _ := e.store.ConnectionByChannel(ctx, id); conn.State != connection.StateConnected || conn.LastPolledAt == nil {
		t.Fatalf("poll after rotation: %+v", conn)
	}
}

// rawJSON sends a literal JSON body through testEnv.do.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
