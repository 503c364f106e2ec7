package instagram

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/facebook"
)

func TestInstagramLoginThroughFacebook(t *testing.T) {
	e := setup(t)
	app := connector.App{ClientID: "app-1", ClientSecret: "app-secret", RedirectURI: "https://hub.example/oauth/callback"}
	u, err := e.c.AuthorizeURL(&connector.Account{}, app, "st-ig", connector.PKCE{})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if pu.Host != "www.facebook.com" || pu.Query().Get("state") != "st-ig" || !strings.Contains(pu.Query().Get("scope"), "instagram_content_publish") {
		t.Fatalf("dialog URL %s", u)
	}
	e.f.set(func() {
		e.f.override = func(w http.ResponseWriter, r *http.Request) bool {
			q := r.URL.Query()
			switch r.URL.Path {
			case "/v21.0/oauth/access_token":
				switch {
				case q.Get("code") == "good-code":
					writeJSON(w, 200, map[string]any{"access_token": "user-short"})
				case q.Get("fb_exchange_token") == "user-short":
					writeJSON(w, 200, map[string]any{"access_token": "user-long"})
				default:
					graphErr(w, 400, 100, 36009, "OAuthException", "This authorization code has been used.")
				}
				return true
			case "/v21.0/me/accounts":
				if r.Header.Get("Authorization") != "Bearer user-long" || q.Get("appsecret_proof") != facebook.AppSecretProof("user-long", "app-secret") {
					t.Errorf("me/accounts: %v", r.Header.Get("Authorization"))
				}
				writeJSON(w, 200, map[string]any{"data": []map[string]any{
					{"id": "p1", "name": "BMW Deutschland", "access_token": "tok-p1", "instagram_business_account": map[string]any{"id": "ig-1", "username": "bmw_de"}},
					{"id": "p2", "name": "BMW Nederland", "access_token": "tok-p2", "instagram_business_account": map[string]any{"id": "ig-2", "username": "bmw_nl"}},
					{"id": "p3", "name": "BMW Blog", "access_token": "tok-p3"},
				}})
				return true
			}
			return false
		}
	})
	acct := &connector.Account{ChannelID: "ch-new", BaseURL: e.acct.BaseURL, Handle: "@BMW_NL"}
	cr, err := e.c.Exchange(context.Background(), acct, app, "good-code", connector.PKCE{})
	if err != nil || cr.AccessToken.Reveal() != "tok-p2" || cr.Extra["ig_user_id"] != "ig-2" || cr.Extra["page_id"] != "p2" || acct.ExternalID != "ig-2" {
		t.Fatalf("exchange: %+v %v", cr, err)
	}
	_, err = e.c.Exchange(context.Background(), &connector.Account{ChannelID: "x", BaseURL: e.acct.BaseURL, Handle: "mini"}, app, "good-code", connector.PKCE{})
	kindOf(t, err, connector.KindPermanent)
}
