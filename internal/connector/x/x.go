// Package x connects channels on X through the X API v2.
//
// Channels are connected with OAuth 2.0 (authorization code with PKCE,
// S256) at x.com/i/oauth2/authorize; the token endpoint is
// api.x.com/2/oauth2/token. With the offline.access scope X issues a
// refresh token, valid for one use: every refresh rotates it, so the new
// one is saved before the request is retried (the shared Client does that
// through Account.SaveCredentials), and the old one is kept when X returns
// none.
//
// Account.BaseURL overrides the API host (tests, proxies); it defaults to
// https://api.x.com. Account.ExternalID is the user's numeric id; it is
// filled by Profile (call it after Exchange) or looked up with
// GET /2/users/me when missing.
//
// X has no idempotency key for POST /2/tweets. A lost answer is reconciled
// by Lookup, which searches the account's recent posts (since the first
// attempt) for one with the same text and reply target; X itself refuses
// an identical text a second time (403 "duplicate content"), which Publish
// also reconciles with Lookup.
//
// Inbound items are the account's mentions (GET /2/users/:id/mentions).
// X answers newest first and pages backwards with pagination_token, so
// the cursor records the newest id already delivered (since_id) and, while
// a backlog is being read, the page token and the newest id of that sweep:
// no mention is delivered twice or skipped, even across restarts.
package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Platform is this connector's name.
const Platform = "x"

// Endpoints and limits.
const (
	DefaultAPIBase    = "https://api.x.com"
	AuthorizeEndpoint = "https://x.com/i/oauth2/authorize"
	// MaxWeighted is X's limit on the weighted length (connector.CountX).
	MaxWeighted = 280

	mentionPageSize = 100 // X's max_results limit for timelines
	lookupPageSize  = 100
	lookupPages     = 3
	metricsBatch    = 100 // ids per GET /2/tweets
)

// DefaultScopes are what the hub asks for: read and write posts, read the
// user, upload media, and a refresh token (offline.access).
var DefaultScopes = []string{"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}

// Connector is the X connector.
type Connector struct {
	client   *connector.Client
	now      func() time.Time
	pageSize int
}

// New returns an X connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), now: o.Clock(), pageSize: mentionPageSize}
	c.client.ParseError = parseError
	c.client.RateLimit = rateLimit
	c.client.Refresher = c
	return c
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.Refresher
	connector.OAuthFlow
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: true,
		Inbound: []connector.InboundKind{connector.KindMention, connector.KindComment},
		Metrics: true, OAuth: true, Refresh: true,
		Idempotency:   connector.IdempotencyNone,
		MaxTextLength: MaxWeighted, TextCounter: "x-weighted",
		Media: connector.MediaRules{
			// Simple (one-request) upload only: images up to 5 MB.
			// Videos need the chunked upload, which is not implemented.
			MaxImages:     4,
			ImageTypes:    []string{"image/jpeg", "image/png", "image/webp", "image/gif"},
			MaxImageBytes: 5 << 20,
			AltTextMax:    1000,
		},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(tweetText(v), caps.MaxTextLength, connector.CountX, len(v.Media) == 0)
	return append(ps, connector.ValidateMedia(caps.Media, v.Media, false)...)
}

// tweetText is the text sent: X shows links from the text as cards, so a
// separate Link is appended unless the text already has it.
func tweetText(v connector.Variant) string {
	if v.Link == "" || strings.Contains(v.Text, v.Link) {
		return v.Text
	}
	if strings.TrimSpace(v.Text) == "" {
		return v.Link
	}
	return v.Text + " " + v.Link
}

func base(acct *connector.Account) string {
	if acct != nil {
		if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
			return b
		}
	}
	return DefaultAPIBase
}

// parseError reads X's error bodies: problem details {"title", "detail",
// "type", "status"}, optionally with "errors": [{"message"}…], and the
// OAuth token endpoint's {"error", "error_description"}.
func parseError(resp *connector.Response) (code, message string) {
	var b struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Type   string `json:"type"`
		Errors []struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
			Title   string `json:"title"`
		} `json:"errors"`
	}
	if json.Unmarshal(resp.Body, &b) == nil && (b.Title != "" || b.Detail != "" || len(b.Errors) > 0) {
		code = b.Title
		if i := strings.LastIndexByte(b.Type, '/'); i >= 0 && b.Type != "about:blank" {
			code = b.Type[i+1:]
		}
		switch {
		case len(b.Errors) > 0 && b.Errors[0].Message != "":
			return code, b.Errors[0].Message
		case len(b.Errors) > 0 && b.Errors[0].Detail != "":
			return code, b.Errors[0].Detail
		case b.Detail != "":
			return code, b.Detail
		}
		return code, b.Title
	}
	return connector.ParseErrorBody(resp)
}

// rateLimit reads x-rate-limit-* (15-minute windows, reset in epoch
// seconds) and, for posting, the 24-hour caps X reports on a 429:
// x-user-limit-24hour-* (this channel) and x-app-limit-24hour-* (every
// channel of the app).
func rateLimit(resp *connector.Response, now time.Time) connector.RateLimit {
	rl := connector.ParseRateLimit(resp.Header, now)
	for _, cap := range []struct {
		prefix string
		scope  connector.Scope
	}{{"X-User-Limit-24hour-", connector.ScopeChannel}, {"X-App-Limit-24hour-", connector.ScopeApp}} {
		if strings.TrimSpace(resp.Header.Get(cap.prefix+"Remaining")) != "0" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get(cap.prefix+"Reset")), 10, 64)
		if err != nil {
			continue
		}
		if t := time.Unix(n, 0); t.After(rl.Reset) {
			rl.Known, rl.Remaining, rl.Reset, rl.Scope = true, 0, t, cap.scope
		}
	}
	return rl
}

// tweet is the part of X's Post object the hub uses.
type tweet struct {
	ID               string    `json:"id"`
	Text             string    `json:"text"`
	AuthorID         string    `json:"author_id"`
	ConversationID   string    `json:"conversation_id"`
	InReplyToUserID  string    `json:"in_reply_to_user_id"`
	Lang             string    `json:"lang"`
	CreatedAt        time.Time `json:"created_at"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
	PublicMetrics *struct {
		RetweetCount    int64  `json:"retweet_count"`
		ReplyCount      int64  `json:"reply_count"`
		LikeCount       int64  `json:"like_count"`
		QuoteCount      int64  `json:"quote_count"`
		ImpressionCount *int64 `json:"impression_count"`
	} `json:"public_metrics"`
}

func (t *tweet) repliedTo() string {
	for _, r := range t.ReferencedTweets {
		if r.Type == "replied_to" {
			return r.ID
		}
	}
	return ""
}

type user struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Username      string `json:"username"`
	PublicMetrics struct {
		FollowersCount int64 `json:"followers_count"`
		FollowingCount int64 `json:"following_count"`
		TweetCount     int64 `json:"tweet_count"`
	} `json:"public_metrics"`
}

type meta struct {
	ResultCount int    `json:"result_count"`
	NewestID    string `json:"newest_id"`
	OldestID    string `json:"oldest_id"`
	NextToken   string `json:"next_token"`
}

type timeline struct {
	Data     []tweet `json:"data"`
	Includes struct {
		Users []user `json:"users"`
	} `json:"includes"`
	Meta meta `json:"meta"`
}

func postURL(acct *connector.Account, id string) string {
	if h := strings.TrimPrefix(acct.Handle, "@"); h != "" {
		return "https://x.com/" + url.PathEscape(h) + "/status/" + id
	}
	return "https://x.com/i/web/status/" + id
}

// Publish implements connector.Publisher (POST /2/tweets).
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	if r := req.InReplyTo; r != nil && r.Kind == connector.KindDM {
		return connector.Published{}, connector.Unsupported(Platform, "reply to a direct message")
	}
	b := base(acct)
	var mediaIDs []string
	for i, m := range req.Variant.Media {
		id, err := c.uploadMedia(ctx, acct, b, m)
		if err != nil {
			return connector.Published{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		mediaIDs = append(mediaIDs, id)
	}
	body := map[string]any{"text": tweetText(req.Variant)}
	if len(mediaIDs) > 0 {
		body["media"] = map[string]any{"media_ids": mediaIDs}
	}
	if r := req.InReplyTo; r != nil {
		body["reply"] = map[string]any{"in_reply_to_tweet_id": r.ExternalID}
	}
	hr, err := connector.JSONRequest(http.MethodPost, b+"/2/tweets", body)
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op = "publish"
	var out struct {
		Data tweet `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, hr, &out); err != nil {
		var e *connector.Error
		if errors.As(err, &e) && e.Status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Message), "duplicate") {
			// X refuses the same text twice: an earlier attempt went
			// through. Find it rather than fail.
			if p, found, lerr := c.Lookup(ctx, acct, req); lerr == nil && found {
				return p, nil
			}
		}
		return connector.Published{}, err
	}
	if out.Data.ID == "" {
		return connector.Published{}, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "publish",
			Message: "X answered without a post id"}
	}
	return connector.Published{ID: out.Data.ID, URL: postURL(acct, out.Data.ID), PublishedAt: c.now()}, nil
}

// uploadMedia uploads one image with POST /2/media/upload (multipart,
// "media" and "media_category"). An unused upload expires on its own, so
// the upload is retried like an idempotent request.
func (c *Connector) uploadMedia(ctx context.Context, acct *connector.Account, b string, m connector.Media) (string, error) {
	category := "tweet_image"
	if m.Kind == connector.MediaGIF {
		category = "tweet_gif"
	}
	if m.Kind == connector.MediaVideo {
		return "", connector.Unsupported(Platform, "video upload")
	}
	getBody, ct := connector.MultipartMedia(map[string]string{"media_category": category}, "media", m)
	var out struct {
		Data struct {
			ID       string `json:"id"`
			MediaKey string `json:"media_key"`
		} `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "upload media", Method: http.MethodPost,
		URL: b + "/2/media/upload", GetBody: getBody, ContentType: ct, Idempotent: true}, &out); err != nil {
		return "", err
	}
	if out.Data.ID == "" {
		return "", &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "upload media",
			Message: "X answered without a media id"}
	}
	if m.AltText != "" {
		req, err := connector.JSONRequest(http.MethodPost, b+"/2/media/metadata", map[string]any{
			"id": out.Data.ID, "metadata": map[string]any{"alt_text": map[string]string{"text": m.AltText}}})
		if err != nil {
			return "", err
		}
		req.Op, req.Idempotent = "media alt text", true
		if _, err := c.client.Do(ctx, acct, req); err != nil {
			return "", err
		}
	}
	return out.Data.ID, nil
}

// Lookup implements connector.Publisher: it searches the account's own
// posts since the first attempt (at most 300) for one with the same text
// and reply target.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	uid, err := c.userID(ctx, acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	want := normalise(tweetText(req.Variant))
	wantReply := ""
	if req.InReplyTo != nil {
		wantReply = req.InReplyTo.ExternalID
	}
	q := url.Values{"max_results": {strconv.Itoa(lookupPageSize)}, "tweet.fields": {"created_at,referenced_tweets"}}
	if !req.FirstAttemptAt.IsZero() {
		// Allow for clock skew between us and X.
		q.Set("start_time", req.FirstAttemptAt.Add(-5*time.Minute).UTC().Format(time.RFC3339))
	}
	for range lookupPages {
		var tl timeline
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
			URL: base(acct) + "/2/users/" + url.PathEscape(uid) + "/tweets?" + q.Encode()}, &tl); err != nil {
			return connector.Published{}, false, err
		}
		for _, t := range tl.Data {
			if t.repliedTo() == wantReply && normalise(t.Text) == want {
				return connector.Published{ID: t.ID, URL: postURL(acct, t.ID), PublishedAt: t.CreatedAt}, true, nil
			}
		}
		if tl.Meta.NextToken == "" {
			break
		}
		q.Set("pagination_token", tl.Meta.NextToken)
	}
	return connector.Published{}, false, nil
}

// normalise makes sent text and X's rendering comparable: X escapes &, <
// and >, replaces every link with a t.co link, appends a t.co link for
// attached media and puts the addressee's @handle before a reply. Links
// and leading mentions are dropped and whitespace collapsed.
func normalise(s string) string {
	s = html.UnescapeString(s)
	var b strings.Builder
	last := 0
	for _, u := range connector.FindURLs(s) {
		b.WriteString(s[last:u.Start])
		b.WriteByte(' ')
		last = u.End
	}
	b.WriteString(s[last:])
	fields := strings.Fields(b.String())
	for len(fields) > 0 && strings.HasPrefix(fields[0], "@") {
		fields = fields[1:]
	}
	return strings.Join(fields, " ")
}

// Delete implements connector.Publisher (DELETE /2/tweets/:id).
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	_, err := c.client.Do(ctx, acct, &connector.Request{Op: "delete", Method: http.MethodDelete,
		URL: base(acct) + "/2/tweets/" + url.PathEscape(platformID)})
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// mentionCursor is FetchInbound's cursor. Since is the newest mention id
// delivered by a completed sweep; Top and Token describe a sweep in
// progress (X pages from the newest backwards): Top is its newest id and
// becomes Since when the sweep ends, Token the page to read next.
type mentionCursor struct {
	Started bool   `json:"s"`
	Since   string `json:"since,omitempty"`
	Top     string `json:"top,omitempty"`
	Token   string `json:"token,omitempty"`
}

func (m mentionCursor) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// FetchInbound implements connector.InboundFetcher. Items within a page
// are oldest first; a backlog larger than a page is read newest page
// first (X cannot page forwards), each mention exactly once.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	var cur mentionCursor
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &cur); err != nil || !cur.Started {
			return connector.Page{}, connector.Errorf(connector.KindPermanent, Platform, "fetch inbound", "unreadable cursor %q", cursor)
		}
	}
	uid, err := c.userID(ctx, acct)
	if err != nil {
		return connector.Page{}, err
	}
	q := url.Values{
		"max_results":  {strconv.Itoa(c.pageSize)},
		"tweet.fields": {"created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,lang"},
		"expansions":   {"author_id"},
		"user.fields":  {"username,name"},
	}
	if cur.Since != "" {
		q.Set("since_id", cur.Since)
	}
	if cur.Token != "" {
		q.Set("pagination_token", cur.Token)
	}
	var tl timeline
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
		URL: base(acct) + "/2/users/" + url.PathEscape(uid) + "/mentions?" + q.Encode()}, &tl); err != nil {
		return connector.Page{}, err
	}
	users := map[string]user{}
	for _, u := range tl.Includes.Users {
		users[u.ID] = u
	}
	page := connector.Page{}
	for i := len(tl.Data) - 1; i >= 0; i-- { // X answers newest first
		t := tl.Data[i]
		page.Items = append(page.Items, inboundItem(uid, t, users[t.AuthorID]))
	}
	next := mentionCursor{Started: true, Since: cur.Since, Top: cur.Top}
	if cur.Token == "" {
		next.Top = tl.Meta.NewestID
	}
	switch {
	case !cur.Started:
		// "Start now": the newest page only, no back-filling.
		next = mentionCursor{Started: true, Since: tl.Meta.NewestID}
	case tl.Meta.NextToken != "":
		next.Token = tl.Meta.NextToken
		page.More = true
	default:
		if next.Top != "" {
			next.Since = next.Top
		}
		next.Top = ""
	}
	page.Cursor = next.String()
	return page, nil
}

func inboundItem(uid string, t tweet, author user) connector.InboundItem {
	kind := connector.KindMention
	if t.InReplyToUserID == uid {
		kind = connector.KindComment
	}
	it := connector.InboundItem{
		ExternalID: t.ID, Kind: kind, Text: html.UnescapeString(t.Text), CreatedAt: t.CreatedAt,
		InReplyTo: t.repliedTo(), ThreadID: t.ConversationID, Language: t.Lang,
		Author: connector.Author{ExternalID: t.AuthorID, Name: author.Name},
	}
	if author.Username != "" {
		it.Author.Handle = "@" + author.Username
		it.Author.URL = "https://x.com/" + author.Username
		it.URL = "https://x.com/" + author.Username + "/status/" + t.ID
	} else {
		it.URL = "https://x.com/i/web/status/" + t.ID
	}
	return it
}

// FetchMetrics implements connector.MetricsFetcher: the user's
// public_metrics and each post's public_metrics (GET /2/tweets?ids=…).
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	me, err := c.lookupUser(ctx, acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: me.PublicMetrics.FollowersCount,
		Following: me.PublicMetrics.FollowingCount, Posts: me.PublicMetrics.TweetCount}
	for batch := range slices.Chunk(postIDs, metricsBatch) {
		q := url.Values{"ids": {strings.Join(batch, ",")}, "tweet.fields": {"public_metrics"}}
		var out struct {
			Data []tweet `json:"data"` // unknown or deleted ids are in "errors"
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "post metrics", Method: http.MethodGet,
			URL: base(acct) + "/2/tweets?" + q.Encode()}, &out); err != nil {
			return m, err
		}
		for _, t := range out.Data {
			if t.PublicMetrics == nil {
				continue
			}
			pm := connector.PostMetrics{ID: t.ID, Likes: t.PublicMetrics.LikeCount,
				Shares: t.PublicMetrics.RetweetCount + t.PublicMetrics.QuoteCount, Replies: t.PublicMetrics.ReplyCount, Impressions: -1}
			if t.PublicMetrics.ImpressionCount != nil {
				pm.Impressions = *t.PublicMetrics.ImpressionCount
			}
			m.PostStats = append(m.PostStats, pm)
		}
	}
	return m, nil
}

// lookupUser returns the account's user with public_metrics: GET
// /2/users/:id, or /2/users/me when the id is not known yet.
func (c *Connector) lookupUser(ctx context.Context, acct *connector.Account) (user, error) {
	path := "/2/users/me"
	if acct.ExternalID != "" {
		path = "/2/users/" + url.PathEscape(acct.ExternalID)
	}
	var out struct {
		Data user `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "user lookup", Method: http.MethodGet,
		URL: base(acct) + path + "?user.fields=public_metrics"}, &out); err != nil {
		return user{}, err
	}
	if out.Data.ID == "" {
		return user{}, &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "user lookup",
			Message: "X answered without a user id"}
	}
	acct.ExternalID = out.Data.ID
	acct.Handle = "@" + out.Data.Username
	return out.Data, nil
}

func (c *Connector) userID(ctx context.Context, acct *connector.Account) (string, error) {
	if acct.ExternalID != "" {
		return acct.ExternalID, nil
	}
	u, err := c.lookupUser(ctx, acct)
	return u.ID, err
}

// Profile returns the connected user (GET /2/users/me) and fills
// acct.ExternalID and acct.Handle; call it after Exchange.
func (c *Connector) Profile(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	acct.ExternalID = ""
	u, err := c.lookupUser(ctx, acct)
	if err != nil {
		return connector.Profile{}, err
	}
	return connector.Profile{ExternalID: u.ID, Handle: "@" + u.Username, DisplayName: u.Name,
		URL: "https://x.com/" + u.Username, Followers: u.PublicMetrics.FollowersCount}, nil
}

// AuthorizeURL implements connector.OAuthFlow. X requires PKCE.
func (c *Connector) AuthorizeURL(acct *connector.Account, app connector.App, state string, pkce connector.PKCE) (string, error) {
	if pkce.Challenge == "" {
		return "", connector.Errorf(connector.KindPermanent, Platform, "authorize", "X requires PKCE")
	}
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI},
		"scope": {strings.Join(scopes, " ")}, "state": {state},
		"code_challenge": {pkce.Challenge}, "code_challenge_method": {"S256"}}
	return AuthorizeEndpoint + "?" + q.Encode(), nil
}

// Exchange implements connector.OAuthFlow (authorization code with PKCE).
func (c *Connector) Exchange(ctx context.Context, acct *connector.Account, app connector.App, code string, pkce connector.PKCE) (connector.Credentials, error) {
	return c.oauth().Exchange(ctx, acct, app, code, pkce)
}

// Refresh implements connector.Refresher (refresh_token grant). X rotates
// refresh tokens; the old one is kept if none comes back.
func (c *Connector) Refresh(ctx context.Context, acct *connector.Account) (connector.Credentials, error) {
	return c.oauth().Refresh(ctx, acct)
}

// oauth is X's token endpoint; a confidential client authenticates with
// HTTP Basic.
func (c *Connector) oauth() connector.OAuth2 {
	return connector.OAuth2{Client: c.client, Now: c.now, BasicAuth: true,
		TokenURL: func(acct *connector.Account) string { return base(acct) + "/2/oauth2/token" }}
}
