// Package instagram connects Instagram professional (business or
// creator) accounts through the Instagram Graph API with Facebook Login,
// on graph.facebook.com (facebook.GraphBase; Account.BaseURL overrides
// it, version included). Errors, rate limits, appsecret_proof and webhook
// signatures are Graph's and come from package facebook.
//
// Account.ExternalID is the IG user id; Credentials.AccessToken the token
// of the Facebook Page the account is linked to (Connect finds the IG
// user from Credentials.Extra["page_id"] when the id is not known). Page
// tokens do not expire; code 190 means reconnect.
//
// Publishing is Instagram's container flow: POST /{ig-user-id}/media
// (image_url or video_url with media_type=REELS, and the caption), poll
// GET /{container-id}?fields=status_code until FINISHED, then POST
// /{ig-user-id}/media_publish with creation_id. Instagram fetches media
// itself, so every attachment needs a public URL. A post needs exactly one
// image or video. There is no idempotency key: Lookup searches the
// account's recent media (or a comment's replies) for the same caption.
// Instagram's API cannot delete media.
//
// Inbound items are comments and replies on the most recent media. The
// cursor keeps, per media, its comments_count and a high-water mark
// (newest timestamp and the ids seen at it), so a media whose count did
// not change costs nothing and nothing is delivered twice, whatever order
// Instagram lists comments in.
package instagram

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
	"unicode"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/facebook"
)

// Platform is this connector's name.
const Platform = "instagram"

// Limits.
const (
	MaxCaption  = 2200
	MaxHashtags = 30

	mediaWindow   = 25 // recent media whose comments are polled
	commentsLimit = 50
	commentPages  = 20 // per media and poll
	containerPoll = 30 // status checks before giving up
	lookupLimit   = 25
)

// Connector is the Instagram connector.
type Connector struct {
	client *connector.Client
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// New returns an Instagram connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), now: o.Clock(), sleep: o.Sleep}
	if c.sleep == nil {
		c.sleep = connector.SleepContext
	}
	facebook.ConfigureGraphClient(c.client)
	return c
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.DemographicsFetcher
	connector.Connecter
	connector.WebhookReceiver
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: false,
		Inbound: []connector.InboundKind{connector.KindComment, connector.KindReply},
		Metrics: true, Demographics: true, Connect: true, Webhooks: true, OAuth: true,
		Idempotency:   connector.IdempotencyNone,
		MaxTextLength: MaxCaption, TextCounter: "chars",
		RequiresMedia: true,
		Media: connector.MediaRules{
			MaxImages: 1, MaxVideos: 1,
			ImageTypes:    []string{"image/jpeg"},
			VideoTypes:    []string{"video/mp4", "video/quicktime"},
			MaxImageBytes: 8 << 20, MaxVideoBytes: 300 << 20,
			// Reels: 3 seconds to 15 minutes.
			MinVideoDuration: 3 * time.Second, MaxVideoDuration: 15 * time.Minute,
			FetchesMedia: true,
		},
	}
}

// Validate implements connector.Connector: caption length and hashtag
// count, exactly one image or video, each with a public URL.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountChars, false)
	if n := countHashtags(v.Text); n > MaxHashtags {
		ps = append(ps, connector.Problem{Field: "text", Code: "too_many_hashtags",
			Message: fmt.Sprintf("%d hashtags; Instagram allows %d", n, MaxHashtags)})
	}
	ps = append(ps, connector.ValidateMedia(caps.Media, v.Media, true)...)
	if len(v.Media) > 1 {
		ps = append(ps, connector.Problem{Field: "media", Code: "too_many_media", Message: "one image or one video per post"})
	}
	for i, m := range v.Media {
		if m.URL == "" {
			ps = append(ps, connector.Problem{Field: fmt.Sprintf("media[%d]", i), Code: connector.ProblemNoPublicURL,
				Message: "Instagram fetches media itself from a public URL, and this attachment has none"})
		}
	}
	return ps
}

// countHashtags counts "#word" tokens.
func countHashtags(s string) int {
	n := 0
	rs := []rune(s)
	for i, r := range rs {
		if r == '#' && (i == 0 || unicode.IsSpace(rs[i-1])) && i+1 < len(rs) &&
			(unicode.IsLetter(rs[i+1]) || unicode.IsDigit(rs[i+1]) || rs[i+1] == '_') {
			n++
		}
	}
	return n
}

func base(acct *connector.Account) string {
	if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
		return b
	}
	return facebook.GraphBase
}

func errf(kind connector.Kind, op, format string, args ...any) *connector.Error {
	return connector.Errorf(kind, Platform, op, format, args...)
}

type igUser struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Name           string `json:"name"`
	FollowersCount int64  `json:"followers_count"`
	FollowsCount   int64  `json:"follows_count"`
	MediaCount     int64  `json:"media_count"`
}

// userID returns the IG user id, finding it through the linked Page
// (GET /{page-id}?fields=instagram_business_account) if needed.
func (c *Connector) userID(ctx context.Context, acct *connector.Account) (string, error) {
	if acct.ExternalID != "" {
		return acct.ExternalID, nil
	}
	if id := acct.Credentials.Extra["ig_user_id"]; id != "" {
		acct.ExternalID = id
		return id, nil
	}
	pageID := acct.Credentials.Extra["page_id"]
	if pageID == "" {
		return "", errf(connector.KindReconnectNeeded, "connect", "the channel has neither an Instagram user id nor a Facebook Page id")
	}
	var out struct {
		IG *struct {
			ID string `json:"id"`
		} `json:"instagram_business_account"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "find instagram account", Method: http.MethodGet,
		URL: base(acct) + "/" + url.PathEscape(pageID) + "?fields=instagram_business_account"}, &out); err != nil {
		return "", err
	}
	if out.IG == nil || out.IG.ID == "" {
		return "", errf(connector.KindReconnectNeeded, "connect", "the Facebook Page has no linked Instagram professional account")
	}
	acct.ExternalID = out.IG.ID
	return out.IG.ID, nil
}

func (c *Connector) user(ctx context.Context, acct *connector.Account) (igUser, error) {
	id, err := c.userID(ctx, acct)
	if err != nil {
		return igUser{}, err
	}
	var u igUser
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "account", Method: http.MethodGet,
		URL: base(acct) + "/" + url.PathEscape(id) + "?fields=id,username,name,followers_count,follows_count,media_count"}, &u); err != nil {
		return u, err
	}
	if u.Username != "" {
		acct.Handle = "@" + u.Username
	}
	return u, nil
}

// Connect implements connector.Connecter.
func (c *Connector) Connect(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	if acct.Credentials.AccessToken.IsZero() {
		return connector.Profile{}, errf(connector.KindReconnectNeeded, "connect", "a Page access token is required")
	}
	u, err := c.user(ctx, acct)
	if err != nil {
		return connector.Profile{}, err
	}
	if acct.SaveCredentials != nil {
		if err := acct.SaveCredentials(ctx, acct.Credentials); err != nil {
			return connector.Profile{}, err
		}
	}
	return connector.Profile{ExternalID: u.ID, Handle: "@" + u.Username, DisplayName: u.Name,
		URL: "https://www.instagram.com/" + u.Username, Followers: u.FollowersCount}, nil
}

// Publish implements connector.Publisher.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	if r := req.InReplyTo; r != nil {
		if r.Kind == connector.KindDM {
			return connector.Published{}, connector.Unsupported(Platform, "reply to a direct message")
		}
		return c.reply(ctx, acct, req)
	}
	if ps := c.Validate(req.Variant); len(ps) > 0 {
		return connector.Published{}, errf(connector.KindPermanent, "publish", "%s", ps[0].Message)
	}
	uid, err := c.userID(ctx, acct)
	if err != nil {
		return connector.Published{}, err
	}
	b := base(acct)
	m := req.Variant.Media[0]
	form := url.Values{"caption": {req.Variant.Text}}
	if m.Kind == connector.MediaVideo {
		form.Set("media_type", "REELS")
		form.Set("video_url", m.URL)
	} else {
		form.Set("image_url", m.URL)
		if m.AltText != "" {
			form.Set("alt_text", m.AltText)
		}
	}
	// An unpublished container expires on its own: safe to retry.
	creq := connector.FormRequest(http.MethodPost, b+"/"+url.PathEscape(uid)+"/media", form)
	creq.Op, creq.Idempotent = "create container", true
	var ct struct {
		ID string `json:"id"`
	}
	if _, err := c.client.JSON(ctx, acct, creq, &ct); err != nil {
		return connector.Published{}, err
	}
	if ct.ID == "" {
		return connector.Published{}, errf(connector.KindTransient, "create container", "Graph answered without a container id")
	}
	if err := c.waitFinished(ctx, acct, b, ct.ID); err != nil {
		return connector.Published{}, err
	}
	preq := connector.FormRequest(http.MethodPost, b+"/"+url.PathEscape(uid)+"/media_publish", url.Values{"creation_id": {ct.ID}})
	preq.Op = "publish"
	var pub struct {
		ID string `json:"id"`
	}
	if _, err := c.client.JSON(ctx, acct, preq, &pub); err != nil {
		return connector.Published{}, err
	}
	if pub.ID == "" {
		return connector.Published{}, errf(connector.KindUnknown, "publish", "Graph answered without a media id")
	}
	p := connector.Published{ID: pub.ID, PublishedAt: c.now()}
	// The permalink is a nicety: the post exists whatever happens here.
	var md struct {
		Permalink string       `json:"permalink"`
		Timestamp facebookTime `json:"timestamp"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "permalink", Method: http.MethodGet,
		URL: b + "/" + url.PathEscape(pub.ID) + "?fields=permalink,timestamp"}, &md); err == nil {
		p.URL = md.Permalink
		if !md.Timestamp.IsZero() {
			p.PublishedAt = md.Timestamp.Time
		}
	}
	return p, nil
}

// waitFinished polls the container until Instagram has fetched and
// processed the media (status_code FINISHED).
func (c *Connector) waitFinished(ctx context.Context, acct *connector.Account, b, id string) error {
	delay := time.Second
	for range containerPoll {
		var st struct {
			StatusCode string `json:"status_code"`
			Status     string `json:"status"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "container status", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(id) + "?fields=status_code,status"}, &st); err != nil {
			return err
		}
		switch st.StatusCode {
		case "FINISHED":
			return nil
		case "ERROR", "EXPIRED":
			msg := "Instagram could not process the media"
			if st.Status != "" {
				msg += ": " + st.Status
			}
			return &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "container status", Code: st.StatusCode, Message: msg}
		case "PUBLISHED":
			return errf(connector.KindPermanent, "container status", "the container was already published")
		}
		if err := c.sleep(ctx, delay); err != nil {
			return &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "container status", Err: err}
		}
		delay = min(delay*2, 30*time.Second)
	}
	return errf(connector.KindTransient, "container status", "Instagram is still processing the media; try again later")
}

// reply answers a comment: POST /{ig-comment-id}/replies.
func (c *Connector) reply(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	hr := connector.FormRequest(http.MethodPost, base(acct)+"/"+url.PathEscape(req.InReplyTo.ExternalID)+"/replies",
		url.Values{"message": {req.Variant.Text}})
	hr.Op = "reply"
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.client.JSON(ctx, acct, hr, &out); err != nil {
		return connector.Published{}, err
	}
	if out.ID == "" {
		return connector.Published{}, errf(connector.KindUnknown, "reply", "Graph answered without a comment id")
	}
	return connector.Published{ID: out.ID, PublishedAt: c.now()}, nil
}

// facebookTime parses Graph's "2025-03-01T12:00:00+0000".
type facebookTime struct{ time.Time }

func (t *facebookTime) UnmarshalJSON(b []byte) error {
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

type comment struct {
	ID        string       `json:"id"`
	Text      string       `json:"text"`
	Timestamp facebookTime `json:"timestamp"`
	Username  string       `json:"username"`
	From      *struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"from"`
	Replies *struct {
		Data []comment `json:"data"`
	} `json:"replies"`
}

func sameText(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

func isOwn(acct *connector.Account, cm comment) bool {
	h := strings.TrimPrefix(acct.Handle, "@")
	return (cm.From != nil && cm.From.ID == acct.ExternalID) || (h != "" && cm.Username == h)
}

// Lookup implements connector.Publisher.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	uid, err := c.userID(ctx, acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	b := base(acct)
	if r := req.InReplyTo; r != nil {
		if acct.Handle == "" {
			if _, err := c.user(ctx, acct); err != nil {
				return connector.Published{}, false, err
			}
		}
		var out struct {
			Data []comment `json:"data"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(r.ExternalID) + "/replies?fields=id,text,timestamp,username,from"}, &out); err != nil {
			return connector.Published{}, false, err
		}
		for _, cm := range out.Data {
			if isOwn(acct, cm) && sameText(cm.Text, req.Variant.Text) {
				return connector.Published{ID: cm.ID, PublishedAt: cm.Timestamp.Time}, true, nil
			}
		}
		return connector.Published{}, false, nil
	}
	q := url.Values{"fields": {"id,caption,timestamp,permalink"}, "limit": {strconv.Itoa(lookupLimit)}}
	if !req.FirstAttemptAt.IsZero() {
		q.Set("since", strconv.FormatInt(req.FirstAttemptAt.Add(-5*time.Minute).Unix(), 10))
	}
	var out struct {
		Data []struct {
			ID        string       `json:"id"`
			Caption   string       `json:"caption"`
			Timestamp facebookTime `json:"timestamp"`
			Permalink string       `json:"permalink"`
		} `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
		URL: b + "/" + url.PathEscape(uid) + "/media?" + q.Encode()}, &out); err != nil {
		return connector.Published{}, false, err
	}
	for _, m := range out.Data {
		if sameText(m.Caption, req.Variant.Text) {
			return connector.Published{ID: m.ID, URL: m.Permalink, PublishedAt: m.Timestamp.Time}, true, nil
		}
	}
	return connector.Published{}, false, nil
}

// Delete implements connector.Publisher: Instagram's API cannot delete
// media (Capabilities.Delete is false).
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	return connector.Unsupported(Platform, "delete")
}

// mediaCursor is FetchInbound's cursor: per recent media, the
// comments_count last seen and the high-water mark of delivered comments.
type mediaCursor struct {
	V     int                   `json:"v"`
	Media map[string]mediaState `json:"media"`
}

type mediaState struct {
	Count int64    `json:"n"`
	T     int64    `json:"t,omitempty"`   // newest delivered timestamp (Unix)
	IDs   []string `json:"ids,omitempty"` // delivered ids with timestamp T
}

func (st *mediaState) isNew(cm comment) bool {
	ts := cm.Timestamp.Unix()
	return ts > st.T || (ts == st.T && !slices.Contains(st.IDs, cm.ID))
}

// FetchInbound implements connector.InboundFetcher: comments and replies
// on the account's most recent media, excluding the account's own. On the
// first call (empty cursor) the comments of the recent media are read
// from their beginning.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	cur := mediaCursor{V: 1, Media: map[string]mediaState{}}
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &cur); err != nil || cur.V != 1 {
			return connector.Page{}, errf(connector.KindPermanent, "fetch inbound", "unreadable cursor")
		}
		if cur.Media == nil {
			cur.Media = map[string]mediaState{}
		}
	}
	uid, err := c.userID(ctx, acct)
	if err != nil {
		return connector.Page{}, err
	}
	if acct.Handle == "" {
		if _, err := c.user(ctx, acct); err != nil {
			return connector.Page{}, err
		}
	}
	b := base(acct)
	var media struct {
		Data []struct {
			ID            string `json:"id"`
			CommentsCount int64  `json:"comments_count"`
		} `json:"data"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
		URL: b + "/" + url.PathEscape(uid) + "/media?fields=id,comments_count,timestamp&limit=" + strconv.Itoa(mediaWindow)}, &media); err != nil {
		return connector.Page{}, err
	}
	next := mediaCursor{V: 1, Media: map[string]mediaState{}}
	pg := connector.Page{}
	for _, md := range media.Data {
		st, known := cur.Media[md.ID]
		if known && st.Count == md.CommentsCount {
			next.Media[md.ID] = st
			continue
		}
		var fresh []connector.InboundItem
		q := url.Values{"fields": {"id,text,timestamp,username,from,replies{id,text,timestamp,username,from}"},
			"limit": {strconv.Itoa(commentsLimit)}}
		u := b + "/" + url.PathEscape(md.ID) + "/comments?" + q.Encode()
		for range commentPages {
			var out struct {
				Data   []comment `json:"data"`
				Paging *struct {
					Cursors struct {
						After string `json:"after"`
					} `json:"cursors"`
					Next string `json:"next"`
				} `json:"paging"`
			}
			if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch comments", Method: http.MethodGet, URL: u}, &out); err != nil {
				if facebook.IsNotFound(err) {
					break
				}
				return connector.Page{}, err
			}
			for _, cm := range out.Data {
				if !isOwn(acct, cm) && st.isNew(cm) {
					fresh = append(fresh, commentItem(cm, md.ID, "", false))
				}
				if cm.Replies != nil {
					for _, r := range cm.Replies.Data {
						if !isOwn(acct, r) && st.isNew(r) {
							fresh = append(fresh, commentItem(r, md.ID, cm.ID, isOwn(acct, cm)))
						}
					}
				}
			}
			if out.Paging == nil || out.Paging.Next == "" || out.Paging.Cursors.After == "" {
				break
			}
			q.Set("after", out.Paging.Cursors.After)
			u = b + "/" + url.PathEscape(md.ID) + "/comments?" + q.Encode()
		}
		nst := mediaState{Count: md.CommentsCount, T: st.T, IDs: slices.Clone(st.IDs)}
		for _, cm := range fresh {
			ts := cm.CreatedAt.Unix()
			switch {
			case ts > nst.T:
				nst.T, nst.IDs = ts, []string{cm.ExternalID}
			case ts == nst.T:
				nst.IDs = append(nst.IDs, cm.ExternalID)
			}
			pg.Items = append(pg.Items, cm)
		}
		next.Media[md.ID] = nst
	}
	slices.SortStableFunc(pg.Items, func(a, b connector.InboundItem) int { return a.CreatedAt.Compare(b.CreatedAt) })
	cb, _ := json.Marshal(next)
	pg.Cursor = string(cb)
	return pg, nil
}

// commentItem: a reply answers its parent comment; it is KindReply when
// that comment is the account's own.
func commentItem(cm comment, mediaID, parentID string, parentOwn bool) connector.InboundItem {
	it := connector.InboundItem{ExternalID: cm.ID, Kind: connector.KindComment, Text: cm.Text, CreatedAt: cm.Timestamp.Time,
		InReplyTo: mediaID, ThreadID: mediaID,
		Author: connector.Author{Name: cm.Username, Handle: "@" + cm.Username, URL: "https://www.instagram.com/" + cm.Username}}
	if cm.From != nil {
		it.Author.ExternalID = cm.From.ID
	}
	if parentID != "" {
		it.InReplyTo = parentID
		if parentOwn {
			it.Kind = connector.KindReply
		}
	}
	return it
}

// FetchMetrics implements connector.MetricsFetcher: followers, follows
// and media counts, and per media like_count, comments_count and the
// views insight (impressions; -1 when not available).
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	u, err := c.user(ctx, acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: u.FollowersCount, Following: u.FollowsCount, Posts: u.MediaCount}
	b := base(acct)
	for _, id := range postIDs {
		var md struct {
			ID            string `json:"id"`
			LikeCount     int64  `json:"like_count"`
			CommentsCount int64  `json:"comments_count"`
		}
		_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "post metrics", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(id) + "?fields=id,like_count,comments_count"}, &md)
		if facebook.IsNotFound(err) {
			continue
		}
		if err != nil {
			return m, err
		}
		pm := connector.PostMetrics{ID: id, Likes: md.LikeCount, Replies: md.CommentsCount, Shares: -1, Impressions: -1}
		var ins struct {
			Data []struct {
				Name   string `json:"name"`
				Values []struct {
					Value json.Number `json:"value"`
				} `json:"values"`
			} `json:"data"`
		}
		_, err = c.client.JSON(ctx, acct, &connector.Request{Op: "post insights", Method: http.MethodGet,
			URL: b + "/" + url.PathEscape(id) + "/insights?metric=views,shares"}, &ins)
		switch connector.KindOf(err) {
		case 0:
			for _, d := range ins.Data {
				if len(d.Values) == 0 {
					continue
				}
				n, err := d.Values[0].Value.Int64()
				if err != nil {
					continue
				}
				switch d.Name {
				case "views":
					pm.Impressions = n
				case "shares":
					pm.Shares = n
				}
			}
		case connector.KindPermanent:
			// Insights need instagram_manage_insights; keep -1.
		default:
			return m, err
		}
		m.PostStats = append(m.PostStats, pm)
	}
	return m, nil
}

// WebhookChallenge implements connector.WebhookReceiver.
func (c *Connector) WebhookChallenge(r *http.Request, app connector.App) (string, bool) {
	return facebook.Challenge(r, app.VerifyToken.Reveal())
}

// VerifyWebhook implements connector.WebhookReceiver.
func (c *Connector) VerifyWebhook(r *http.Request, body []byte, app connector.App) error {
	return facebook.VerifySignature(r.Header.Get("X-Hub-Signature-256"), body, facebook.WebhookSecret(app))
}

// ParseWebhook implements connector.WebhookReceiver: "instagram" objects'
// comments changes by someone other than the account.
func (c *Connector) ParseWebhook(body []byte) ([]connector.WebhookEvent, error) {
	var d struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Time    int64  `json:"time"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					ID       string `json:"id"`
					ParentID string `json:"parent_id"`
					Text     string `json:"text"`
					From     struct {
						ID       string `json:"id"`
						Username string `json:"username"`
					} `json:"from"`
					Media struct {
						ID string `json:"id"`
					} `json:"media"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("instagram webhook: %w", err)
	}
	if d.Object != "instagram" {
		return nil, nil
	}
	var out []connector.WebhookEvent
	for _, e := range d.Entry {
		for _, ch := range e.Changes {
			v := ch.Value
			if (ch.Field != "comments" && ch.Field != "live_comments") || v.ID == "" || v.From.ID == e.ID {
				continue
			}
			it := connector.InboundItem{ExternalID: v.ID, Kind: connector.KindComment, Text: v.Text,
				CreatedAt: time.Unix(e.Time, 0).UTC(), InReplyTo: v.Media.ID, ThreadID: v.Media.ID,
				Author: connector.Author{ExternalID: v.From.ID, Name: v.From.Username, Handle: "@" + v.From.Username,
					URL: "https://www.instagram.com/" + v.From.Username}}
			if v.ParentID != "" {
				it.InReplyTo = v.ParentID
			}
			out = append(out, connector.WebhookEvent{AccountExternalID: e.ID, Item: it})
		}
	}
	return out, nil
}
