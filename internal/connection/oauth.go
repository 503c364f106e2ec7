package connection

import (
	"context"
	"encoding/json"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/mastodon"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// oauthLifetime bounds how long a sign-in at the platform may take.
const oauthLifetime = 15 * time.Minute

// BeginOAuth starts connecting a channel through the platform's sign-in:
// it returns the address to send the browser to. For Mastodon the
// instance is the server's address; the hub registers itself there as an
// app the first time.
func (s *Service) BeginOAuth(ctx context.Context, p *access.Principal, channelID int64, instance string) (string, error) {
	ch, err := s.channelFor(ctx, p, channelID, true)
	if err != nil {
		return "", err
	}
	c, ok := s.Registry.Get(ch.Platform)
	if !ok {
		return "", errs.Field("platform", "vernetzen has no connector for %s channels", ch.Platform)
	}
	flow, ok := c.(connector.OAuthFlow)
	if !ok {
		return "", errs.Field("platform", "%s channels are not connected through a sign-in", ch.Platform)
	}
	if s.Box == nil {
		return "", errNoKey
	}
	base := ""
	if ch.Platform == "mastodon" {
		if base, err = httpsURL("instance_url", instance, false); err != nil {
			return "", err
		}
	}
	app, err := s.app(ctx, ch.Platform, base)
	if err != nil {
		return "", err
	}
	if app.ClientID == "" && ch.Platform == "mastodon" {
		if app, err = s.registerMastodonApp(ctx, c.(*mastodon.Connector), base); err != nil {
			return "", err
		}
	}
	if app.ClientID == "" {
		return "", errs.E(errs.Unavailable, "%s sign-in is not set up on this hub: a group admin must enter the app's client id and secret first", ch.Platform)
	}
	state := access.NewSecret("", 24)
	pkce := connector.NewPKCE()
	verifier, err := s.Box.Seal([]byte(pkce.Verifier))
	if err != nil {
		return "", err
	}
	if err := s.Store.CreateOAuthState(ctx, hashState(state), OAuthState{ChannelID: ch.ID, UserID: p.User.ID, Instance: base,
		Verifier: verifier, ExpiresAt: s.Now().Add(oauthLifetime)}); err != nil {
		return "", err
	}
	return flow.AuthorizeURL(&connector.Account{BaseURL: base}, app, state, pkce)
}

func (s *Service) registerMastodonApp(ctx context.Context, c *mastodon.Connector, instance string) (connector.App, error) {
	app, err := c.RegisterApp(ctx, instance, "vernetzen", s.callbackURL(), s.PublicURL, mastodon.DefaultScopes)
	if err != nil {
		return connector.App{}, platformError("instance_url", err)
	}
	b, _ := json.Marshal(appSecrets{ClientSecret: app.ClientSecret.Reveal()})
	sealed, err := s.Box.Seal(b)
	if err != nil {
		return connector.App{}, err
	}
	if err := s.Store.SavePlatformApp(ctx, AppRecord{Platform: "mastodon", Instance: instance, ClientID: app.ClientID, Sealed: sealed}); err != nil {
		return connector.App{}, err
	}
	app.RedirectURI = s.callbackURL()
	return app, nil
}

// FinishOAuth completes a sign-in from the platform's callback: it trades
// the code for credentials, verifies them and connects the channel. A
// state works once, for the user who started the flow, within its
// lifetime. It returns the channel's id.
func (s *Service) FinishOAuth(ctx context.Context, p *access.Principal, state, code, platformError string) (int64, error) {
	if state == "" {
		return 0, errs.Field("state", "the sign-in answer carries no state")
	}
	st, found, err := s.Store.TakeOAuthState(ctx, hashState(state))
	if err != nil {
		return 0, err
	}
	if !found || st.UserID != p.User.ID {
		return 0, errs.Field("state", "this sign-in link has expired or was already used; start connecting again")
	}
	ch, err := s.channelFor(ctx, p, st.ChannelID, true)
	if err != nil {
		return 0, err
	}
	if platformError != "" {
		return ch.ID, errs.Field("code", "the platform did not grant access: %s", platformError)
	}
	if code == "" {
		return ch.ID, errs.Field("code", "the sign-in answer carries no code")
	}
	c, _ := s.Registry.Get(ch.Platform)
	flow, ok := c.(connector.OAuthFlow)
	if !ok {
		return ch.ID, errs.Field("platform", "%s channels are not connected through a sign-in", ch.Platform)
	}
	verifier, err := s.Box.Open(st.Verifier)
	if err != nil {
		return ch.ID, err
	}
	app, err := s.app(ctx, ch.Platform, st.Instance)
	if err != nil {
		return ch.ID, err
	}
	acct := &connector.Account{ChannelID: itoa(ch.ID), BaseURL: st.Instance, Handle: ch.Handle, App: app}
	creds, err := flow.Exchange(ctx, acct, app, code, connector.PKCE{Verifier: string(verifier)})
	if err != nil {
		return ch.ID, platformErrorFor("code", err)
	}
	acct.Credentials = creds
	var prof connector.Profile
	switch c := c.(type) {
	case connector.Connecter:
		prof, err = c.Connect(ctx, acct)
	case connector.Profiler:
		prof, err = c.Profile(ctx, acct)
	}
	if err != nil {
		return ch.ID, platformErrorFor("code", err)
	}
	if _, err := s.saveConnection(ctx, ch, acct, prof); err != nil {
		return ch.ID, err
	}
	return ch.ID, nil
}

// platformErrorFor is platformError under a name that does not clash with
// FinishOAuth's parameter.
var platformErrorFor = platformError
