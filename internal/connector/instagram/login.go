package instagram

import (
	"context"
	"strings"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/facebook"
)

// Scopes are the permissions an Instagram channel asks for through
// Facebook Login: the Page's, plus Instagram publishing, comments and
// insights (follower demographics).
var Scopes = append(append([]string{}, facebook.PageScopes...), "instagram_basic", "instagram_content_publish", "instagram_manage_comments",
	"instagram_manage_insights")

var _ connector.OAuthFlow = (*Connector)(nil)

// AuthorizeURL implements connector.OAuthFlow: Instagram professional
// accounts sign in through Facebook Login, via the Page they are linked to.
func (c *Connector) AuthorizeURL(acct *connector.Account, app connector.App, state string, pkce connector.PKCE) (string, error) {
	return facebook.LoginURL(app, state, Scopes)
}

// Exchange implements connector.OAuthFlow: among the Pages the user
// manages, it takes the one whose linked Instagram account is the
// channel's (by username, or the only one) and returns that Page's token.
func (c *Connector) Exchange(ctx context.Context, acct *connector.Account, app connector.App, code string, pkce connector.PKCE) (connector.Credentials, error) {
	pages, err := facebook.ExchangeForPages(ctx, c.client, acct, app, code)
	if err != nil {
		return connector.Credentials{}, err
	}
	want := strings.TrimPrefix(strings.TrimSpace(acct.Handle), "@")
	var linked []facebook.ManagedPage
	for _, p := range pages {
		if p.Instagram != nil && p.Instagram.ID != "" {
			linked = append(linked, p)
		}
	}
	var pick *facebook.ManagedPage
	for i := range linked {
		if want != "" && strings.EqualFold(linked[i].Instagram.Username, want) {
			pick = &linked[i]
			break
		}
	}
	if pick == nil && len(linked) == 1 {
		pick = &linked[0]
	}
	if pick == nil {
		return connector.Credentials{}, errf(connector.KindPermanent, "sign in",
			"none of the signed-in user's Pages is linked to the Instagram account %q (%d linked accounts found)", acct.Handle, len(linked))
	}
	acct.ExternalID = pick.Instagram.ID
	return connector.Credentials{AccessToken: pick.AccessToken, Scopes: Scopes,
		Extra: map[string]string{"page_id": pick.ID, "ig_user_id": pick.Instagram.ID}}, nil
}
