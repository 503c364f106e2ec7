package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/org"
)

// TestFacebookWebhook walks Graph's webhook: the verify-token handshake,
// a signed delivery stored once however often it comes, and unsigned or
// badly signed deliveries refused with 401 and nothing stored.
func TestFacebookWebhook(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	// A BMW admin is no group admin: platform apps are the group's.
	bmwAdmin := e.user("bmw-admin@example.com", "bmw", access.RoleAdmin)
	if code := e.do(bmwAdmin, "PUT", "/api/v1/platforms/facebook/app", map[string]string{"client_id": "1", "webhook_secret": "s"}, nil); code != 403 {
		t.Fatalf("app set by a brand admin: %d", code)
	}
	var app connection.AppStatus
	if code := e.do(adm, "PUT", "/api/v1/platforms/facebook/app", map[string]string{"client_id": "app-1", "client_secret": "graph-app-secret", "verify_token": "verify-me"}, &app); code != 200 || !app.HasClientSecret || !app.HasVerifyToken {
		t.Fatalf("set app: %d %+v", code, app)
	}
	// Connect the BMW page as Graph page 1234 (stored directly: the real
	// connect would ask graph.facebook.com, which tests never reach).
	chs, _, _ := e.org.Channels(ctx, access.SystemPrincipal(), org.ChannelFilter{Unit: "bmw", Platform: "facebook"})
	var bmw org.Channel
	for _, c := range chs {
		if c.Unit == "bmw" {
			bmw = c
		}
	}
	sealed, err := connector.Credentials{AccessToken: "page-token"}.Seal(e.conn.Box)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SaveConnection(ctx, &connection.Connection{ChannelID: bmw.ID, Platform: "facebook", ExternalID: "1234", Sealed: sealed, State: connection.StateConnected}); err != nil {
		t.Fatal(err)
	}

	get := func(query string) (int, string) {
		resp, err := http.Get(e.http.URL + "/hooks/facebook?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=c-123"); code != 200 || body != "c-123" {
		t.Fatalf("handshake: %d %q", code, body)
	}
	if code, _ := get("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=c-123"); code != 401 {
		t.Fatalf("handshake with a wrong token: %d", code)
	}

	body := `{"object":"page","entry":[{"id":"1234","time":1764150000,"changes":[{"field":"feed","value":{"item":"comment","verb":"add",
		"comment_id":"555_777","post_id":"1234_555","message":"Was kostet der neue X3 im Leasing?","created_time":1764150000,
		"from":{"id":"42","name":"Anna Schmidt"}}}]}]}`
	post := func(signature string) int {
		req, _ := http.NewRequest("POST", e.http.URL+"/hooks/facebook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if signature != "" {
			req.Header.Set("X-Hub-Signature-256", signature)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	mac := hmac.New(sha256.New, []byte("graph-app-secret"))
	mac.Write([]byte(body))
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	for name, sig := range map[string]string{"unsigned": "", "badly signed": "sha256=" + strings.Repeat("0", 64), "other key": "sha256=" + hex.EncodeToString(hmac.New(sha256.New, []byte("x")).Sum(nil))} {
		if code := post(sig); code != 401 {
			t.Errorf("%s delivery: %d, want 401", name, code)
		}
	}
	if n, _ := e.store.CountMessages(ctx, bmw.ID); n != 0 {
		t.Fatalf("a refused delivery stored %d messages", n)
	}
	for i := 0; i < 2; i++ {
		if code := post(good); code != 200 {
			t.Fatalf("signed delivery %d: %d", i, code)
		}
	}
	if n, _ := e.store.CountMessages(ctx, bmw.ID); n != 1 {
		t.Fatalf("the same delivery twice stored %d messages, want 1", n)
	}
	// The app's secrets never come back.
	var raw map[string]any
	e.do(adm, "GET", "/api/v1/platforms/facebook/app", nil, &raw)
	if s := fmt.Sprint(raw); strings.Contains(s, "graph-app-secret") || strings.Contains(s, "verify-me") {
		t.Fatalf("app secrets leak: %s", s)
	}
}
