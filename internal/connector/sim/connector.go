package sim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// Platform is the simulator's platform name.
const Platform = "simulator"

// inboxPage is how many inbox items one FetchInbound asks for.
const inboxPage = 50

// Connector talks to a simulator Server over HTTP. Account.BaseURL is
// where the Server is mounted (e.g. http://localhost:8080/sim).
// Credentials are access and refresh tokens; Identifier alone (the handle)
// is enough to Connect, since the simulator creates accounts on demand.
type Connector struct {
	client *connector.Client
	now    func() time.Time
}

// New returns the simulator connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), now: o.Clock()}
	c.client.Refresher = c
	return c
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.DemographicsFetcher
	connector.Connecter
	connector.Refresher
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: true,
		Inbound: []connector.InboundKind{connector.KindComment, connector.KindMention, connector.KindReply, connector.KindDM},
		Metrics: true, Demographics: true, Connect: true, Refresh: true,
		Idempotency:   connector.IdempotencyNative,
		MaxTextLength: MaxChars, TextCounter: "graphemes",
		Media: connector.MediaRules{MaxImages: 4, MaxVideos: 1,
			ImageTypes: []string{"image/jpeg", "image/png", "image/gif", "image/webp"},
			VideoTypes: []string{"video/mp4", "video/quicktime"}},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountGraphemes, len(v.Media) == 0)
	return append(ps, connector.ValidateMedia(caps.Media, v.Media, false)...)
}

func base(acct *connector.Account) (string, error) {
	b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/")
	if b == "" {
		return "", &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Code: "no_base_url",
			Message: "the channel has no simulator URL"}
	}
	return b, nil
}

func (c *Connector) published(b string, p Post) connector.Published {
	return connector.Published{ID: p.ID, URL: b + p.Path, PublishedAt: p.CreatedAt}
}

// Publish implements connector.Publisher. The simulator keeps idempotency
// keys for ever, so a retry with the same key returns the first post.
// Media are described, not uploaded: the simulator only counts them.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Published{}, err
	}
	type media struct {
		Kind string `json:"kind"`
		Alt  string `json:"alt,omitempty"`
	}
	body := struct {
		Text       string  `json:"text"`
		Visibility string  `json:"visibility"`
		InReplyTo  string  `json:"in_reply_to,omitempty"`
		Media      []media `json:"media,omitempty"`
	}{Text: req.Variant.Text, Visibility: "public"}
	for _, m := range req.Variant.Media {
		body.Media = append(body.Media, media{Kind: string(m.Kind), Alt: m.AltText})
	}
	if r := req.InReplyTo; r != nil {
		body.InReplyTo = r.ExternalID
		if r.Kind == connector.KindDM {
			body.Visibility = "direct"
		}
	}
	hr, err := connector.JSONRequest(http.MethodPost, b+"/api/posts", body)
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op = "publish"
	hr.Header = http.Header{"Idempotency-Key": {req.IdempotencyKey}}
	var p Post
	if _, err := c.client.JSON(ctx, acct, hr, &p); err != nil {
		return connector.Published{}, err
	}
	return c.published(b, p), nil
}

// Lookup implements connector.Publisher exactly: the simulator can be
// asked for the post made with an idempotency key.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	var p Post
	_, err = c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
		URL: b + "/api/posts?idempotency_key=" + url.QueryEscape(req.IdempotencyKey)}, &p)
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return connector.Published{}, false, nil
	}
	if err != nil {
		return connector.Published{}, false, err
	}
	return c.published(b, p), true, nil
}

// Delete implements connector.Publisher.
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	b, err := base(acct)
	if err != nil {
		return err
	}
	_, err = c.client.Do(ctx, acct, &connector.Request{Op: "delete", Method: http.MethodDelete,
		URL: b + "/api/posts/" + url.PathEscape(platformID)})
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// FetchInbound implements connector.InboundFetcher. The cursor is the
// simulator's inbox sequence number of the last item returned; an empty
// cursor starts at the beginning of the (bounded) inbox.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Page{}, err
	}
	if cursor == "" {
		cursor = "0"
	}
	if _, err := strconv.ParseInt(cursor, 10, 64); err != nil {
		return connector.Page{}, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "fetch inbound",
			Message: "invalid cursor " + strconv.Quote(cursor)}
	}
	var ip InboxPage
	_, err = c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
		URL: b + "/api/inbox?after=" + url.QueryEscape(cursor) + "&limit=" + strconv.Itoa(inboxPage)}, &ip)
	if err != nil {
		return connector.Page{}, err
	}
	page := connector.Page{Cursor: ip.Cursor, More: ip.More}
	if page.Cursor == "" {
		page.Cursor = cursor
	}
	for _, e := range ip.Items {
		page.Items = append(page.Items, connector.InboundItem{
			ExternalID: e.ID, Kind: connector.InboundKind(e.Kind), Text: e.Text, CreatedAt: e.CreatedAt,
			InReplyTo: e.InReplyTo, ThreadID: e.ThreadID,
			Author: connector.Author{ExternalID: e.Author.ID, Name: e.Author.Name, Handle: "@" + e.Author.Handle},
		})
	}
	return page, nil
}

// FetchMetrics implements connector.MetricsFetcher.
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	var me Me
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "metrics", Method: http.MethodGet, URL: b + "/api/me"}, &me); err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: me.Followers, Following: me.Following, Posts: me.Posts}
	for _, id := range postIDs {
		var p Post
		_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "post metrics", Method: http.MethodGet,
			URL: b + "/api/posts/" + url.PathEscape(id)}, &p)
		var e *connector.Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return m, err
		}
		m.PostStats = append(m.PostStats, connector.PostMetrics{ID: p.ID, Likes: p.Likes, Shares: p.Shares,
			Replies: p.Replies, Impressions: -1})
	}
	return m, nil
}

// Connect implements connector.Connecter. With an access token it
// verifies it; with only Credentials.Identifier (a handle) it opens a
// session, creating the simulated account if needed.
func (c *Connector) Connect(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Profile{}, err
	}
	if acct.Credentials.AccessToken.IsZero() {
		if acct.Credentials.Identifier == "" {
			return connector.Profile{}, &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform, Op: "connect",
				Message: "a handle or an access token is required"}
		}
		// Credentials.Extra["imitates"] gives a new simulated account a
		// platform's audience mix (see AudienceOf).
		session := map[string]string{"handle": acct.Credentials.Identifier}
		if im := acct.Credentials.Extra["imitates"]; im != "" {
			session["imitates"] = im
		}
		req, err := connector.JSONRequest(http.MethodPost, b+"/api/sessions", session)
		if err != nil {
			return connector.Profile{}, err
		}
		req.Op, req.NoAuth, req.NoRefresh = "connect", true, true
		var tok tokenAnswer
		if _, err := c.client.JSON(ctx, acct, req, &tok); err != nil {
			return connector.Profile{}, err
		}
		acct.Credentials = c.credentials(acct.Credentials, tok)
	}
	var me Me
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "connect", Method: http.MethodGet, URL: b + "/api/me"}, &me); err != nil {
		return connector.Profile{}, err
	}
	acct.ExternalID, acct.Handle = me.ID, "@"+me.Handle
	if acct.SaveCredentials != nil {
		if err := acct.SaveCredentials(ctx, acct.Credentials); err != nil {
			return connector.Profile{}, err
		}
	}
	return connector.Profile{ExternalID: me.ID, Handle: acct.Handle, DisplayName: me.DisplayName,
		URL: b + "/" + me.Handle, Followers: me.Followers}, nil
}

func (c *Connector) credentials(old connector.Credentials, tok tokenAnswer) connector.Credentials {
	n := old
	n.AccessToken = secret.Secret(tok.AccessToken)
	if tok.RefreshToken != "" {
		n.RefreshToken = secret.Secret(tok.RefreshToken)
	}
	n.TokenType = tok.TokenType
	n.ExpiresAt = time.Time{}
	if tok.ExpiresIn > 0 {
		n.ExpiresAt = c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return n
}

// Refresh implements connector.Refresher with the refresh_token grant.
// The simulator rotates refresh tokens, like X does; the shared client
// saves the new pair before retrying.
func (c *Connector) Refresh(ctx context.Context, acct *connector.Account) (connector.Credentials, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Credentials{}, err
	}
	if acct.Credentials.RefreshToken.IsZero() {
		return connector.Credentials{}, &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform,
			Op: "refresh", Message: "no refresh token"}
	}
	req := connector.FormRequest(http.MethodPost, b+"/api/oauth/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {acct.Credentials.RefreshToken.Reveal()}})
	req.Op, req.NoAuth, req.NoRefresh = "refresh", true, true
	var tok tokenAnswer
	if _, err := c.client.JSON(ctx, acct, req, &tok); err != nil {
		return connector.Credentials{}, err
	}
	return c.credentials(acct.Credentials, tok), nil
}
