// Package facebook connects Facebook Pages through the Graph API
// (versioned root GraphBase; Account.BaseURL overrides it, version
// included).
//
// A channel is a Page: Account.ExternalID is the page id and
// Credentials.AccessToken a Page access token (obtained by the hub's
// Facebook Login flow or pasted; Connect verifies it). Page tokens derived
// from a long-lived user token do not expire, so there is no Refresher:
// Graph's code 190 (token expired or invalidated) means the channel must
// be reconnected. When the app secret is known every call carries
// appsecret_proof.
//
// Publishing: text and link go to POST /{page-id}/feed; images are first
// uploaded unpublished with POST /{page-id}/photos and attached with
// attached_media. Replies are POST /{comment-id}/comments. Graph has no
// idempotency key; Lookup searches the page's recent posts (or the
// comment's replies) for the same message.
//
// Inbound items are comments on the page's most recent posts, read with
// GET /{post-id}/comments (filter=stream, chronological, cursors.after);
// the cursor keeps, per post, the after-cursor and the post's
// updated_time (which Graph bumps when someone comments), so an unchanged
// post costs nothing and nothing is read twice. Webhooks (feed field) are
// verified with X-Hub-Signature-256.
package facebook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Platform is this connector's name.
const Platform = "facebook"

// Limits.
const (
	MaxChars       = 63206 // a Page post's message
	feedWindow     = 25    // recent posts whose comments are polled
	commentsPage   = 100
	lookupPageSize = 50
)

// Connector is the Facebook Pages connector.
type Connector struct {
	client     *connector.Client
	now        func() time.Time
	feedWindow int
}

// New returns a Facebook connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), now: o.Clock(), feedWindow: feedWindow}
	ConfigureGraphClient(c.client)
	return c
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.Connecter
	connector.WebhookReceiver
	connector.OAuthFlow
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector. There is no Demographics:
// Graph deprecated the Page insights that broke followers down by age and
// gender (page_fans_gender_age, page_follows_gender_age) for all versions
// on 14 March 2024, so a Page's audience is "not reported".
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: true,
		Inbound: []connector.InboundKind{connector.KindComment, connector.KindReply},
		Metrics: true, Connect: true, Webhooks: true, OAuth: true,
		Idempotency:   connector.IdempotencyNone,
		MaxTextLength: MaxChars, TextCounter: "chars",
		Media: connector.MediaRules{
			MaxImages:     10,
			ImageTypes:    []string{"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"},
			MaxImageBytes: 4 << 20,
		},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountChars, len(v.Media) == 0 && v.Link == "")
	return append(ps, connector.ValidateMedia(caps.Media, v.Media, false)...)
}

func base(acct *connector.Account) string {
	if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
		return b
	}
	return GraphBase
}

func (c *Connector) pageID(ctx context.Context, acct *connector.Account) (string, error) {
	if acct.ExternalID != "" {
		return acct.ExternalID, nil
	}
	if id := acct.Credentials.Extra["page_id"]; id != "" {
		acct.ExternalID = id
		return id, nil
	}
	p, err := c.page(ctx, acct)
	return p.ID, err
}

type page struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Link           string `json:"link"`
	FollowersCount int64  `json:"followers_count"`
	FanCount       int64  `json:"fan_count"`
}

// page reads the page (GET /{page-id}, or /me with a Page token).
func (c *Connector) page(ctx context.Context, acct *connector.Account) (page, error) {
	id := acct.ExternalID
	if id == "" {
		id = "me"
	}
	var p page
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "page", Method: http.MethodGet,
		URL: base(acct) + "/" + url.PathEscape(id) + "?fields=id,name,link,followers_count,fan_count"}, &p); err != nil {
		return p, err
	}
	if p.ID == "" {
		return p, &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "page", Message: "Graph answered without a page id"}
	}
	acct.ExternalID, acct.Handle = p.ID, p.Name
	return p, nil
}

// Connect implements connector.Connecter: it verifies the Page token and
// fills the page id and name.
func (c *Connector) Connect(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	if acct.Credentials.AccessToken.IsZero() {
		return connector.Profile{}, &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform,
			Op: "connect", Message: "a Page access token is required"}
	}
	if acct.ExternalID == "" {
		acct.ExternalID = acct.Credentials.Extra["page_id"]
	}
	p, err := c.page(ctx, acct)
	if err != nil {
		return connector.Profile{}, err
	}
	if acct.SaveCredentials != nil {
		if err := acct.SaveCredentials(ctx, acct.Credentials); err != nil {
			return connector.Profile{}, err
		}
	}
	return connector.Profile{ExternalID: p.ID, Handle: p.Name, DisplayName: p.Name, URL: p.Link, Followers: followers(p)}, nil
}

func followers(p page) int64 {
	if p.FollowersCount > 0 {
		return p.FollowersCount
	}
	return p.FanCount
}

// postURL: Graph post ids are "{page-id}_{post-id}", which facebook.com
// resolves as a path.
func postURL(id string) string { return "https://www.facebook.com/" + url.PathEscape(id) }

// Publish implements connector.Publisher.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	if r := req.InReplyTo; r != nil {
		if r.Kind == connector.KindDM {
			return connector.Published{}, connector.Unsupported(Platform, "reply to a private message")
		}
		return c.reply(ctx, acct, req)
	}
	pid, err := c.pageID(ctx, acct)
	if err != nil {
		return connector.Published{}, err
	}
	b := base(acct)
	form := url.Values{}
	if req.Variant.Text != "" {
		form.Set("message", req.Variant.Text)
	}
	if req.Variant.Link != "" {
		form.Set("link", req.Variant.Link)
	}
	for i, m := range req.Variant.Media {
		id, err := c.uploadPhoto(ctx, acct, b, pid, m)
		if err != nil {
			return connector.Published{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		att, _ := json.Marshal(map[string]string{"media_fbid": id})
		form.Set(fmt.Sprintf("attached_media[%d]", i), string(att))
	}
	hr := connector.FormRequest(http.MethodPost, b+"/"+url.PathEscape(pid)+"/feed", form)
	hr.Op = "publish"
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.client.JSON(ctx, acct, hr, &out); err != nil {
		return connector.Published{}, err
	}
	if out.ID == "" {
		return connector.Published{}, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "publish",
			Message: "Graph answered without a post id"}
	}
	return connector.Published{ID: out.ID, URL: postURL(out.ID), PublishedAt: c.now()}, nil
}

// uploadPhoto uploads one image unpublished (POST /{page-id}/photos with
// published=false): by URL when the media has a public one, else as the
// multipart "source". An unpublished photo nobody attaches is harmless,
// so the upload is retried like an idempotent request.
func (c *Connector) uploadPhoto(ctx context.Context, acct *connector.Account, b, pid string, m connector.Media) (string, error) {
	if m.Kind == connector.MediaVideo {
		return "", connector.Unsupported(Platform, "video upload")
	}
	u := b + "/" + url.PathEscape(pid) + "/photos"
	var req *connector.Request
	if m.URL != "" {
		req = connector.FormRequest(http.MethodPost, u, url.Values{"url": {m.URL}, "published": {"false"}})
	} else {
		getBody, ct := connector.MultipartMedia(map[string]string{"published": "false"}, "source", m)
		req = &connector.Request{Method: http.MethodPost, URL: u, GetBody: getBody, ContentType: ct}
	}
	req.Op, req.Idempotent = "upload photo", true
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.client.JSON(ctx, acct, req, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "upload photo",
			Message: "Graph answered without a photo id"}
	}
	return out.ID, nil
}

// reply answers a comment: POST /{comment-id}/comments.
func (c *Connector) reply(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	form := url.Values{"message": {req.Variant.Text}}
	if len(req.Variant.Media) > 0 && req.Variant.Media[0].URL != "" {
		form.Set("attachment_url", req.Variant.Media[0].URL)
	}
	hr := connector.FormRequest(http.MethodPost, base(acct)+"/"+url.PathEscape(req.InReplyTo.ExternalID)+"/comments", form)
	hr.Op = "reply"
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.client.JSON(ctx, acct, hr, &out); err != nil {
		return connector.Published{}, err
	}
	if out.ID == "" {
		return connector.Published{}, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "reply",
			Message: "Graph answered without a comment id"}
	}
	return connector.Published{ID: out.ID, URL: postURL(out.ID), PublishedAt: c.now()}, nil
}

type from struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type comment struct {
	ID           string    `json:"id"`
	Message      string    `json:"message"`
	From         *from     `json:"from"`
	CreatedTime  graphTime `json:"created_time"`
	PermalinkURL string    `json:"permalink_url"`
	Parent       *struct {
		ID   string `json:"id"`
		From *from  `json:"from"`
	} `json:"parent"`
}

type paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Next string `json:"next"`
}

// graphTime parses Graph's "2025-03-01T12:00:00+0000".
type graphTime struct{ time.Time }

func (t *graphTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return nil
}

func sameText(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// Lookup implements connector.Publisher: a post is searched among the
// page's posts since the first attempt, a reply among the page's replies
// to the comment, newest first.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	pid, err := c.pageID(ctx, acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	b := base(acct)
	if r := req.InReplyTo; r != nil {
		q := url.Values{"fields": {"id,message,from,created_time"}, "order": {"reverse_chronological"},
			"filter": {"toplevel"}, "limit": {strconv.Itoa(lookupPageSize)}}
		var out struct {
			Data []comment `json:"data"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(r.ExternalID) + "/comments?" + q.Encode()}, &out); err != nil {
			return connector.Published{}, false, err
		}
		for _, cm := range out.Data {
			if cm.From != nil && cm.From.ID == pid && sameText(cm.Message, req.Variant.Text) {
				return connector.Published{ID: cm.ID, URL: postURL(cm.ID), PublishedAt: cm.CreatedTime.Time}, true, nil
			}
		}
		return connector.Published{}, false, nil
	}
	q := url.Values{"fields": {"id,message,created_time"}, "limit": {strconv.Itoa(lookupPageSize)}}
	if !req.FirstAttemptAt.IsZero() {
		q.Set("since", strconv.FormatInt(req.FirstAttemptAt.Add(-5*time.Minute).Unix(), 10))
	}
	var out struct {
		Data []struct {
			ID          string    `json:"id"`
			Message     string    `json:"message"`
			CreatedTime graphTime `json:"created_time"`
		} `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
		URL: b + "/" + url.PathEscape(pid) + "/feed?" + q.Encode()}, &out); err != nil {
		return connector.Published{}, false, err
	}
	for _, p := range out.Data {
		if sameText(p.Message, req.Variant.Text) {
			return connector.Published{ID: p.ID, URL: postURL(p.ID), PublishedAt: p.CreatedTime.Time}, true, nil
		}
	}
	return connector.Published{}, false, nil
}

// Delete implements connector.Publisher (DELETE /{object-id}).
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	_, err := c.client.Do(ctx, acct, &connector.Request{Op: "delete", Method: http.MethodDelete,
		URL: base(acct) + "/" + url.PathEscape(platformID)})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// feedCursor is FetchInbound's cursor: per recent post, the comments
// after-cursor and the updated_time last seen.
type feedCursor struct {
	V     int                  `json:"v"`
	Posts map[string]postState `json:"posts"`
}

type postState struct {
	After   string `json:"a,omitempty"`
	Updated int64  `json:"u,omitempty"` // the post's updated_time (Unix)
	Polled  int64  `json:"p,omitempty"` // when its comments were last read to the end
}

// updatedSkew: updated_time has one-second resolution and Graph's clock
// is not ours, so a post is skipped as unchanged only when its comments
// were read to the end well after its updated_time.
const updatedSkew = 2 * time.Minute

func (st postState) unchanged(updated int64) bool {
	return st.Polled != 0 && st.Updated == updated && time.Duration(st.Polled-updated)*time.Second > updatedSkew
}

// FetchInbound implements connector.InboundFetcher: comments (and
// replies to comments) on the page's most recent posts, excluding the
// page's own. On the first call (empty cursor) the comments of the recent
// posts are read from their beginning; posts that leave the window of
// recent posts are no longer polled (webhooks cover them).
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	cur := feedCursor{V: 1, Posts: map[string]postState{}}
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &cur); err != nil || cur.V != 1 {
			return connector.Page{}, connector.Errorf(connector.KindPermanent, Platform, "fetch inbound", "unreadable cursor")
		}
		if cur.Posts == nil {
			cur.Posts = map[string]postState{}
		}
	}
	pid, err := c.pageID(ctx, acct)
	if err != nil {
		return connector.Page{}, err
	}
	b := base(acct)
	var feed struct {
		Data []struct {
			ID          string    `json:"id"`
			UpdatedTime graphTime `json:"updated_time"`
		} `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
		URL: b + "/" + url.PathEscape(pid) + "/feed?fields=id,updated_time&limit=" + strconv.Itoa(c.feedWindow)}, &feed); err != nil {
		return connector.Page{}, err
	}
	next := feedCursor{V: 1, Posts: map[string]postState{}}
	pg := connector.Page{}
	for _, p := range feed.Data {
		st, known := cur.Posts[p.ID]
		upd := p.UpdatedTime.Unix()
		if known && st.unchanged(upd) {
			next.Posts[p.ID] = st
			continue
		}
		q := url.Values{"fields": {"id,message,from{id,name},created_time,permalink_url,parent{id,from{id}}"},
			"filter": {"stream"}, "order": {"chronological"}, "limit": {strconv.Itoa(commentsPage)}}
		if st.After != "" {
			q.Set("after", st.After)
		}
		var out struct {
			Data   []comment `json:"data"`
			Paging *paging   `json:"paging"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch comments", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(p.ID) + "/comments?" + q.Encode()}, &out); err != nil {
			if IsNotFound(err) {
				continue // deleted since the feed was read
			}
			return connector.Page{}, err
		}
		for _, cm := range out.Data {
			if cm.From != nil && cm.From.ID == pid {
				continue // the page's own comment or reply
			}
			pg.Items = append(pg.Items, commentItem(pid, p.ID, cm))
		}
		if out.Paging != nil && out.Paging.Cursors.After != "" && len(out.Data) > 0 {
			st.After = out.Paging.Cursors.After
		}
		if out.Paging != nil && out.Paging.Next != "" {
			pg.More = true // read the rest next call; keep the old updated_time
		} else {
			st.Updated, st.Polled = upd, c.now().Unix()
		}
		next.Posts[p.ID] = st
	}
	slices.SortStableFunc(pg.Items, func(a, b connector.InboundItem) int { return a.CreatedAt.Compare(b.CreatedAt) })
	cb, _ := json.Marshal(next)
	pg.Cursor = string(cb)
	return pg, nil
}

func commentItem(pid, postID string, cm comment) connector.InboundItem {
	it := connector.InboundItem{ExternalID: cm.ID, Kind: connector.KindComment, Text: cm.Message,
		CreatedAt: cm.CreatedTime.Time, InReplyTo: postID, ThreadID: postID, URL: cm.PermalinkURL}
	if cm.From != nil {
		it.Author = connector.Author{ExternalID: cm.From.ID, Name: cm.From.Name}
	}
	if cm.Parent != nil && cm.Parent.ID != "" {
		it.InReplyTo = cm.Parent.ID
		if cm.Parent.From != nil && cm.Parent.From.ID == pid {
			it.Kind = connector.KindReply
		}
	}
	if it.URL == "" {
		it.URL = postURL(cm.ID)
	}
	return it
}

// FetchMetrics implements connector.MetricsFetcher: the page's
// followers_count (fan_count when absent), and per post the reactions,
// comments and shares counts and the post_impressions insight.
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	if acct.ExternalID == "" {
		acct.ExternalID = acct.Credentials.Extra["page_id"]
	}
	p, err := c.page(ctx, acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: followers(p)}
	b := base(acct)
	for _, id := range postIDs {
		var post struct {
			ID     string `json:"id"`
			Shares *struct {
				Count int64 `json:"count"`
			} `json:"shares"`
			Reactions struct {
				Summary struct {
					TotalCount int64 `json:"total_count"`
				} `json:"summary"`
			} `json:"reactions"`
			Comments struct {
				Summary struct {
					TotalCount int64 `json:"total_count"`
				} `json:"summary"`
			} `json:"comments"`
		}
		_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "post metrics", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(id) + "?fields=" + url.QueryEscape("id,shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)")}, &post)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return m, err
		}
		pm := connector.PostMetrics{ID: id, Likes: post.Reactions.Summary.TotalCount, Replies: post.Comments.Summary.TotalCount, Impressions: -1}
		if post.Shares != nil {
			pm.Shares = post.Shares.Count
		}
		var ins struct {
			Data []struct {
				Name   string `json:"name"`
				Values []struct {
					Value json.Number `json:"value"`
				} `json:"values"`
			} `json:"data"`
		}
		_, err = c.client.JSON(ctx, acct, &connector.Request{Op: "post insights", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(id) + "/insights?metric=post_impressions"}, &ins)
		switch connector.KindOf(err) {
		case 0:
			for _, d := range ins.Data {
				if d.Name == "post_impressions" && len(d.Values) > 0 {
					if n, err := d.Values[len(d.Values)-1].Value.Int64(); err == nil {
						pm.Impressions = n
					}
				}
			}
		case connector.KindPermanent:
			// Insights need read_insights and enough audience; keep -1.
		default:
			return m, err
		}
		m.PostStats = append(m.PostStats, pm)
	}
	return m, nil
}

// WebhookChallenge implements connector.WebhookReceiver.
func (c *Connector) WebhookChallenge(r *http.Request, app connector.App) (string, bool) {
	return Challenge(r, app.VerifyToken.Reveal())
}

// VerifyWebhook implements connector.WebhookReceiver
// (X-Hub-Signature-256 over the raw body with the app secret).
func (c *Connector) VerifyWebhook(r *http.Request, body []byte, app connector.App) error {
	return VerifySignature(r.Header.Get("X-Hub-Signature-256"), body, WebhookSecret(app))
}

// ParseWebhook implements connector.WebhookReceiver: "page" objects'
// feed changes that add a comment by someone other than the page.
func (c *Connector) ParseWebhook(body []byte) ([]connector.WebhookEvent, error) {
	var d struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					Item        string `json:"item"`
					Verb        string `json:"verb"`
					CommentID   string `json:"comment_id"`
					PostID      string `json:"post_id"`
					ParentID    string `json:"parent_id"`
					Message     string `json:"message"`
					CreatedTime int64  `json:"created_time"`
					From        from   `json:"from"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("facebook webhook: %w", err)
	}
	if d.Object != "page" {
		return nil, nil
	}
	var out []connector.WebhookEvent
	for _, e := range d.Entry {
		for _, ch := range e.Changes {
			v := ch.Value
			if ch.Field != "feed" || v.Item != "comment" || v.Verb != "add" || v.CommentID == "" || v.From.ID == e.ID {
				continue
			}
			it := connector.InboundItem{ExternalID: v.CommentID, Kind: connector.KindComment, Text: v.Message,
				CreatedAt: time.Unix(v.CreatedTime, 0).UTC(), InReplyTo: v.PostID, ThreadID: v.PostID, URL: postURL(v.CommentID),
				Author: connector.Author{ExternalID: v.From.ID, Name: v.From.Name}}
			if v.ParentID != "" && v.ParentID != v.PostID {
				it.InReplyTo = v.ParentID
			}
			out = append(out, connector.WebhookEvent{AccountExternalID: e.ID, Item: it})
		}
	}
	return out, nil
}
