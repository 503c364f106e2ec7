package connector

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/secret"
)

// OAuth2 is a platform's OAuth 2.0 token endpoint (RFC 6749): the code
// exchange and the refresh_token grant, which X, YouTube and LinkedIn
// share but for where the endpoint is and how the client authenticates.
type OAuth2 struct {
	Client *Client
	// TokenURL is the token endpoint for an account (tests point it at a
	// local server through Account.BaseURL).
	TokenURL func(acct *Account) string
	// BasicAuth sends the client id and secret as HTTP Basic credentials
	// (X) instead of in the form (Google, LinkedIn).
	BasicAuth bool
	Now       func() time.Time
}

// Exchange trades an authorisation code for credentials. A refused code
// means the sign-in must start again: ReconnectNeeded.
func (o OAuth2) Exchange(ctx context.Context, acct *Account, app App, code string, pkce PKCE) (Credentials, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {app.RedirectURI}}
	if pkce.Verifier != "" {
		form.Set("code_verifier", pkce.Verifier)
	}
	cr, err := o.token(ctx, acct, app, form, "oauth token")
	var e *Error
	if errors.As(err, &e) && e.Kind == KindPermanent {
		e.Kind = KindReconnectNeeded
	}
	return cr, err
}

// Refresh renews the account's access token with its refresh token. The
// old refresh token is kept when the platform sends none (Google), so it
// is never lost; a rotated one (X) replaces it.
func (o OAuth2) Refresh(ctx context.Context, acct *Account) (Credentials, error) {
	rt := acct.Credentials.RefreshToken
	if rt.IsZero() {
		return Credentials{}, &Error{Kind: KindReconnectNeeded, Platform: o.Client.Platform, Op: "refresh credentials",
			Message: "no refresh token; reconnect the channel"}
	}
	cr, err := o.token(ctx, acct, acct.App, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.Reveal()}}, "refresh credentials")
	if err != nil {
		return cr, err
	}
	if cr.RefreshToken.IsZero() {
		cr.RefreshToken = rt
	}
	cr.Extra = acct.Credentials.Extra
	return cr, nil
}

// token posts a grant to the token endpoint and reads the standard answer.
func (o OAuth2) token(ctx context.Context, acct *Account, app App, form url.Values, op string) (Credentials, error) {
	form.Set("client_id", app.ClientID)
	if !o.BasicAuth {
		form.Set("client_secret", app.ClientSecret.Reveal())
	}
	req := FormRequest(http.MethodPost, o.TokenURL(acct), form)
	req.Op, req.NoAuth, req.NoRefresh = op, true, true
	if o.BasicAuth && !app.ClientSecret.IsZero() {
		req.Header = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString(
			[]byte(app.ClientID+":"+app.ClientSecret.Reveal()))}}
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
		TokenType    string `json:"token_type"`
	}
	if _, err := o.Client.JSON(ctx, acct, req, &tok); err != nil {
		return Credentials{}, err
	}
	if tok.AccessToken == "" {
		return Credentials{}, &Error{Kind: KindTransient, Platform: o.Client.Platform, Op: op, Message: "the token endpoint answered without an access token"}
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	// Scopes come space-separated (RFC 6749); LinkedIn separates them by commas.
	cr := Credentials{AccessToken: secret.Secret(tok.AccessToken), RefreshToken: secret.Secret(tok.RefreshToken),
		TokenType: tok.TokenType, Scopes: strings.FieldsFunc(tok.Scope, func(r rune) bool { return r == ',' || r == ' ' })}
	if tok.ExpiresIn > 0 {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		cr.ExpiresAt = now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return cr, nil
}
