package facebook

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// Facebook Login for Pages: the browser goes to the login dialog, the
// callback's code is traded for a user token, the user token for a
// long-lived one, and that for the Page tokens of the Pages the user
// manages (GET /me/accounts). A Page token obtained from a long-lived
// user token does not expire, so Graph channels need no refresh.

// DialogURL is Facebook Login's dialog, where the browser is sent.
const DialogURL = "https://www.facebook.com/v21.0/dialog/oauth"

// PageScopes are the permissions a Facebook Page channel asks for.
var PageScopes = []string{"pages_show_list", "pages_read_engagement", "pages_read_user_content", "pages_manage_posts", "pages_manage_engagement"}

// LoginURL builds the login dialog's address.
func LoginURL(app connector.App, state string, scopes []string) (string, error) {
	if app.ClientID == "" || app.RedirectURI == "" {
		return "", connector.Errorf(connector.KindPermanent, Platform, "authorize", "the Facebook app's id and redirect address are not set up")
	}
	q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI}, "state": {state},
		"response_type": {"code"}, "scope": {strings.Join(scopes, ",")}}
	return DialogURL + "?" + q.Encode(), nil
}

// ManagedPage is a Page the signed-in user manages, with its token.
type ManagedPage struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Username    string        `json:"username"`
	AccessToken secret.Secret `json:"access_token"`
	Instagram   *struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"instagram_business_account"`
}

// ExchangeForPages trades a login code for the Pages the user manages,
// each with its (non-expiring) Page token. acct.BaseURL overrides the
// Graph root (tests).
func ExchangeForPages(ctx context.Context, client *connector.Client, acct *connector.Account, app connector.App, code string) ([]ManagedPage, error) {
	b := base(acct)
	var short, long struct {
		AccessToken string `json:"access_token"`
	}
	q := url.Values{"client_id": {app.ClientID}, "client_secret": {app.ClientSecret.Reveal()}, "redirect_uri": {app.RedirectURI}, "code": {code}}
	if _, err := client.JSON(ctx, acct, &connector.Request{Op: "exchange code", Method: http.MethodGet, URL: b + "/oauth/access_token?" + q.Encode(),
		NoAuth: true, NoRefresh: true}, &short); err != nil {
		return nil, loginError(err)
	}
	q = url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret.Reveal()},
		"fb_exchange_token": {short.AccessToken}}
	if _, err := client.JSON(ctx, acct, &connector.Request{Op: "long-lived token", Method: http.MethodGet, URL: b + "/oauth/access_token?" + q.Encode(),
		NoAuth: true, NoRefresh: true}, &long); err != nil {
		return nil, loginError(err)
	}
	user := &connector.Account{ChannelID: acct.ChannelID, BaseURL: acct.BaseURL, App: app,
		Credentials: connector.Credentials{AccessToken: secret.Secret(long.AccessToken)}}
	var pages struct {
		Data []ManagedPage `json:"data"`
	}
	u := b + "/me/accounts?fields=" + url.QueryEscape("id,name,username,access_token,instagram_business_account{id,username}") + "&limit=100"
	if _, err := client.JSON(ctx, user, &connector.Request{Op: "managed pages", Method: http.MethodGet, URL: u, NoRefresh: true}, &pages); err != nil {
		return nil, loginError(err)
	}
	return pages.Data, nil
}

// loginError: a refused code or token during login means the sign-in
// failed, which the person can only fix by signing in again.
func loginError(err error) error {
	if k := connector.KindOf(err); k == connector.KindPermanent || k == connector.KindReconnectNeeded {
		return &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform, Op: "sign in", Message: err.Error(), Err: err}
	}
	return err
}

// matchesHandle reports whether a Page is the channel's: by username, id
// or name, ignoring case.
func matchesHandle(p ManagedPage, handle string) bool {
	h := strings.TrimPrefix(strings.TrimSpace(handle), "@")
	return h != "" && (strings.EqualFold(p.Username, h) || p.ID == h || strings.EqualFold(p.Name, h))
}

// AuthorizeURL implements connector.OAuthFlow (Facebook Login; no PKCE).
func (c *Connector) AuthorizeURL(acct *connector.Account, app connector.App, state string, pkce connector.PKCE) (string, error) {
	return LoginURL(app, state, PageScopes)
}

// Exchange implements connector.OAuthFlow: it returns the Page token of
// the channel's Page (the one named like acct.Handle, or the only one).
func (c *Connector) Exchange(ctx context.Context, acct *connector.Account, app connector.App, code string, pkce connector.PKCE) (connector.Credentials, error) {
	pages, err := ExchangeForPages(ctx, c.client, acct, app, code)
	if err != nil {
		return connector.Credentials{}, err
	}
	var pick *ManagedPage
	for i := range pages {
		if matchesHandle(pages[i], acct.Handle) {
			pick = &pages[i]
			break
		}
	}
	if pick == nil && len(pages) == 1 {
		pick = &pages[0]
	}
	if pick == nil {
		return connector.Credentials{}, connector.Errorf(connector.KindPermanent, Platform, "sign in",
			"the signed-in user manages no Facebook Page named %q (%d Pages found)", acct.Handle, len(pages))
	}
	acct.ExternalID = pick.ID
	return connector.Credentials{AccessToken: pick.AccessToken, Scopes: PageScopes, Extra: map[string]string{"page_id": pick.ID}}, nil
}
