// Package youtube connects YouTube channels through the YouTube Data API
// v3 with Google OAuth 2.0 (offline access, PKCE).
//
// Publishing uploads a video with the resumable protocol: POST
// /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
// opens a session (200 with its URL in Location), the bytes are PUT to
// that URL in 8 MiB chunks with Content-Range (308 with Range after each
// but the last), and an interrupted PUT is resumed: a status query (PUT with
// "Content-Range: bytes */TOTAL") answers 308 with the Range received so
// far, and the rest is sent from there; if the answer to the last PUT was
// lost, the same query answers 200/201 with the finished video. The
// session URL is therefore the idempotency key within one attempt;
// across attempts Lookup searches the channel's uploads playlist for the
// title and description.
//
// The first line of the variant's text is the title (at most 100
// characters), the whole text the description. Replies are comments.insert
// with parentId. Inbound items are top-level comments on the channel's
// videos (commentThreads.list with allThreadsRelatedToChannelId,
// order=time), read newest first with pageToken; the cursor keeps the
// high-water mark of delivered comments and, during a backlog, the page
// token and the low-water mark of the sweep, so nothing is delivered
// twice or skipped across restarts. Replies inside threads are not
// polled.
//
// Quota: Google answers an exhausted daily quota with 403 quotaExceeded;
// the quota is the project's and resets at midnight Pacific time, so the
// whole app is blocked until then.
package youtube

import (
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
	_ "time/tzdata" // midnight Pacific needs America/Los_Angeles everywhere
	"unicode/utf8"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Platform is this connector's name.
const Platform = "youtube"

// Endpoints and limits.
const (
	DefaultAPIBase    = "https://www.googleapis.com"
	TokenEndpoint     = "https://oauth2.googleapis.com/token"
	AuthorizeEndpoint = "https://accounts.google.com/o/oauth2/v2/auth"

	MaxTitle       = 100
	MaxDescription = 5000

	threadsPage   = 100
	uploadResumes = 5
	uploadChunk   = 32 * 256 << 10 // 8 MiB
	metricsBatch  = 50
)

// DefaultScopes: upload, manage comments, and read the channel's
// analytics (viewer demographics).
var DefaultScopes = []string{"https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.force-ssl", AnalyticsScope}

var pacific = func() *time.Location {
	if l, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return l
	}
	return time.FixedZone("PST", -8*3600)
}()

// Connector is the YouTube connector.
type Connector struct {
	client *connector.Client
	// upload sends the video bytes; it never retries by itself, because
	// a retry must first ask the session what it already has.
	upload *connector.Client
	now    func() time.Time
	chunk  int64 // upload chunk size, a multiple of 256 KiB
}

// New returns a YouTube connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), upload: o.NewClient(Platform), now: o.Clock(), chunk: uploadChunk}
	for _, cl := range []*connector.Client{c.client, c.upload} {
		cl.ParseError = parseError
		cl.Classify = classify
		cl.RateLimit = rateLimit
		cl.Refresher = c
	}
	c.upload.MaxAttempts = 1
	if o.Timeout == 0 {
		c.upload.Timeout = 5 * time.Minute // per chunk
	}
	return c
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.DemographicsFetcher
	connector.Refresher
	connector.OAuthFlow
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: true,
		Inbound: []connector.InboundKind{connector.KindComment},
		Metrics: true, Demographics: true, OAuth: true, Refresh: true,
		Idempotency:   connector.IdempotencyNone,
		MaxTextLength: MaxDescription, TextCounter: "chars",
		RequiresMedia: true,
		Media: connector.MediaRules{
			MaxVideos:     1,
			VideoTypes:    []string{"video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/mpeg", "video/3gpp"},
			MaxVideoBytes: 256 << 30,
			// Verified accounts; unverified ones are limited to 15 minutes.
			MaxVideoDuration: 12 * time.Hour,
		},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountChars, true)
	if strings.ContainsAny(v.Text, "<>") {
		ps = append(ps, connector.Problem{Field: "text", Code: "invalid_character", Message: "YouTube does not accept < or > in titles and descriptions"})
	}
	ps = append(ps, connector.ValidateMedia(caps.Media, v.Media, true)...)
	for i, m := range v.Media {
		if m.Open == nil || m.Size <= 0 {
			ps = append(ps, connector.Problem{Field: fmt.Sprintf("media[%d]", i), Code: "required", Message: "the video's content and size are needed for the upload"})
		}
	}
	return ps
}

// titleOf is the first non-empty line, cut to MaxTitle characters.
func titleOf(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if utf8.RuneCountInString(line) > MaxTitle {
				line = string([]rune(line)[:MaxTitle-1]) + "…"
			}
			return line
		}
	}
	return "Video"
}

func apiBase(acct *connector.Account) string {
	if acct != nil {
		if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
			return b
		}
	}
	return DefaultAPIBase
}

func tokenURL(acct *connector.Account) string {
	if acct != nil {
		if b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/"); b != "" {
			return b + "/token"
		}
	}
	return TokenEndpoint
}

// googleError is {"error": {"code", "message", "errors": [{"reason"}]}}.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Reason  string `json:"reason"`
			Domain  string `json:"domain"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

func reasonOf(body []byte) (reason, message string, ok bool) {
	var g googleError
	if json.Unmarshal(body, &g) != nil || (g.Error.Code == 0 && g.Error.Message == "") {
		return "", "", false
	}
	if len(g.Error.Errors) > 0 {
		reason = g.Error.Errors[0].Reason
	}
	return reason, g.Error.Message, true
}

func parseError(resp *connector.Response) (string, string) {
	if reason, msg, ok := reasonOf(resp.Body); ok {
		return reason, msg
	}
	return connector.ParseErrorBody(resp) // the token endpoint's {"error", "error_description"}
}

var rateReasons = []string{"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"}

// classify: Google reports quota and rate limits as 403 with a reason.
func classify(resp *connector.Response, code string) connector.Kind {
	if slices.Contains(rateReasons, code) {
		return connector.KindRateLimited
	}
	if code == "backendError" || code == "internalError" {
		return connector.KindTransient
	}
	return 0
}

// nextPacificMidnight is when the daily quota resets.
func nextPacificMidnight(now time.Time) time.Time {
	p := now.In(pacific)
	return time.Date(p.Year(), p.Month(), p.Day()+1, 0, 0, 0, 0, pacific)
}

// rateLimit: an exhausted daily quota blocks the app until midnight
// Pacific; per-user rate limits block the channel (Retry-After if given,
// else the Client's default wait).
func rateLimit(resp *connector.Response, now time.Time) connector.RateLimit {
	rl := connector.ParseRateLimit(resp.Header, now)
	reason, _, _ := reasonOf(resp.Body)
	switch reason {
	case "quotaExceeded", "dailyLimitExceeded":
		rl.Known, rl.Remaining, rl.Scope = true, 0, connector.ScopeApp
		if t := nextPacificMidnight(now); t.After(rl.Reset) {
			rl.Reset = t
		}
	case "rateLimitExceeded":
		rl.Scope = connector.ScopeApp
	}
	return rl
}

type video struct {
	ID      string `json:"id"`
	Snippet struct {
		Title       string    `json:"title"`
		Description string    `json:"description"`
		PublishedAt time.Time `json:"publishedAt"`
	} `json:"snippet"`
	Statistics *struct {
		ViewCount    string `json:"viewCount"`
		LikeCount    string `json:"likeCount"`
		CommentCount string `json:"commentCount"`
	} `json:"statistics"`
}

func watchURL(id string) string { return "https://www.youtube.com/watch?v=" + url.QueryEscape(id) }

func (c *Connector) published(v video) connector.Published {
	at := v.Snippet.PublishedAt
	if at.IsZero() {
		at = c.now()
	}
	return connector.Published{ID: v.ID, URL: watchURL(v.ID), PublishedAt: at}
}

// Publish implements connector.Publisher: a resumable video upload, or
// with InReplyTo a reply comment.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	if r := req.InReplyTo; r != nil {
		if r.Kind == connector.KindDM {
			return connector.Published{}, connector.Unsupported(Platform, "direct messages")
		}
		return c.reply(ctx, acct, req)
	}
	if ps := c.Validate(req.Variant); len(ps) > 0 {
		return connector.Published{}, connector.Errorf(connector.KindPermanent, Platform, "publish", "%s", ps[0].Message)
	}
	m := req.Variant.Media[0]
	meta := map[string]any{
		"snippet": map[string]any{"title": titleOf(req.Variant.Text), "description": req.Variant.Text},
		"status":  map[string]any{"privacyStatus": "public", "selfDeclaredMadeForKids": false},
	}
	if req.Variant.Language != "" {
		meta["snippet"].(map[string]any)["defaultLanguage"] = req.Variant.Language
	}
	init, err := connector.JSONRequest(http.MethodPost,
		apiBase(acct)+"/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", meta)
	if err != nil {
		return connector.Published{}, err
	}
	// Opening a session creates nothing visible: safe to retry.
	init.Op, init.Idempotent = "start upload", true
	init.ContentType = "application/json; charset=UTF-8"
	init.Header = http.Header{"X-Upload-Content-Length": {strconv.FormatInt(m.Size, 10)}, "X-Upload-Content-Type": {m.ContentType}}
	resp, err := c.client.Do(ctx, acct, init)
	if err != nil {
		return connector.Published{}, err
	}
	session := resp.Header.Get("Location")
	if session == "" {
		return connector.Published{}, connector.Errorf(connector.KindTransient, Platform, "start upload", "no upload session URL in the answer")
	}
	v, err := c.sendBytes(ctx, acct, session, m)
	if err != nil {
		return connector.Published{}, err
	}
	return c.published(v), nil
}

// sendBytes PUTs the video to the session in chunks (Content-Range; the
// session answers 308 with the Range it holds after each chunk and
// 200/201 with the video after the last). After an interrupted PUT it
// asks the session what it has and resumes from there. Each chunk is
// read into memory, so the request has a Content-Length, and the file is
// read sequentially unless a resume moves the offset.
func (c *Connector) sendBytes(ctx context.Context, acct *connector.Account, session string, m connector.Media) (video, error) {
	var rc io.ReadCloser
	var pos int64
	defer func() {
		if rc != nil {
			rc.Close()
		}
	}()
	readChunk := func(start int64) ([]byte, error) {
		if rc == nil || pos != start {
			if rc != nil {
				rc.Close()
				rc = nil
			}
			r, err := openAt(m, start)
			if err != nil {
				return nil, err
			}
			rc, pos = r, start
		}
		buf := make([]byte, min(c.chunk, m.Size-start))
		if _, err := io.ReadFull(rc, buf); err != nil {
			rc.Close()
			rc = nil
			return nil, err
		}
		pos += int64(len(buf))
		return buf, nil
	}
	var start int64
	for failures := 0; failures < uploadResumes; {
		buf, err := readChunk(start)
		if err != nil {
			return video{}, &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "upload video",
				Message: "reading the video failed", Err: err}
		}
		resp, err := c.upload.Do(ctx, acct, &connector.Request{Op: "upload video", Method: http.MethodPut, URL: session,
			Body: buf, ContentType: m.ContentType,
			Header: http.Header{"Content-Range": {fmt.Sprintf("bytes %d-%d/%d", start, start+int64(len(buf))-1, m.Size)}}})
		if err == nil {
			return decodeVideo(resp)
		}
		var e *connector.Error
		if !errors.As(err, &e) {
			return video{}, err
		}
		switch {
		case e.Status == http.StatusPermanentRedirect: // 308 Resume Incomplete
			next := nextByte(resp)
			if next <= start {
				failures++
			}
			start = next
		case e.Kind == connector.KindTransient || e.Kind == connector.KindUnknown:
			failures++
			// Ask the session what it has; it may even be complete.
			v, next, done, qerr := c.uploadStatus(ctx, acct, session, m.Size)
			if qerr != nil {
				return video{}, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "upload video",
					Message: "the upload was interrupted and its state is unknown", Err: err}
			}
			if done {
				return v, nil
			}
			start = next
		default:
			return video{}, err
		}
	}
	return video{}, connector.Errorf(connector.KindTransient, Platform, "upload video", "the upload was interrupted %d times", uploadResumes)
}

// uploadStatus queries an upload session: done with the video, or the
// next byte to send.
func (c *Connector) uploadStatus(ctx context.Context, acct *connector.Account, session string, size int64) (video, int64, bool, error) {
	resp, err := c.upload.Do(ctx, acct, &connector.Request{Op: "upload status", Method: http.MethodPut, URL: session,
		Body: []byte{}, Header: http.Header{"Content-Range": {fmt.Sprintf("bytes */%d", size)}}})
	if err == nil {
		v, derr := decodeVideo(resp)
		return v, 0, derr == nil, derr
	}
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusPermanentRedirect {
		return video{}, nextByte(resp), false, nil
	}
	return video{}, 0, false, err
}

// nextByte reads a 308's "Range: bytes=0-N" (none means nothing stored).
func nextByte(resp *connector.Response) int64 {
	if resp == nil {
		return 0
	}
	r := strings.TrimPrefix(resp.Header.Get("Range"), "bytes=")
	_, end, ok := strings.Cut(r, "-")
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(end, 10, 64)
	if err != nil {
		return 0
	}
	return n + 1
}

func decodeVideo(resp *connector.Response) (video, error) {
	var v video
	if err := json.Unmarshal(resp.Body, &v); err != nil || v.ID == "" {
		return v, &connector.Error{Kind: connector.KindUnknown, Platform: Platform, Op: "upload video", Status: resp.Status,
			Message: "the upload finished without a readable video resource", Err: err}
	}
	return v, nil
}

// openAt opens the media and skips to off.
func openAt(m connector.Media, off int64) (io.ReadCloser, error) {
	rc, err := m.Open()
	if err != nil || off == 0 {
		return rc, err
	}
	if _, err := io.CopyN(io.Discard, rc, off); err != nil {
		rc.Close()
		return nil, err
	}
	return rc, nil
}

// reply: comments.insert with parentId (the thread's top-level comment;
// a reply id "parent.reply" answers in the same thread).
func (c *Connector) reply(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	parent, _, _ := strings.Cut(req.InReplyTo.ExternalID, ".")
	hr, err := connector.JSONRequest(http.MethodPost, apiBase(acct)+"/youtube/v3/comments?part=snippet",
		map[string]any{"snippet": map[string]any{"parentId": parent, "textOriginal": req.Variant.Text}})
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op = "reply"
	var out struct {
		ID      string `json:"id"`
		Snippet struct {
			PublishedAt time.Time `json:"publishedAt"`
		} `json:"snippet"`
	}
	if _, err := c.client.JSON(ctx, acct, hr, &out); err != nil {
		return connector.Published{}, err
	}
	if out.ID == "" {
		return connector.Published{}, connector.Errorf(connector.KindUnknown, Platform, "reply", "YouTube answered without a comment id")
	}
	p := connector.Published{ID: out.ID, PublishedAt: out.Snippet.PublishedAt}
	if req.InReplyTo.ThreadID != "" {
		p.URL = watchURL(req.InReplyTo.ThreadID) + "&lc=" + url.QueryEscape(out.ID)
	}
	return p, nil
}

// Lookup implements connector.Publisher: a video among the channel's
// uploads (same title and description), a reply among the thread's
// replies by the channel.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	b := apiBase(acct)
	if r := req.InReplyTo; r != nil {
		parent, _, _ := strings.Cut(r.ExternalID, ".")
		chID, err := c.channelID(ctx, acct)
		if err != nil {
			return connector.Published{}, false, err
		}
		var out struct {
			Items []comment `json:"items"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
			URL: b + "/youtube/v3/comments?part=snippet&maxResults=100&textFormat=plainText&parentId=" + url.QueryEscape(parent)}, &out); err != nil {
			return connector.Published{}, false, err
		}
		for _, cm := range out.Items {
			if cm.Snippet.AuthorChannelID.Value == chID && sameText(cm.text(), req.Variant.Text) {
				return connector.Published{ID: cm.ID, PublishedAt: cm.Snippet.PublishedAt}, true, nil
			}
		}
		return connector.Published{}, false, nil
	}
	var ch struct {
		Items []struct {
			ID             string `json:"id"`
			ContentDetails struct {
				RelatedPlaylists struct {
					Uploads string `json:"uploads"`
				} `json:"relatedPlaylists"`
			} `json:"contentDetails"`
		} `json:"items"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
		URL: b + "/youtube/v3/channels?part=contentDetails&mine=true"}, &ch); err != nil {
		return connector.Published{}, false, err
	}
	if len(ch.Items) == 0 || ch.Items[0].ContentDetails.RelatedPlaylists.Uploads == "" {
		return connector.Published{}, false, nil
	}
	var items struct {
		Items []struct {
			Snippet struct {
				Title       string    `json:"title"`
				Description string    `json:"description"`
				PublishedAt time.Time `json:"publishedAt"`
				ResourceID  struct {
					VideoID string `json:"videoId"`
				} `json:"resourceId"`
			} `json:"snippet"`
		} `json:"items"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
		URL: b + "/youtube/v3/playlistItems?part=snippet&maxResults=50&playlistId=" + url.QueryEscape(ch.Items[0].ContentDetails.RelatedPlaylists.Uploads)}, &items); err != nil {
		return connector.Published{}, false, err
	}
	title := titleOf(req.Variant.Text)
	for _, it := range items.Items {
		s := it.Snippet
		if s.Title == title && sameText(s.Description, req.Variant.Text) {
			return connector.Published{ID: s.ResourceID.VideoID, URL: watchURL(s.ResourceID.VideoID), PublishedAt: s.PublishedAt}, true, nil
		}
	}
	return connector.Published{}, false, nil
}

func sameText(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// Delete implements connector.Publisher (videos.delete).
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	_, err := c.client.Do(ctx, acct, &connector.Request{Op: "delete", Method: http.MethodDelete,
		URL: apiBase(acct) + "/youtube/v3/videos?id=" + url.QueryEscape(platformID)})
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

type comment struct {
	ID      string `json:"id"`
	Snippet struct {
		AuthorDisplayName string `json:"authorDisplayName"`
		AuthorChannelURL  string `json:"authorChannelUrl"`
		AuthorChannelID   struct {
			Value string `json:"value"`
		} `json:"authorChannelId"`
		TextOriginal string    `json:"textOriginal"`
		TextDisplay  string    `json:"textDisplay"`
		VideoID      string    `json:"videoId"`
		PublishedAt  time.Time `json:"publishedAt"`
	} `json:"snippet"`
}

func (cm comment) text() string {
	if cm.Snippet.TextOriginal != "" {
		return cm.Snippet.TextOriginal
	}
	return cm.Snippet.TextDisplay
}

type thread struct {
	ID      string `json:"id"`
	Snippet struct {
		VideoID         string  `json:"videoId"`
		TopLevelComment comment `json:"topLevelComment"`
	} `json:"snippet"`
}

// mark is a point in the newest-first order: a time and the ids seen at
// exactly that time.
type mark struct {
	T   int64    `json:"t,omitempty"` // Unix seconds
	IDs []string `json:"ids,omitempty"`
}

func (m mark) after(t int64, id string) bool {
	return t > m.T || (t == m.T && !slices.Contains(m.IDs, id))
}

func (m *mark) lower(t int64, id string) {
	switch {
	case m.T == 0 || t < m.T:
		m.T, m.IDs = t, []string{id}
	case t == m.T && !slices.Contains(m.IDs, id):
		m.IDs = append(m.IDs, id)
	}
}

func (m *mark) raise(t int64, id string) {
	switch {
	case t > m.T:
		m.T, m.IDs = t, []string{id}
	case t == m.T && !slices.Contains(m.IDs, id):
		m.IDs = append(m.IDs, id)
	}
}

// threadCursor: High is what completed sweeps delivered; a sweep in
// progress has its page Token, its Top (becomes High when it ends) and
// its Low (the oldest delivered so far, so a shifted page repeats
// nothing).
type threadCursor struct {
	Started bool   `json:"s"`
	High    mark   `json:"high"`
	Top     *mark  `json:"top,omitempty"`
	Low     *mark  `json:"low,omitempty"`
	Token   string `json:"token,omitempty"`
}

// FetchInbound implements connector.InboundFetcher.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	var cur threadCursor
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &cur); err != nil || !cur.Started {
			return connector.Page{}, connector.Errorf(connector.KindPermanent, Platform, "fetch inbound", "unreadable cursor")
		}
	}
	chID, err := c.channelID(ctx, acct)
	if err != nil {
		return connector.Page{}, err
	}
	q := url.Values{"part": {"snippet"}, "allThreadsRelatedToChannelId": {chID}, "order": {"time"},
		"maxResults": {strconv.Itoa(threadsPage)}, "textFormat": {"plainText"}}
	if cur.Token != "" {
		q.Set("pageToken", cur.Token)
	}
	var out struct {
		Items         []thread `json:"items"`
		NextPageToken string   `json:"nextPageToken"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
		URL: apiBase(acct) + "/youtube/v3/commentThreads?" + q.Encode()}, &out); err != nil {
		return connector.Page{}, err
	}
	next := cur
	next.Started = true
	if cur.Token == "" {
		next.Top, next.Low = &mark{}, nil
	}
	pg := connector.Page{}
	reachedOld := false
	for _, th := range out.Items { // newest first
		cm := th.Snippet.TopLevelComment
		if cm.ID == "" {
			cm.ID = th.ID
		}
		t := cm.Snippet.PublishedAt.Unix()
		if !cur.Started {
			next.High.raise(t, cm.ID) // "start now": the newest page only
		} else if !cur.High.after(t, cm.ID) {
			reachedOld = true
			continue
		}
		if next.Low != nil && !(t < next.Low.T || (t == next.Low.T && !slices.Contains(next.Low.IDs, cm.ID))) {
			continue // delivered earlier in this sweep (the page shifted)
		}
		if next.Low == nil {
			next.Low = &mark{}
		}
		next.Low.lower(t, cm.ID)
		next.Top.raise(t, cm.ID)
		if cm.Snippet.AuthorChannelID.Value == chID {
			continue // the channel's own comment
		}
		vid := cm.Snippet.VideoID
		if vid == "" {
			vid = th.Snippet.VideoID
		}
		pg.Items = append(pg.Items, connector.InboundItem{ExternalID: cm.ID, Kind: connector.KindComment, Text: cm.text(),
			CreatedAt: cm.Snippet.PublishedAt, InReplyTo: vid, ThreadID: vid, URL: watchURL(vid) + "&lc=" + url.QueryEscape(cm.ID),
			Author: connector.Author{ExternalID: cm.Snippet.AuthorChannelID.Value, Name: cm.Snippet.AuthorDisplayName, URL: cm.Snippet.AuthorChannelURL}})
	}
	switch {
	case !cur.Started:
		next.Top, next.Low, next.Token = nil, nil, ""
	case out.NextPageToken != "" && !reachedOld:
		next.Token = out.NextPageToken
		pg.More = true
	default: // the sweep reached what was delivered before
		for _, id := range next.Top.IDs {
			next.High.raise(next.Top.T, id)
		}
		next.Top, next.Low, next.Token = nil, nil, ""
	}
	slices.Reverse(pg.Items) // oldest first
	b, _ := json.Marshal(next)
	pg.Cursor = string(b)
	return pg, nil
}

type channel struct {
	ID      string `json:"id"`
	Snippet struct {
		Title     string `json:"title"`
		CustomURL string `json:"customUrl"`
	} `json:"snippet"`
	Statistics struct {
		SubscriberCount string `json:"subscriberCount"`
		VideoCount      string `json:"videoCount"`
		ViewCount       string `json:"viewCount"`
	} `json:"statistics"`
}

func (c *Connector) channelID(ctx context.Context, acct *connector.Account) (string, error) {
	if acct.ExternalID != "" {
		return acct.ExternalID, nil
	}
	ch, err := c.mine(ctx, acct)
	return ch.ID, err
}

func (c *Connector) mine(ctx context.Context, acct *connector.Account) (channel, error) {
	var out struct {
		Items []channel `json:"items"`
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "channel", Method: http.MethodGet,
		URL: apiBase(acct) + "/youtube/v3/channels?part=snippet,statistics&mine=true"}, &out); err != nil {
		return channel{}, err
	}
	if len(out.Items) == 0 {
		return channel{}, connector.Errorf(connector.KindReconnectNeeded, Platform, "channel", "the Google account has no YouTube channel")
	}
	acct.ExternalID, acct.Handle = out.Items[0].ID, out.Items[0].Snippet.CustomURL
	return out.Items[0], nil
}

// Profile returns the connected channel (channels.list mine=true) and
// fills acct.ExternalID and acct.Handle; call it after Exchange.
func (c *Connector) Profile(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	ch, err := c.mine(ctx, acct)
	if err != nil {
		return connector.Profile{}, err
	}
	n, _ := strconv.ParseInt(ch.Statistics.SubscriberCount, 10, 64)
	return connector.Profile{ExternalID: ch.ID, Handle: ch.Snippet.CustomURL, DisplayName: ch.Snippet.Title,
		URL: "https://www.youtube.com/channel/" + ch.ID, Followers: n}, nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// FetchMetrics implements connector.MetricsFetcher: subscriberCount and
// videoCount (channels.list part=statistics), and per video likes,
// comments and views (videos.list part=statistics; views stand in for
// impressions, shares are not reported).
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	b := apiBase(acct)
	var out struct {
		Items []channel `json:"items"`
	}
	u := b + "/youtube/v3/channels?part=statistics&mine=true"
	if acct.ExternalID != "" {
		u = b + "/youtube/v3/channels?part=statistics&id=" + url.QueryEscape(acct.ExternalID)
	}
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "channel statistics", Method: http.MethodGet, URL: u}, &out); err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now()}
	if len(out.Items) > 0 {
		m.Followers, m.Posts = atoi(out.Items[0].Statistics.SubscriberCount), atoi(out.Items[0].Statistics.VideoCount)
	}
	for batch := range slices.Chunk(postIDs, metricsBatch) {
		var vs struct {
			Items []video `json:"items"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "video statistics", Method: http.MethodGet,
			URL: b + "/youtube/v3/videos?part=statistics&id=" + url.QueryEscape(strings.Join(batch, ","))}, &vs); err != nil {
			return m, err
		}
		for _, v := range vs.Items {
			if v.Statistics == nil {
				continue
			}
			m.PostStats = append(m.PostStats, connector.PostMetrics{ID: v.ID, Likes: atoi(v.Statistics.LikeCount),
				Replies: atoi(v.Statistics.CommentCount), Impressions: atoi(v.Statistics.ViewCount), Shares: -1})
		}
	}
	return m, nil
}

// AuthorizeURL implements connector.OAuthFlow (offline access, consent
// prompt so Google returns a refresh token, PKCE S256).
func (c *Connector) AuthorizeURL(acct *connector.Account, app connector.App, state string, pkce connector.PKCE) (string, error) {
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI},
		"scope": {strings.Join(scopes, " ")}, "state": {state}, "access_type": {"offline"}, "prompt": {"consent"},
		"include_granted_scopes": {"true"}}
	if pkce.Challenge != "" {
		q.Set("code_challenge", pkce.Challenge)
		q.Set("code_challenge_method", "S256")
	}
	return AuthorizeEndpoint + "?" + q.Encode(), nil
}

// Exchange implements connector.OAuthFlow.
func (c *Connector) Exchange(ctx context.Context, acct *connector.Account, app connector.App, code string, pkce connector.PKCE) (connector.Credentials, error) {
	return c.oauth().Exchange(ctx, acct, app, code, pkce)
}

// Refresh implements connector.Refresher. Google normally returns no new
// refresh token; the old one is kept.
func (c *Connector) Refresh(ctx context.Context, acct *connector.Account) (connector.Credentials, error) {
	return c.oauth().Refresh(ctx, acct)
}

// oauth is Google's token endpoint; the client authenticates in the form.
func (c *Connector) oauth() connector.OAuth2 {
	return connector.OAuth2{Client: c.client, Now: c.now, TokenURL: tokenURL}
}
