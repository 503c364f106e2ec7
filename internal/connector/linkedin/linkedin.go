// Package linkedin connects LinkedIn organisation (company) pages through
// LinkedIn's versioned REST API (api.linkedin.com/rest): the Posts API,
// socialActions comments, the Images API, network sizes and share
// statistics. Every request carries LinkedIn-Version (YYYYMM) and
// X-Restli-Protocol-Version: 2.0.0; URNs in paths and queries are
// URL-encoded as Rest.li requires.
//
// Account.ExternalID is the organisation id (or its URN); the channel is
// connected with 3-legged OAuth 2.0 (www.linkedin.com/oauth/v2). Access
// tokens last 60 days and are renewed with the refresh token (which
// LinkedIn does not rotate; the old one is kept). Account.BaseURL, if
// set, replaces both hosts (tests).
//
// Posts are created with POST /rest/posts; the new post's URN comes back
// in the x-restli-id header of the 201. There is no idempotency key:
// Lookup searches the organisation's recent posts (or a comment's
// replies) for the same text. Commentary uses LinkedIn's "little text"
// format, so reserved characters are escaped.
//
// Inbound items are comments on the organisation's recent posts
// (GET /rest/socialActions/{urn}/comments). The cursor keeps, per post,
// the comment total and a high-water mark (newest created time and the
// ids seen at it): nothing is delivered twice or skipped across restarts,
// whatever order LinkedIn lists comments in.
//
// LinkedIn's limits are daily and reset at midnight UTC, without reset
// headers; a 429 blocks the channel until then.
package linkedin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Platform is this connector's name.
const Platform = "linkedin"

// Endpoints, version and limits.
const (
	DefaultAPIBase   = "https://api.linkedin.com"
	DefaultOAuthBase = "https://www.linkedin.com"
	// DefaultVersion is the LinkedIn-Version sent (LinkedIn supports a
	// version for a year; set Connector.Version to move on).
	DefaultVersion = "202610"
	MaxChars       = 3000

	postWindow   = 20 // recent posts whose comments are polled
	commentCount = 50
	commentPages = 20
)

// DefaultScopes: post, comment and read as the organisation.
var DefaultScopes = []string{"w_organization_social", "r_organization_social", "rw_organization_admin"}

// Connector is the LinkedIn connector.
type Connector struct {
	client *connector.Client
	now    func() time.Time
	// Version is the LinkedIn-Version header value (YYYYMM).
	Version string
}

// New returns a LinkedIn connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), now: o.Clock(), Version: DefaultVersion}
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
		Inbound: []connector.InboundKind{connector.KindComment, connector.KindReply},
		Metrics: true, OAuth: true, Refresh: true,
		Idempotency:   connector.IdempotencyNone,
		MaxTextLength: MaxChars, TextCounter: "chars",
		Media: connector.MediaRules{
			MaxImages:     1,
			ImageTypes:    []string{"image/jpeg", "image/png", "image/gif"},
			MaxImageBytes: 36_152_320, // LinkedIn's image pixel/size cap, roughly
			AltTextMax:    4086,
		},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountChars, len(v.Media) == 0 && v.Link == "")
	ps = append(ps, connector.ValidateMedia(caps.Media, v.Media, false)...)
	if v.Link != "" && len(v.Media) > 0 {
		ps = append(ps, connector.Problem{Field: "link", Code: "media_mix", Message: "a LinkedIn post has either a link card or an image"})
	}
	return ps
}

func apiBase(acct *connector.Account) string {
	if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
		return b
	}
	return DefaultAPIBase
}

func oauthBase(acct *connector.Account) string {
	if acct != nil {
		if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
			return b
		}
	}
	return DefaultOAuthBase
}

// enc URL-encodes a URN for a path segment or query value (Rest.li needs
// ':' and parentheses encoded).
func enc(urn string) string { return url.QueryEscape(urn) }

func orgURN(acct *connector.Account) (string, error) {
	id := strings.TrimSpace(acct.ExternalID)
	if id == "" {
		return "", connector.Errorf(connector.KindPermanent, Platform, "", "the channel has no LinkedIn organization id")
	}
	if strings.HasPrefix(id, "urn:li:") {
		return id, nil
	}
	return "urn:li:organization:" + id, nil
}

func (c *Connector) headers() http.Header {
	return http.Header{"Linkedin-Version": {c.Version}, "X-Restli-Protocol-Version": {"2.0.0"}}
}

func (c *Connector) get(ctx context.Context, acct *connector.Account, op, u string, out any) (*connector.Response, error) {
	return c.client.JSON(ctx, acct, &connector.Request{Op: op, Method: http.MethodGet, URL: u, Header: c.headers()}, out)
}

// parseError reads {"status", "serviceErrorCode", "code", "message"} and
// the OAuth endpoint's {"error", "error_description"}.
func parseError(resp *connector.Response) (string, string) {
	var b struct {
		Code             string `json:"code"`
		ServiceErrorCode int    `json:"serviceErrorCode"`
		Message          string `json:"message"`
	}
	if json.Unmarshal(resp.Body, &b) == nil && b.Message != "" {
		code := b.Code
		if code == "" && b.ServiceErrorCode != 0 {
			code = strconv.Itoa(b.ServiceErrorCode)
		}
		return code, b.Message
	}
	return connector.ParseErrorBody(resp)
}

// rateLimit: LinkedIn sends no reset headers; its daily limits reset at
// midnight UTC, so a 429 without Retry-After blocks until then.
func rateLimit(resp *connector.Response, now time.Time) connector.RateLimit {
	rl := connector.ParseRateLimit(resp.Header, now)
	if resp.Status == http.StatusTooManyRequests && !rl.Reset.After(now) {
		y, m, d := now.UTC().Date()
		rl.Known, rl.Remaining, rl.Reset = true, 0, time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	}
	return rl
}

// littleTextReserved are the characters LinkedIn's little text format
// reserves; they are escaped with a backslash in commentary.
const littleTextReserved = `\|{}@[]()<>#*_~`

func escapeLittleText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(littleTextReserved, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unescapeLittleText(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		if r == '\\' && !esc {
			esc = true
			continue
		}
		esc = false
		b.WriteRune(r)
	}
	return b.String()
}

func sameText(a, b string) bool {
	return strings.Join(strings.Fields(unescapeLittleText(a)), " ") == strings.Join(strings.Fields(unescapeLittleText(b)), " ")
}

func postURL(urn string) string { return "https://www.linkedin.com/feed/update/" + urn + "/" }

// Publish implements connector.Publisher.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	org, err := orgURN(acct)
	if err != nil {
		return connector.Published{}, err
	}
	if r := req.InReplyTo; r != nil {
		if r.Kind == connector.KindDM {
			return connector.Published{}, connector.Unsupported(Platform, "reply to a private message")
		}
		return c.reply(ctx, acct, org, req)
	}
	b := apiBase(acct)
	body := map[string]any{
		"author":                    org,
		"commentary":                escapeLittleText(req.Variant.Text),
		"visibility":                "PUBLIC",
		"distribution":              map[string]any{"feedDistribution": "MAIN_FEED", "targetEntities": []any{}, "thirdPartyDistributionChannels": []any{}},
		"lifecycleState":            "PUBLISHED",
		"isReshareDisabledByAuthor": false,
	}
	switch {
	case len(req.Variant.Media) > 0:
		m := req.Variant.Media[0]
		img, err := c.uploadImage(ctx, acct, b, org, m)
		if err != nil {
			return connector.Published{}, fmt.Errorf("media[0]: %w", err)
		}
		media := map[string]any{"id": img}
		if m.AltText != "" {
			media["altText"] = m.AltText
		}
		body["content"] = map[string]any{"media": media}
	case req.Variant.Link != "":
		title := req.Variant.Link
		if u, err := url.Parse(req.Variant.Link); err == nil && u.Host != "" {
			title = u.Host
		}
		body["content"] = map[string]any{"article": map[string]any{"source": req.Variant.Link, "title": title}}
	}
	hr, err := connector.JSONRequest(http.MethodPost, b+"/rest/posts", body)
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op, hr.Header = "publish", c.headers()
	resp, err := c.client.Do(ctx, acct, hr)
	if err != nil {
		return connector.Published{}, err
	}
	urn := resp.Header.Get("X-Restli-Id")
	if urn == "" {
		return connector.Published{}, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "publish", Status: resp.Status,
			Message: "LinkedIn answered without x-restli-id"}
	}
	return connector.Published{ID: urn, URL: postURL(urn), PublishedAt: c.now()}, nil
}

// uploadImage: POST /rest/images?action=initializeUpload, then PUT the
// bytes to the returned uploadUrl; returns the image URN. An image no
// post uses is harmless, so both steps are retried like idempotent ones.
func (c *Connector) uploadImage(ctx context.Context, acct *connector.Account, b, org string, m connector.Media) (string, error) {
	if m.Kind == connector.MediaVideo {
		return "", connector.Unsupported(Platform, "video upload")
	}
	if m.Open == nil {
		return "", connector.Errorf(connector.KindPermanent, Platform, "upload image", "the image has no content")
	}
	ir, err := connector.JSONRequest(http.MethodPost, b+"/rest/images?action=initializeUpload",
		map[string]any{"initializeUploadRequest": map[string]string{"owner": org}})
	if err != nil {
		return "", err
	}
	ir.Op, ir.Header, ir.Idempotent = "initialize image upload", c.headers(), true
	var init struct {
		Value struct {
			UploadURL string `json:"uploadUrl"`
			Image     string `json:"image"`
		} `json:"value"`
	}
	if _, err := c.client.JSON(ctx, acct, ir, &init); err != nil {
		return "", err
	}
	if init.Value.UploadURL == "" || init.Value.Image == "" {
		return "", connector.Errorf(connector.KindTransient, Platform, "initialize image upload", "LinkedIn answered without an upload URL")
	}
	ct := m.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if _, err := c.client.Do(ctx, acct, &connector.Request{Op: "upload image", Method: http.MethodPut, URL: init.Value.UploadURL,
		GetBody: func() (io.ReadCloser, error) { return m.Open() }, ContentType: ct}); err != nil {
		return "", err
	}
	return init.Value.Image, nil
}

type comment struct {
	ID      string `json:"id"`
	URN     string `json:"$URN"`
	Comment string `json:"commentUrn"`
	Actor   string `json:"actor"`
	Object  string `json:"object"`
	Parent  string `json:"parentComment"`
	Created struct {
		Time int64 `json:"time"`
	} `json:"created"`
	Message struct {
		Text string `json:"text"`
	} `json:"message"`
}

func (cm comment) urn() string {
	if cm.Comment != "" {
		return cm.Comment
	}
	return cm.URN
}

// activityOf extracts the activity URN from a comment URN
// "urn:li:comment:(urn:li:activity:123,456)".
func activityOf(commentURN string) string {
	inner, ok := strings.CutPrefix(commentURN, "urn:li:comment:(")
	if !ok {
		return ""
	}
	obj, _, _ := strings.Cut(inner, ",")
	return obj
}

// reply posts a comment answering the comment req.InReplyTo names:
// POST /rest/socialActions/{comment-urn}/comments with parentComment.
func (c *Connector) reply(ctx context.Context, acct *connector.Account, org string, req connector.PublishRequest) (connector.Published, error) {
	target := req.InReplyTo.ExternalID
	object := activityOf(target)
	if object == "" {
		object = req.InReplyTo.ThreadID
	}
	body := map[string]any{"actor": org, "object": object, "message": map[string]string{"text": req.Variant.Text}, "parentComment": target}
	hr, err := connector.JSONRequest(http.MethodPost, apiBase(acct)+"/rest/socialActions/"+enc(target)+"/comments", body)
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op, hr.Header = "reply", c.headers()
	var out comment
	resp, err := c.client.JSON(ctx, acct, hr, &out)
	if err != nil {
		return connector.Published{}, err
	}
	id := out.urn()
	if id == "" {
		id = resp.Header.Get("X-Restli-Id")
	}
	if id == "" {
		return connector.Published{}, connector.Errorf(connector.KindUnknown, Platform, "reply", "LinkedIn answered without a comment URN")
	}
	return connector.Published{ID: id, URL: postURL(object), PublishedAt: c.now()}, nil
}

// Lookup implements connector.Publisher.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	org, err := orgURN(acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	b := apiBase(acct)
	if r := req.InReplyTo; r != nil {
		var out struct {
			Elements []comment `json:"elements"`
		}
		if _, err := c.get(ctx, acct, "lookup", b+"/rest/socialActions/"+enc(r.ExternalID)+"/comments?count=100", &out); err != nil {
			return connector.Published{}, false, err
		}
		for _, cm := range out.Elements {
			if cm.Actor == org && sameText(cm.Message.Text, req.Variant.Text) {
				return connector.Published{ID: cm.urn(), URL: postURL(cm.Object), PublishedAt: time.UnixMilli(cm.Created.Time)}, true, nil
			}
		}
		return connector.Published{}, false, nil
	}
	var out struct {
		Elements []struct {
			ID          string `json:"id"`
			Commentary  string `json:"commentary"`
			CreatedAt   int64  `json:"createdAt"`
			PublishedAt int64  `json:"publishedAt"`
		} `json:"elements"`
	}
	if _, err := c.get(ctx, acct, "lookup", b+"/rest/posts?author="+enc(org)+"&q=author&count=50&sortBy=CREATED", &out); err != nil {
		return connector.Published{}, false, err
	}
	since := req.FirstAttemptAt.Add(-5 * time.Minute)
	for _, p := range out.Elements {
		if !req.FirstAttemptAt.IsZero() && time.UnixMilli(p.CreatedAt).Before(since) {
			continue
		}
		if sameText(p.Commentary, req.Variant.Text) {
			return connector.Published{ID: p.ID, URL: postURL(p.ID), PublishedAt: time.UnixMilli(p.CreatedAt)}, true, nil
		}
	}
	return connector.Published{}, false, nil
}

// Delete implements connector.Publisher (DELETE /rest/posts/{urn}).
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	_, err := c.client.Do(ctx, acct, &connector.Request{Op: "delete", Method: http.MethodDelete,
		URL: apiBase(acct) + "/rest/posts/" + enc(platformID), Header: c.headers()})
	var e *connector.Error
	if errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status == http.StatusGone) {
		return nil
	}
	return err
}

// postsCursor is FetchInbound's cursor.
type postsCursor struct {
	V     int                  `json:"v"`
	Posts map[string]postState `json:"posts"`
}

type postState struct {
	Total int64    `json:"n"`
	T     int64    `json:"t,omitempty"`   // newest delivered created time (ms)
	IDs   []string `json:"ids,omitempty"` // delivered comment URNs at T
}

// FetchInbound implements connector.InboundFetcher: comments on the
// organisation's recent posts, not its own. On the first call (empty
// cursor) the comments of the recent posts are read from their start.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	cur := postsCursor{V: 1, Posts: map[string]postState{}}
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &cur); err != nil || cur.V != 1 {
			return connector.Page{}, connector.Errorf(connector.KindPermanent, Platform, "fetch inbound", "unreadable cursor")
		}
		if cur.Posts == nil {
			cur.Posts = map[string]postState{}
		}
	}
	org, err := orgURN(acct)
	if err != nil {
		return connector.Page{}, err
	}
	b := apiBase(acct)
	var posts struct {
		Elements []struct {
			ID string `json:"id"`
		} `json:"elements"`
	}
	if _, err := c.get(ctx, acct, "fetch inbound", b+"/rest/posts?author="+enc(org)+"&q=author&count="+strconv.Itoa(postWindow)+"&sortBy=CREATED", &posts); err != nil {
		return connector.Page{}, err
	}
	next := postsCursor{V: 1, Posts: map[string]postState{}}
	pg := connector.Page{}
	for _, p := range posts.Elements {
		st := cur.Posts[p.ID]
		var all []comment
		total := int64(-1)
		for page := range commentPages {
			var out struct {
				Elements []comment `json:"elements"`
				Paging   struct {
					Start int   `json:"start"`
					Count int   `json:"count"`
					Total int64 `json:"total"`
				} `json:"paging"`
			}
			u := fmt.Sprintf("%s/rest/socialActions/%s/comments?start=%d&count=%d", b, enc(p.ID), page*commentCount, commentCount)
			if _, err := c.get(ctx, acct, "fetch comments", u, &out); err != nil {
				var e *connector.Error
				if errors.As(err, &e) && e.Status == http.StatusNotFound {
					break
				}
				return connector.Page{}, err
			}
			if page == 0 {
				total = out.Paging.Total
				if total == st.Total && st.Total > 0 {
					break // unchanged since the last poll
				}
			}
			all = append(all, out.Elements...)
			if len(out.Elements) < commentCount || int64((page+1)*commentCount) >= out.Paging.Total {
				break
			}
		}
		actors := map[string]string{}
		for _, cm := range all {
			actors[cm.urn()] = cm.Actor
		}
		nst := postState{Total: st.Total, T: st.T, IDs: slices.Clone(st.IDs)}
		if total >= 0 {
			nst.Total = total
		}
		slices.SortStableFunc(all, func(a, b comment) int { return cmp.Compare(a.Created.Time, b.Created.Time) })
		for _, cm := range all {
			id := cm.urn()
			if cm.Actor == org || cm.Created.Time < st.T || (cm.Created.Time == st.T && slices.Contains(st.IDs, id)) {
				continue
			}
			it := connector.InboundItem{ExternalID: id, Kind: connector.KindComment, Text: cm.Message.Text,
				CreatedAt: time.UnixMilli(cm.Created.Time).UTC(), InReplyTo: p.ID, ThreadID: p.ID, URL: postURL(p.ID),
				Author: connector.Author{ExternalID: cm.Actor, Handle: cm.Actor}}
			if cm.Parent != "" {
				it.InReplyTo = cm.Parent
				if actors[cm.Parent] == org {
					it.Kind = connector.KindReply
				}
			}
			pg.Items = append(pg.Items, it)
			switch {
			case cm.Created.Time > nst.T:
				nst.T, nst.IDs = cm.Created.Time, []string{id}
			case cm.Created.Time == nst.T:
				nst.IDs = append(nst.IDs, id)
			}
		}
		next.Posts[p.ID] = nst
	}
	slices.SortStableFunc(pg.Items, func(a, b connector.InboundItem) int { return a.CreatedAt.Compare(b.CreatedAt) })
	cb, _ := json.Marshal(next)
	pg.Cursor = string(cb)
	return pg, nil
}

// FetchMetrics implements connector.MetricsFetcher: the follower count
// (GET /rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER) and
// per post the organisation share statistics (impressions, likes,
// comments, shares).
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	org, err := orgURN(acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	b := apiBase(acct)
	var ns struct {
		FirstDegreeSize int64 `json:"firstDegreeSize"`
	}
	if _, err := c.get(ctx, acct, "followers", b+"/rest/networkSizes/"+enc(org)+"?edgeType=COMPANY_FOLLOWED_BY_MEMBER", &ns); err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: ns.FirstDegreeSize}
	if len(postIDs) == 0 {
		return m, nil
	}
	var shares, ugc []string
	for _, id := range postIDs {
		if strings.HasPrefix(id, "urn:li:ugcPost:") {
			ugc = append(ugc, enc(id))
		} else {
			shares = append(shares, enc(id))
		}
	}
	q := "q=organizationalEntity&organizationalEntity=" + enc(org)
	if len(shares) > 0 {
		q += "&shares=List(" + strings.Join(shares, ",") + ")"
	}
	if len(ugc) > 0 {
		q += "&ugcPosts=List(" + strings.Join(ugc, ",") + ")"
	}
	var st struct {
		Elements []struct {
			Share string `json:"share"`
			UGC   string `json:"ugcPost"`
			Total struct {
				ImpressionCount int64 `json:"impressionCount"`
				LikeCount       int64 `json:"likeCount"`
				CommentCount    int64 `json:"commentCount"`
				ShareCount      int64 `json:"shareCount"`
			} `json:"totalShareStatistics"`
		} `json:"elements"`
	}
	if _, err := c.get(ctx, acct, "post metrics", b+"/rest/organizationalEntityShareStatistics?"+q, &st); err != nil {
		return m, err
	}
	for _, e := range st.Elements {
		id := e.Share
		if id == "" {
			id = e.UGC
		}
		m.PostStats = append(m.PostStats, connector.PostMetrics{ID: id, Likes: e.Total.LikeCount, Shares: e.Total.ShareCount,
			Replies: e.Total.CommentCount, Impressions: e.Total.ImpressionCount})
	}
	return m, nil
}

// AuthorizeURL implements connector.OAuthFlow (LinkedIn's 3-legged flow
// has no PKCE; pkce is ignored).
func (c *Connector) AuthorizeURL(acct *connector.Account, app connector.App, state string, pkce connector.PKCE) (string, error) {
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI},
		"state": {state}, "scope": {strings.Join(scopes, " ")}}
	return oauthBase(acct) + "/oauth/v2/authorization?" + q.Encode(), nil
}

// Exchange implements connector.OAuthFlow.
func (c *Connector) Exchange(ctx context.Context, acct *connector.Account, app connector.App, code string, pkce connector.PKCE) (connector.Credentials, error) {
	return c.oauth().Exchange(ctx, acct, app, code, connector.PKCE{})
}

// Refresh implements connector.Refresher (refresh_token grant; LinkedIn
// does not rotate refresh tokens, so the old one is kept).
func (c *Connector) Refresh(ctx context.Context, acct *connector.Account) (connector.Credentials, error) {
	return c.oauth().Refresh(ctx, acct)
}

// oauth is LinkedIn's token endpoint; the client authenticates in the form.
func (c *Connector) oauth() connector.OAuth2 {
	return connector.OAuth2{Client: c.client, Now: c.now,
		TokenURL: func(acct *connector.Account) string { return oauthBase(acct) + "/oauth/v2/accessToken" }}
}
