// Package mastodon connects channels on any server that implements
// Mastodon's client API (Mastodon itself, and compatible servers such as
// GoToSocial, Akkoma or Pixelfed for the parts they implement).
//
// Account.BaseURL is the instance URL; Credentials.AccessToken a user
// token (pasted, or obtained with the OAuth flow after RegisterApp).
// Mastodon tokens do not expire, so there is no Refresher: a 401 means the
// token was revoked and the channel must be reconnected.
//
// Publishing sends the delivery id as Idempotency-Key, which Mastodon
// honours for an hour; Lookup reconciles beyond that by finding the status
// among the account's recent statuses. Inbound items are the account's
// mention notifications (direct-visibility mentions are DMs, replies to the
// account are comments), paged with min_id so that no notification is
// skipped or repeated.
package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// Platform is this connector's name.
const Platform = "mastodon"

// Limits of a stock Mastodon instance (instances may raise the text limit;
// 500 is the safe common value).
const (
	MaxChars      = 500
	maxAltText    = 1500
	notifPageSize = 40
	// lookupPages bounds how far back Lookup searches (40 statuses each).
	lookupPages = 5
	// mediaPolls bounds waiting for asynchronous media processing.
	mediaPolls = 30
)

// Connector is the Mastodon connector.
type Connector struct {
	client *connector.Client
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
}

// New returns a Mastodon connector using the shared options.
func New(o connector.Options) *Connector {
	c := o.NewClient(Platform)
	c.RateLimit = rateLimit
	sleep := o.Sleep
	if sleep == nil {
		sleep = connector.SleepContext
	}
	return &Connector{client: c, sleep: sleep, now: o.Clock()}
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.Connecter
	connector.OAuthFlow
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: true,
		Inbound: []connector.InboundKind{connector.KindMention, connector.KindComment, connector.KindDM},
		Metrics: true, Connect: true, OAuth: true,
		Idempotency:   connector.IdempotencyNative,
		MaxTextLength: MaxChars, TextCounter: "mastodon",
		Media: connector.MediaRules{
			MaxImages: 4, MaxVideos: 1,
			ImageTypes:    []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"},
			VideoTypes:    []string{"video/mp4", "video/webm", "video/quicktime"},
			MaxImageBytes: 16 << 20, MaxVideoBytes: 99 << 20,
			AltTextMax: maxAltText,
		},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountMastodon, len(v.Media) == 0)
	return append(ps, connector.ValidateMedia(caps.Media, v.Media, false)...)
}

// rateLimit: Mastodon's X-RateLimit-* are per account (token), except the
// unauthenticated per-IP limit; a 429 for a channel is channel-scoped.
func rateLimit(resp *connector.Response, now time.Time) connector.RateLimit {
	return connector.ParseRateLimit(resp.Header, now)
}

func base(acct *connector.Account) (string, error) {
	b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/")
	if b == "" {
		return "", &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Code: "no_instance",
			Message: "the channel has no Mastodon instance URL"}
	}
	if !strings.Contains(b, "://") {
		b = "https://" + b
	}
	return b, nil
}

// status is the part of Mastodon's Status entity the hub uses.
type status struct {
	ID                 string    `json:"id"`
	CreatedAt          time.Time `json:"created_at"`
	InReplyToID        *string   `json:"in_reply_to_id"`
	InReplyToAccountID *string   `json:"in_reply_to_account_id"`
	Visibility         string    `json:"visibility"`
	Language           *string   `json:"language"`
	URL                *string   `json:"url"`
	URI                string    `json:"uri"`
	Content            string    `json:"content"`
	SpoilerText        string    `json:"spoiler_text"`
	RepliesCount       int64     `json:"replies_count"`
	ReblogsCount       int64     `json:"reblogs_count"`
	FavouritesCount    int64     `json:"favourites_count"`
	Account            account   `json:"account"`
}

type account struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Acct           string `json:"acct"`
	DisplayName    string `json:"display_name"`
	URL            string `json:"url"`
	FollowersCount int64  `json:"followers_count"`
	FollowingCount int64  `json:"following_count"`
	StatusesCount  int64  `json:"statuses_count"`
}

type notification struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Account   account   `json:"account"`
	Status    *status   `json:"status"`
}

type mediaAttachment struct {
	ID  string  `json:"id"`
	URL *string `json:"url"`
}

func (s *status) published() connector.Published {
	p := connector.Published{ID: s.ID, URL: s.URI, PublishedAt: s.CreatedAt}
	if s.URL != nil && *s.URL != "" {
		p.URL = *s.URL
	}
	return p
}

// Publish implements connector.Publisher.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Published{}, err
	}
	mediaIDs := make([]string, 0, len(req.Variant.Media))
	for i, m := range req.Variant.Media {
		id, err := c.uploadMedia(ctx, acct, b, m)
		if err != nil {
			return connector.Published{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		mediaIDs = append(mediaIDs, id)
	}
	body := map[string]any{"status": statusText(req), "visibility": "public"}
	if len(mediaIDs) > 0 {
		body["media_ids"] = mediaIDs
	}
	if req.Variant.Language != "" {
		body["language"] = req.Variant.Language
	}
	if req.Variant.ContentWarning != "" {
		body["spoiler_text"] = req.Variant.ContentWarning
		body["sensitive"] = true
	}
	if r := req.InReplyTo; r != nil {
		body["in_reply_to_id"] = r.ExternalID
		if r.Kind == connector.KindDM {
			body["visibility"] = "direct"
		}
	}
	hr, err := connector.JSONRequest(http.MethodPost, b+"/api/v1/statuses", body)
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op = "publish"
	hr.Header = http.Header{"Idempotency-Key": {req.IdempotencyKey}}
	var st status
	if _, err := c.client.JSON(ctx, acct, hr, &st); err != nil {
		return connector.Published{}, err
	}
	if st.ID == "" {
		return connector.Published{}, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "publish",
			Message: "the instance answered without a status id"}
	}
	return st.published(), nil
}

// statusText is the text sent: a reply mentions its addressee, because
// Mastodon delivers replies and direct messages to the accounts mentioned.
func statusText(req connector.PublishRequest) string {
	text := req.Variant.Text
	if r := req.InReplyTo; r != nil && r.AuthorHandle != "" {
		h := "@" + strings.TrimPrefix(r.AuthorHandle, "@")
		if !strings.Contains(text, h) {
			text = h + " " + text
		}
	}
	return text
}

// uploadMedia uploads one attachment with POST /api/v2/media and, when
// the instance processes it asynchronously (202, url null), polls GET
// /api/v1/media/:id until it answers 200 (206 means still processing).
// An orphaned upload is harmless (the instance removes unattached media),
// so the upload may be retried like an idempotent request.
func (c *Connector) uploadMedia(ctx context.Context, acct *connector.Account, b string, m connector.Media) (string, error) {
	fields := map[string]string{}
	if m.AltText != "" {
		fields["description"] = m.AltText
	}
	getBody, ct := connector.MultipartMedia(fields, "file", m)
	var att mediaAttachment
	resp, err := c.client.JSON(ctx, acct, &connector.Request{Op: "upload media", Method: http.MethodPost,
		URL: b + "/api/v2/media", GetBody: getBody, ContentType: ct, Idempotent: true}, &att)
	if err != nil {
		return "", err
	}
	if resp.Status == http.StatusOK && att.URL != nil {
		return att.ID, nil
	}
	for range mediaPolls {
		if err := c.sleep(ctx, time.Second); err != nil {
			return "", &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "upload media", Err: err}
		}
		var a mediaAttachment
		r, err := c.client.JSON(ctx, acct, &connector.Request{Op: "media status", Method: http.MethodGet,
			URL: b + "/api/v1/media/" + url.PathEscape(att.ID)}, &a)
		if err != nil {
			return "", err
		}
		if r.Status == http.StatusOK {
			return att.ID, nil
		}
	}
	return "", &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "upload media",
		Message: "the instance is still processing the media; try again later"}
}

// Lookup implements connector.Publisher. Mastodon keeps idempotency keys
// for an hour only and cannot be asked about them, so Lookup searches the
// account's recent statuses (back to FirstAttemptAt, at most 200) for one
// with the same text and reply target.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	if acct.ExternalID == "" {
		if _, err := c.verify(ctx, acct, b); err != nil {
			return connector.Published{}, false, err
		}
	}
	want := normalise(statusText(req))
	wantReply := ""
	if req.InReplyTo != nil {
		wantReply = req.InReplyTo.ExternalID
	}
	// Allow for clock skew between us and the instance.
	since := req.FirstAttemptAt.Add(-5 * time.Minute)
	u := b + "/api/v1/accounts/" + url.PathEscape(acct.ExternalID) + "/statuses?limit=40"
	for range lookupPages {
		var page []status
		resp, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet, URL: u}, &page)
		if err != nil {
			return connector.Published{}, false, err
		}
		for _, s := range page {
			reply := ""
			if s.InReplyToID != nil {
				reply = *s.InReplyToID
			}
			if reply == wantReply && normalise(connector.HTMLToText(s.Content)) == want {
				return s.published(), true, nil
			}
		}
		if len(page) == 0 || (!req.FirstAttemptAt.IsZero() && page[len(page)-1].CreatedAt.Before(since)) {
			break
		}
		next := connector.ParseLinkHeader(resp.Header.Get("Link"))["next"]
		if next == "" {
			break
		}
		u = next
	}
	return connector.Published{}, false, nil
}

// normalise makes posted text and rendered content comparable: whitespace
// collapsed, remote mentions shortened as Mastodon renders them.
func normalise(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		if strings.HasPrefix(f, "@") {
			if j := strings.IndexByte(f[1:], '@'); j > 0 {
				fields[i] = f[:j+1]
			}
		}
	}
	return strings.Join(fields, " ")
}

// Delete implements connector.Publisher.
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	b, err := base(acct)
	if err != nil {
		return err
	}
	_, err = c.client.Do(ctx, acct, &connector.Request{Op: "delete", Method: http.MethodDelete,
		URL: b + "/api/v1/statuses/" + url.PathEscape(platformID)})
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil // already gone
	}
	return err
}

// FetchInbound implements connector.InboundFetcher. The cursor is the id
// of the newest mention notification already returned. With a cursor, the
// page is requested with min_id (the notifications immediately newer than
// it), so a backlog is read in order and nothing between two polls is
// skipped; without one, the newest page is read.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Page{}, err
	}
	q := url.Values{"types[]": {"mention"}, "limit": {fmt.Sprint(notifPageSize)}}
	if cursor != "" {
		q.Set("min_id", cursor)
	}
	var ns []notification
	resp, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
		URL: b + "/api/v1/notifications?" + q.Encode()}, &ns)
	if err != nil {
		return connector.Page{}, err
	}
	slices.SortFunc(ns, func(x, y notification) int { return compareIDs(x.ID, y.ID) })
	page := connector.Page{Cursor: cursor, More: cursor != "" && len(ns) >= notifPageSize}
	host := hostOf(b)
	for _, n := range ns {
		if compareIDs(n.ID, page.Cursor) > 0 || page.Cursor == "" {
			page.Cursor = n.ID
		}
		if n.Type != "mention" || n.Status == nil {
			continue
		}
		page.Items = append(page.Items, inboundItem(acct, host, n.Status))
	}
	if page.Cursor == "" {
		// Nothing yet: remember where "now" is so the next poll does not
		// take the newest page again and skip what arrived in between.
		// The Link header's prev (min_id) would do; with no items there
		// is none, so "0" means "from the beginning" from now on.
		page.Cursor = "0"
		if prev := connector.ParseLinkHeader(resp.Header.Get("Link"))["prev"]; prev != "" {
			if pu, err := url.Parse(prev); err == nil && pu.Query().Get("min_id") != "" {
				page.Cursor = pu.Query().Get("min_id")
			}
		}
	}
	return page, nil
}

func inboundItem(acct *connector.Account, host string, s *status) connector.InboundItem {
	kind := connector.KindMention
	switch {
	case s.Visibility == "direct":
		kind = connector.KindDM
	case s.InReplyToAccountID != nil && *s.InReplyToAccountID == acct.ExternalID && acct.ExternalID != "":
		kind = connector.KindComment
	}
	it := connector.InboundItem{
		ExternalID: s.ID, Kind: kind, CreatedAt: s.CreatedAt, URL: s.URI,
		Text: connector.HTMLToText(s.Content),
		Author: connector.Author{ExternalID: s.Account.ID, Name: s.Account.DisplayName,
			Handle: fullHandle(s.Account.Acct, host), URL: s.Account.URL},
	}
	if it.Author.Name == "" {
		it.Author.Name = s.Account.Username
	}
	if s.SpoilerText != "" {
		it.Text = s.SpoilerText + "\n\n" + it.Text
	}
	if s.URL != nil && *s.URL != "" {
		it.URL = *s.URL
	}
	if s.InReplyToID != nil {
		it.InReplyTo = *s.InReplyToID
	}
	if s.Language != nil {
		it.Language = *s.Language
	}
	return it
}

// fullHandle turns Mastodon's acct ("alice" for local accounts,
// "alice@other.social" for remote ones) into "@alice@host".
func fullHandle(acct, host string) string {
	if acct == "" {
		return ""
	}
	if !strings.Contains(acct, "@") && host != "" {
		acct += "@" + host
	}
	return "@" + acct
}

func hostOf(b string) string {
	if u, err := url.Parse(b); err == nil {
		return u.Host
	}
	return ""
}

// compareIDs orders Mastodon ids, which are decimal strings of varying
// length (numerically, not lexically); other strings compare lexically.
func compareIDs(a, b string) int {
	if isDigits(a) && isDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) - len(b)
		}
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FetchMetrics implements connector.MetricsFetcher: the account's counts
// from verify_credentials, and each post's favourites, reblogs and replies.
// Mastodon has no impressions (-1).
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	me, err := c.verify(ctx, acct, b)
	if err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: me.FollowersCount, Following: me.FollowingCount, Posts: me.StatusesCount}
	for _, id := range postIDs {
		var s status
		_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "post metrics", Method: http.MethodGet,
			URL: b + "/api/v1/statuses/" + url.PathEscape(id)}, &s)
		var e *connector.Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			continue // deleted on the platform
		}
		if err != nil {
			return m, err
		}
		m.PostStats = append(m.PostStats, connector.PostMetrics{ID: s.ID, Likes: s.FavouritesCount,
			Shares: s.ReblogsCount, Replies: s.RepliesCount, Impressions: -1})
	}
	return m, nil
}

func (c *Connector) verify(ctx context.Context, acct *connector.Account, b string) (account, error) {
	var me account
	_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "verify credentials", Method: http.MethodGet,
		URL: b + "/api/v1/accounts/verify_credentials"}, &me)
	if err != nil {
		return me, err
	}
	if me.ID == "" {
		return me, &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "verify credentials",
			Message: "the instance answered without an account id"}
	}
	acct.ExternalID = me.ID
	acct.Handle = fullHandle(me.Acct, hostOf(b))
	return me, nil
}

// Connect implements connector.Connecter: it checks the token with
// verify_credentials and fills the account's id and handle.
func (c *Connector) Connect(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Profile{}, err
	}
	if acct.Credentials.AccessToken.IsZero() {
		return connector.Profile{}, &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform,
			Op: "connect", Message: "an access token is required"}
	}
	me, err := c.verify(ctx, acct, b)
	if err != nil {
		return connector.Profile{}, err
	}
	if acct.SaveCredentials != nil {
		if err := acct.SaveCredentials(ctx, acct.Credentials); err != nil {
			return connector.Profile{}, err
		}
	}
	return connector.Profile{ExternalID: me.ID, Handle: acct.Handle, DisplayName: me.DisplayName,
		URL: me.URL, Followers: me.FollowersCount}, nil
}

// DefaultScopes are what the hub asks for: read notifications and
// statuses, write statuses and media.
var DefaultScopes = []string{"read", "write:statuses", "write:media"}

// RegisterApp registers the hub as an application on an instance (POST
// /api/v1/apps). Mastodon apps are per instance; the caller stores the
// returned App per instance URL and reuses it.
func (c *Connector) RegisterApp(ctx context.Context, instanceURL, name, redirectURI, website string, scopes []string) (connector.App, error) {
	b, err := base(&connector.Account{BaseURL: instanceURL})
	if err != nil {
		return connector.App{}, err
	}
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	body := map[string]any{"client_name": name, "redirect_uris": redirectURI, "scopes": strings.Join(scopes, " ")}
	if website != "" {
		body["website"] = website
	}
	req, err := connector.JSONRequest(http.MethodPost, b+"/api/v1/apps", body)
	if err != nil {
		return connector.App{}, err
	}
	req.Op = "register app"
	var out struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if _, err := c.client.JSON(ctx, nil, req, &out); err != nil {
		return connector.App{}, err
	}
	return connector.App{ClientID: out.ClientID, ClientSecret: secret.Secret(out.ClientSecret),
		RedirectURI: redirectURI, Scopes: scopes}, nil
}

// AuthorizeURL implements connector.OAuthFlow.
func (c *Connector) AuthorizeURL(acct *connector.Account, app connector.App, state string, pkce connector.PKCE) (string, error) {
	b, err := base(acct)
	if err != nil {
		return "", err
	}
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI},
		"scope": {strings.Join(scopes, " ")}, "state": {state}}
	if pkce.Challenge != "" {
		q.Set("code_challenge", pkce.Challenge)
		q.Set("code_challenge_method", "S256")
	}
	return b + "/oauth/authorize?" + q.Encode(), nil
}

// Exchange implements connector.OAuthFlow (POST /oauth/token with the
// authorization_code grant).
func (c *Connector) Exchange(ctx context.Context, acct *connector.Account, app connector.App, code string, pkce connector.PKCE) (connector.Credentials, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Credentials{}, err
	}
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret.Reveal()}, "redirect_uri": {app.RedirectURI}, "scope": {strings.Join(scopes, " ")}}
	if pkce.Verifier != "" {
		form.Set("code_verifier", pkce.Verifier)
	}
	req := connector.FormRequest(http.MethodPost, b+"/oauth/token", form)
	req.Op, req.NoAuth, req.NoRefresh = "oauth token", true, true
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	if _, err := c.client.JSON(ctx, nil, req, &tok); err != nil {
		var e *connector.Error
		if errors.As(err, &e) && e.Kind == connector.KindPermanent {
			e.Kind = connector.KindReconnectNeeded // a bad or used code: start the flow again
		}
		return connector.Credentials{}, err
	}
	return connector.Credentials{AccessToken: secret.Secret(tok.AccessToken), TokenType: tok.TokenType,
		Scopes: strings.Fields(tok.Scope)}, nil
}
