package facebook

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// serveLogin answers Facebook Login's token endpoints and /me/accounts as
// Graph documents them, checking each request's shape.
func serveLogin(t *testing.T, pages []map[string]any) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		q := r.URL.Query()
		switch r.URL.Path {
		case "/v21.0/oauth/access_token":
			if r.Method != "GET" || q.Get("client_id") != "app-1" || q.Get("client_secret") != "app-secret" || r.Header.Get("Authorization") != "" {
				t.Errorf("token request: %s %v", r.Method, q)
			}
			switch {
			case q.Get("code") == "good-code" && q.Get("redirect_uri") == "https://hub.example/oauth/callback":
				writeJSON(w, 200, map[string]any{"access_token": "user-short", "token_type": "bearer", "expires_in": 5183})
			case q.Get("grant_type") == "fb_exchange_token" && q.Get("fb_exchange_token") == "user-short":
				writeJSON(w, 200, map[string]any{"access_token": "user-long", "token_type": "bearer", "expires_in": 5183944})
			default:
				graphErr(w, 400, 100, 36009, "OAuthException", "This authorization code has been used.")
			}
			return true
		case "/v21.0/me/accounts":
			if r.Header.Get("Authorization") != "Bearer user-long" || q.Get("appsecret_proof") != AppSecretProof("user-long", "app-secret") ||
				!strings.Contains(q.Get("fields"), "access_token") {
				t.Errorf("me/accounts request: %v %v", r.Header.Get("Authorization"), q)
			}
			writeJSON(w, 200, map[string]any{"data": pages, "paging": map[string]any{"cursors": map[string]any{"before": "a", "after": "b"}}})
			return true
		}
		return false
	}
}

func TestFacebookLogin(t *testing.T) {
	e := setup(t)
	app := connector.App{ClientID: "app-1", ClientSecret: "app-secret", RedirectURI: "https://hub.example/oauth/callback"}
	u, err := e.c.AuthorizeURL(&connector.Account{}, app, "st-1", connector.PKCE{})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if pu.Host != "www.facebook.com" || pu.Path != "/v21.0/dialog/oauth" || pu.Query().Get("client_id") != "app-1" ||
		pu.Query().Get("state") != "st-1" || pu.Query().Get("redirect_uri") != app.RedirectURI || !strings.Contains(pu.Query().Get("scope"), "pages_manage_posts") {
		t.Fatalf("dialog URL %s", u)
	}
	e.f.setOverride(serveLogin(t, []map[string]any{
		{"id": "111", "name": "BMW Motorrad", "username": "BMW.Motorrad", "access_token": "tok-111"},
		{"id": "222", "name": "BMW", "username": "BMW", "access_token": "tok-222"},
	}))
	acct := &connector.Account{ChannelID: "ch-new", BaseURL: e.acct.BaseURL, Handle: "bmw"}
	cr, err := e.c.Exchange(context.Background(), acct, app, "good-code", connector.PKCE{})
	if err != nil || cr.AccessToken.Reveal() != "tok-222" || cr.Extra["page_id"] != "222" || acct.ExternalID != "222" {
		t.Fatalf("exchange: %+v %v", cr, err)
	}
	// A used code is a failed sign-in: the person must sign in again.
	_, err = e.c.Exchange(context.Background(), &connector.Account{ChannelID: "ch-new", BaseURL: e.acct.BaseURL, Handle: "bmw"}, app, "used-code", connector.PKCE{})
	kindOf(t, err, connector.KindReconnectNeeded)
	// A page the user does not manage.
	_, err = e.c.Exchange(context.Background(), &connector.Account{ChannelID: "ch-new", BaseURL: e.acct.BaseURL, Handle: "MINI"}, app, "good-code", connector.PKCE{})
	kindOf(t, err, connector.KindPermanent)
}
