// Package bluesky connects Bluesky (AT Protocol) accounts through XRPC.
//
// A channel is connected with a handle (or email) and an app password:
// com.atproto.server.createSession returns an access JWT (short-lived) and
// a refresh JWT; com.atproto.server.refreshSession renews both. The app
// password is kept (sealed) so that a session can be recreated when the
// refresh JWT itself has expired, and the channel needs reconnecting only
// when the password is revoked.
//
// Bluesky has no idempotency key, but it lets the client choose a post's
// record key. Publish derives the record key (a TID) from the delivery's
// idempotency key and first-attempt time, so a retry of the same delivery
// collides with the first attempt instead of duplicating it, and Lookup is
// an exact com.atproto.repo.getRecord.
package bluesky

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// Platform is this connector's name.
const Platform = "bluesky"

// DefaultService is used when the channel has no service URL.
const DefaultService = "https://bsky.social"

const (
	// MaxGraphemes is the post text limit.
	MaxGraphemes = 300
	postNSID     = "app.bsky.feed.post"
	notifPage    = 50
	// maxNotifPages bounds one catch-up walk back to the cursor (2,500
	// notifications); a longer backlog loses its oldest part.
	maxNotifPages = 50
	getPostsBatch = 25
)

// Connector is the Bluesky connector.
type Connector struct {
	client *connector.Client
	now    func() time.Time
}

// New returns a Bluesky connector using the shared options.
func New(o connector.Options) *Connector {
	c := &Connector{client: o.NewClient(Platform), now: o.Clock()}
	c.client.Refresher = c
	c.client.AuthExpired = func(resp *connector.Response, code string) bool {
		return resp.Status == http.StatusUnauthorized || code == "ExpiredToken" || code == "InvalidToken"
	}
	return c
}

var _ interface {
	connector.Connector
	connector.Publisher
	connector.InboundFetcher
	connector.MetricsFetcher
	connector.Connecter
	connector.Refresher
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		Publish: true, Reply: true, Delete: true,
		Inbound: []connector.InboundKind{connector.KindMention, connector.KindComment, connector.KindReply},
		Metrics: true, Connect: true, Refresh: true,
		Idempotency:   connector.IdempotencyClientID,
		MaxTextLength: MaxGraphemes, TextCounter: "graphemes",
		Media: connector.MediaRules{MaxImages: 4,
			ImageTypes:    []string{"image/jpeg", "image/png", "image/webp", "image/gif"},
			MaxImageBytes: 1_000_000, AltTextMax: 2000},
	}
}

// Validate implements connector.Connector.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	caps := c.Capabilities()
	ps := connector.ValidateText(v.Text, caps.MaxTextLength, connector.CountGraphemes, len(v.Media) == 0)
	return append(ps, connector.ValidateMedia(caps.Media, v.Media, false)...)
}

func service(acct *connector.Account) string {
	b := strings.TrimRight(strings.TrimSpace(acct.BaseURL), "/")
	if b == "" {
		return DefaultService
	}
	if !strings.Contains(b, "://") {
		b = "https://" + b
	}
	return b
}

func xrpc(acct *connector.Account, nsid string) string { return service(acct) + "/xrpc/" + nsid }

// session is createSession's and refreshSession's answer.
type session struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	Handle     string `json:"handle"`
	DID        string `json:"did"`
	Active     *bool  `json:"active"`
}

func (c *Connector) credentials(old connector.Credentials, s session) connector.Credentials {
	n := old
	n.AccessToken, n.RefreshToken = secret.Secret(s.AccessJwt), secret.Secret(s.RefreshJwt)
	n.ExpiresAt = jwtExpiry(s.AccessJwt)
	n.TokenType = "Bearer"
	return n
}

// jwtExpiry reads a JWT's exp claim without verifying it (it is the
// server's own token to us; we only want to refresh before it lapses).
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &claims) != nil || claims.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(claims.Exp, 0)
}

// createSession logs in with the app password.
func (c *Connector) createSession(ctx context.Context, acct *connector.Account) (session, error) {
	cr := acct.Credentials
	if cr.Identifier == "" || cr.AppPassword.IsZero() {
		return session{}, &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform, Op: "create session",
			Message: "a handle and an app password are required"}
	}
	req, err := connector.JSONRequest(http.MethodPost, xrpc(acct, "com.atproto.server.createSession"),
		map[string]string{"identifier": cr.Identifier, "password": cr.AppPassword.Reveal()})
	if err != nil {
		return session{}, err
	}
	req.Op, req.NoAuth, req.NoRefresh = "create session", true, true
	// createSession is a login, not a write: repeating it is harmless.
	req.Idempotent = true
	var s session
	if _, err := c.client.JSON(ctx, acct, req, &s); err != nil {
		var e *connector.Error
		if errors.As(err, &e) && e.Kind == connector.KindPermanent {
			e.Kind = connector.KindReconnectNeeded // wrong or revoked app password
		}
		return session{}, err
	}
	return s, nil
}

// Connect implements connector.Connecter: it creates a session from the
// handle and app password and fills the account's DID and handle.
func (c *Connector) Connect(ctx context.Context, acct *connector.Account) (connector.Profile, error) {
	s, err := c.createSession(ctx, acct)
	if err != nil {
		return connector.Profile{}, err
	}
	acct.Credentials = c.credentials(acct.Credentials, s)
	acct.ExternalID, acct.Handle = s.DID, s.Handle
	if acct.SaveCredentials != nil {
		if err := acct.SaveCredentials(ctx, acct.Credentials); err != nil {
			return connector.Profile{}, err
		}
	}
	p, err := c.profile(ctx, acct)
	if err != nil {
		return connector.Profile{}, err
	}
	return connector.Profile{ExternalID: s.DID, Handle: s.Handle, DisplayName: p.DisplayName,
		URL: "https://bsky.app/profile/" + s.Handle, Followers: p.FollowersCount}, nil
}

// Refresh implements connector.Refresher: refreshSession with the refresh
// JWT, and when that is refused (it expires too), a new session from the
// app password.
func (c *Connector) Refresh(ctx context.Context, acct *connector.Account) (connector.Credentials, error) {
	var s session
	err := errors.New("no refresh token")
	if !acct.Credentials.RefreshToken.IsZero() {
		req := &connector.Request{Op: "refresh session", Method: http.MethodPost,
			URL:    xrpc(acct, "com.atproto.server.refreshSession"),
			Header: http.Header{"Authorization": {"Bearer " + acct.Credentials.RefreshToken.Reveal()}},
			NoAuth: true, NoRefresh: true}
		_, err = c.client.JSON(ctx, acct, req, &s)
	}
	if err != nil {
		switch connector.KindOf(err) {
		case connector.KindTransient, connector.KindRateLimited, connector.KindUnknown:
			return connector.Credentials{}, err
		}
		if s, err = c.createSession(ctx, acct); err != nil {
			return connector.Credentials{}, err
		}
	}
	return c.credentials(acct.Credentials, s), nil
}

// Facets.

// ByteSlice is a facet's range of UTF-8 bytes in the post text.
type ByteSlice struct {
	ByteStart int `json:"byteStart"`
	ByteEnd   int `json:"byteEnd"`
}

// Facet is app.bsky.richtext.facet: a link, mention or tag at a byte range.
type Facet struct {
	Index    ByteSlice        `json:"index"`
	Features []map[string]any `json:"features"`
}

var (
	mentionRe = regexp.MustCompile(`(^|[\s(])(@([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)`)
	tagRe     = regexp.MustCompile(`(^|\s)(#[^\s#.,;:!?()\[\]{}"'` + "`" + `]{1,64})`)
)

// Facets returns the rich-text facets for text: links, mentions (resolved
// to DIDs by resolve; unresolvable handles stay plain text) and hashtags,
// with UTF-8 byte offsets as the AT Protocol requires.
func Facets(text string, resolve func(handle string) (did string, ok bool)) []Facet {
	var out []Facet
	for _, u := range connector.FindURLs(text) {
		out = append(out, Facet{Index: ByteSlice{u.Start, u.End},
			Features: []map[string]any{{"$type": "app.bsky.richtext.facet#link", "uri": u.Text}}})
	}
	for _, m := range mentionRe.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[4], m[5]
		handle := strings.ToLower(text[start+1 : end])
		if resolve == nil {
			continue
		}
		if did, ok := resolve(handle); ok {
			out = append(out, Facet{Index: ByteSlice{start, end},
				Features: []map[string]any{{"$type": "app.bsky.richtext.facet#mention", "did": did}}})
		}
	}
	for _, m := range tagRe.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[4], m[5]
		if overlaps(out, start, end) || isDigitsOnly(text[start+1:end]) {
			continue
		}
		out = append(out, Facet{Index: ByteSlice{start, end},
			Features: []map[string]any{{"$type": "app.bsky.richtext.facet#tag", "tag": text[start+1 : end]}}})
	}
	slices.SortFunc(out, func(a, b Facet) int { return a.Index.ByteStart - b.Index.ByteStart })
	return out
}

func overlaps(fs []Facet, start, end int) bool {
	for _, f := range fs {
		if start < f.Index.ByteEnd && f.Index.ByteStart < end {
			return true
		}
	}
	return false
}

func isDigitsOnly(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (c *Connector) resolver(ctx context.Context, acct *connector.Account) func(string) (string, bool) {
	return func(handle string) (string, bool) {
		var out struct {
			DID string `json:"did"`
		}
		_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "resolve handle", Method: http.MethodGet,
			URL: xrpc(acct, "com.atproto.identity.resolveHandle") + "?handle=" + url.QueryEscape(handle)}, &out)
		return out.DID, err == nil && out.DID != ""
	}
}

// Record keys.

const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// RecordKey derives the post's record key from the delivery. A record key
// for posts is a TID: 53 bits of microseconds since the Unix epoch and 10
// bits of clock id, base32-sortable. The seconds come from the first
// attempt; the sub-second microseconds and the clock id (about 30 bits)
// from a hash of the idempotency key, so every attempt at one delivery
// yields the same key and two deliveries of one channel started in the
// same second collide with odds of about one in a billion (Lookup also
// checks the text). Without a first-attempt time the seconds too come from
// the hash, within 2024: valid, and in the past.
func RecordKey(idempotencyKey string, firstAttempt time.Time) string {
	sum := sha256.Sum256([]byte("vernetzen bluesky rkey\x00" + idempotencyKey))
	h := binary.BigEndian.Uint64(sum[:8])
	var secs uint64
	if firstAttempt.IsZero() {
		secs = uint64(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) + binary.BigEndian.Uint64(sum[8:16])%(365*24*3600)
	} else {
		secs = uint64(firstAttempt.Unix())
	}
	micros := secs*1_000_000 + (h>>10)%1_000_000
	v := (micros&(1<<53-1))<<10 | (h & 0x3ff)
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

// Publishing.

type strongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

type replyRef struct {
	Root   strongRef `json:"root"`
	Parent strongRef `json:"parent"`
}

type postRecord struct {
	Type      string         `json:"$type"`
	Text      string         `json:"text"`
	CreatedAt string         `json:"createdAt"`
	Langs     []string       `json:"langs,omitempty"`
	Facets    []Facet        `json:"facets,omitempty"`
	Embed     map[string]any `json:"embed,omitempty"`
	Reply     *replyRef      `json:"reply,omitempty"`
}

func (c *Connector) did(acct *connector.Account) (string, error) {
	if acct.ExternalID == "" {
		return "", &connector.Error{Kind: connector.KindReconnectNeeded, Platform: Platform,
			Message: "the channel has no DID; connect it again"}
	}
	return acct.ExternalID, nil
}

func postURL(handleOrDID, uri string) string {
	return "https://bsky.app/profile/" + strings.TrimPrefix(handleOrDID, "@") + "/post/" + rkeyOf(uri)
}

func rkeyOf(uri string) string { return uri[strings.LastIndexByte(uri, '/')+1:] }

// Publish implements connector.Publisher.
func (c *Connector) Publish(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, error) {
	did, err := c.did(acct)
	if err != nil {
		return connector.Published{}, err
	}
	created := req.FirstAttemptAt
	if created.IsZero() {
		created = c.now()
	}
	rec := postRecord{Type: postNSID, Text: req.Variant.Text, CreatedAt: created.UTC().Format("2006-01-02T15:04:05.000Z"),
		Facets: Facets(req.Variant.Text, c.resolver(ctx, acct))}
	if req.Variant.Language != "" {
		rec.Langs = []string{req.Variant.Language}
	}
	if len(req.Variant.Media) > 0 {
		images := make([]map[string]any, 0, len(req.Variant.Media))
		for i, m := range req.Variant.Media {
			blob, err := c.uploadBlob(ctx, acct, m)
			if err != nil {
				return connector.Published{}, fmt.Errorf("media[%d]: %w", i, err)
			}
			img := map[string]any{"alt": m.AltText, "image": blob}
			if m.Width > 0 && m.Height > 0 {
				img["aspectRatio"] = map[string]int{"width": m.Width, "height": m.Height}
			}
			images = append(images, img)
		}
		rec.Embed = map[string]any{"$type": "app.bsky.embed.images", "images": images}
	}
	if req.InReplyTo != nil {
		ref, err := c.replyRef(ctx, acct, req.InReplyTo.ExternalID)
		if err != nil {
			return connector.Published{}, err
		}
		rec.Reply = ref
	}
	rkey := RecordKey(req.IdempotencyKey, req.FirstAttemptAt)
	hr, err := connector.JSONRequest(http.MethodPost, xrpc(acct, "com.atproto.repo.createRecord"),
		map[string]any{"repo": did, "collection": postNSID, "rkey": rkey, "record": rec})
	if err != nil {
		return connector.Published{}, err
	}
	hr.Op = "publish"
	var out strongRef
	if _, err := c.client.JSON(ctx, acct, hr, &out); err != nil {
		// A refusal may mean the record key is taken because an earlier
		// attempt of this delivery succeeded (PDSs word that differently):
		// if the record exists, that attempt is the answer.
		if connector.KindOf(err) == connector.KindPermanent {
			if p, found, lerr := c.Lookup(ctx, acct, req); lerr == nil && found {
				return p, nil
			}
		}
		return connector.Published{}, err
	}
	return connector.Published{ID: out.URI, URL: postURL(c.handle(acct), out.URI), PublishedAt: created}, nil
}

func (c *Connector) handle(acct *connector.Account) string {
	if acct.Handle != "" {
		return acct.Handle
	}
	return acct.ExternalID
}

// uploadBlob sends the image bytes as the request body
// (com.atproto.repo.uploadBlob); an unused blob is garbage-collected by
// the server, so the upload may be retried.
func (c *Connector) uploadBlob(ctx context.Context, acct *connector.Account, m connector.Media) (json.RawMessage, error) {
	if m.Open == nil {
		return nil, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "upload blob", Message: "media has no content"}
	}
	var out struct {
		Blob json.RawMessage `json:"blob"`
	}
	_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "upload blob", Method: http.MethodPost,
		URL: xrpc(acct, "com.atproto.repo.uploadBlob"), ContentType: m.ContentType, Idempotent: true,
		GetBody: func() (io.ReadCloser, error) { return m.Open() }}, &out)
	if err != nil {
		return nil, err
	}
	if len(out.Blob) == 0 {
		return nil, &connector.Error{Kind: connector.KindTransient, Platform: Platform, Op: "upload blob", Message: "no blob in answer"}
	}
	return out.Blob, nil
}

type feedPost struct {
	URI         string          `json:"uri"`
	CID         string          `json:"cid"`
	Author      profile         `json:"author"`
	Record      json.RawMessage `json:"record"`
	LikeCount   int64           `json:"likeCount"`
	RepostCount int64           `json:"repostCount"`
	ReplyCount  int64           `json:"replyCount"`
	QuoteCount  int64           `json:"quoteCount"`
}

func (c *Connector) getPosts(ctx context.Context, acct *connector.Account, uris []string) ([]feedPost, error) {
	q := url.Values{"uris": uris}
	var out struct {
		Posts []feedPost `json:"posts"`
	}
	_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "get posts", Method: http.MethodGet,
		URL: xrpc(acct, "app.bsky.feed.getPosts") + "?" + q.Encode()}, &out)
	return out.Posts, err
}

// replyRef builds the reply reference: the parent is the post answered,
// the root that post's root (or the parent itself if it starts the
// thread).
func (c *Connector) replyRef(ctx context.Context, acct *connector.Account, parentURI string) (*replyRef, error) {
	posts, err := c.getPosts(ctx, acct, []string{parentURI})
	if err != nil {
		return nil, err
	}
	if len(posts) == 0 {
		return nil, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "reply",
			Message: "the post to reply to no longer exists"}
	}
	parent := strongRef{URI: posts[0].URI, CID: posts[0].CID}
	var rec struct {
		Reply *replyRef `json:"reply"`
	}
	json.Unmarshal(posts[0].Record, &rec)
	ref := &replyRef{Root: parent, Parent: parent}
	if rec.Reply != nil && rec.Reply.Root.URI != "" {
		ref.Root = rec.Reply.Root
	}
	return ref, nil
}

// Lookup implements connector.Publisher: the record key is known, so the
// post either exists under it or was never made.
func (c *Connector) Lookup(ctx context.Context, acct *connector.Account, req connector.PublishRequest) (connector.Published, bool, error) {
	did, err := c.did(acct)
	if err != nil {
		return connector.Published{}, false, err
	}
	q := url.Values{"repo": {did}, "collection": {postNSID}, "rkey": {RecordKey(req.IdempotencyKey, req.FirstAttemptAt)}}
	var out struct {
		URI   string `json:"uri"`
		Value struct {
			Text      string    `json:"text"`
			CreatedAt time.Time `json:"createdAt"`
		} `json:"value"`
	}
	_, err = c.client.JSON(ctx, acct, &connector.Request{Op: "lookup", Method: http.MethodGet,
		URL: xrpc(acct, "com.atproto.repo.getRecord") + "?" + q.Encode()}, &out)
	var e *connector.Error
	if errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Code == "RecordNotFound") {
		return connector.Published{}, false, nil
	}
	if err != nil {
		return connector.Published{}, false, err
	}
	if req.Variant.Text != "" && out.Value.Text != req.Variant.Text {
		// Another delivery holds this record key: never report someone
		// else's post as ours (that would skip this delivery silently).
		return connector.Published{}, false, &connector.Error{Kind: connector.KindPermanent, Platform: Platform,
			Op: "lookup", Code: "rkey_collision", Message: "record key " + rkeyOf(out.URI) + " holds a different post"}
	}
	return connector.Published{ID: out.URI, URL: postURL(c.handle(acct), out.URI), PublishedAt: out.Value.CreatedAt}, true, nil
}

// Delete implements connector.Publisher.
func (c *Connector) Delete(ctx context.Context, acct *connector.Account, platformID string) error {
	did, err := c.did(acct)
	if err != nil {
		return err
	}
	req, err := connector.JSONRequest(http.MethodPost, xrpc(acct, "com.atproto.repo.deleteRecord"),
		map[string]string{"repo": did, "collection": postNSID, "rkey": rkeyOf(platformID)})
	if err != nil {
		return err
	}
	req.Op = "delete"
	req.Idempotent = true // deleting twice deletes once
	_, err = c.client.Do(ctx, acct, req)
	return err
}

// Inbound.

type notification struct {
	URI       string          `json:"uri"`
	CID       string          `json:"cid"`
	Author    profile         `json:"author"`
	Reason    string          `json:"reason"`
	Record    json.RawMessage `json:"record"`
	IndexedAt time.Time       `json:"indexedAt"`
}

type profile struct {
	DID            string `json:"did"`
	Handle         string `json:"handle"`
	DisplayName    string `json:"displayName"`
	FollowersCount int64  `json:"followersCount"`
	FollowsCount   int64  `json:"followsCount"`
	PostsCount     int64  `json:"postsCount"`
}

// cursorState is the persisted inbound cursor. listNotifications pages
// from the newest backwards, so the cursor is a watermark: the newest
// indexedAt delivered and the URIs delivered at exactly that instant (so
// equal timestamps are neither repeated nor skipped).
type cursorState struct {
	At   time.Time `json:"at"`
	URIs []string  `json:"uris,omitempty"`
}

func (s cursorState) seen(n notification) bool {
	return n.IndexedAt.Before(s.At) || (n.IndexedAt.Equal(s.At) && slices.Contains(s.URIs, n.URI))
}

// FetchInbound implements connector.InboundFetcher: it walks
// listNotifications from the newest back to the watermark, keeps mentions,
// quotes and replies, and returns them oldest first. An empty cursor takes
// the newest page only.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	var state cursorState
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &state); err != nil {
			return connector.Page{}, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "fetch inbound",
				Message: "invalid cursor"}
		}
	}
	var fresh []notification
	pageCursor := ""
walk:
	for range maxNotifPages {
		q := url.Values{"limit": {fmt.Sprint(notifPage)}}
		if pageCursor != "" {
			q.Set("cursor", pageCursor)
		}
		var out struct {
			Cursor        string         `json:"cursor"`
			Notifications []notification `json:"notifications"`
		}
		if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "fetch inbound", Method: http.MethodGet,
			URL: xrpc(acct, "app.bsky.notification.listNotifications") + "?" + q.Encode()}, &out); err != nil {
			return connector.Page{}, err
		}
		for _, n := range out.Notifications {
			if cursor != "" && state.seen(n) {
				break walk
			}
			fresh = append(fresh, n)
		}
		if cursor == "" || out.Cursor == "" || len(out.Notifications) == 0 {
			break
		}
		pageCursor = out.Cursor
	}
	// The API answers newest first; reversed, equal timestamps keep their
	// arrival order through the stable sort.
	slices.Reverse(fresh)
	slices.SortStableFunc(fresh, func(a, b notification) int { return a.IndexedAt.Compare(b.IndexedAt) })

	page := connector.Page{}
	for _, n := range fresh {
		if n.IndexedAt.After(state.At) {
			state = cursorState{At: n.IndexedAt}
		}
		if n.IndexedAt.Equal(state.At) && !slices.Contains(state.URIs, n.URI) {
			state.URIs = append(state.URIs, n.URI)
		}
		if it, ok := inboundItem(acct, n); ok {
			page.Items = append(page.Items, it)
		}
	}
	b, _ := json.Marshal(state)
	page.Cursor = string(b)
	return page, nil
}

func inboundItem(acct *connector.Account, n notification) (connector.InboundItem, bool) {
	var rec struct {
		Text      string    `json:"text"`
		CreatedAt time.Time `json:"createdAt"`
		Langs     []string  `json:"langs"`
		Reply     *replyRef `json:"reply"`
	}
	json.Unmarshal(n.Record, &rec)
	it := connector.InboundItem{ExternalID: n.URI, Text: rec.Text, CreatedAt: rec.CreatedAt,
		URL:    postURL(n.Author.Handle, n.URI),
		Author: connector.Author{ExternalID: n.Author.DID, Name: n.Author.DisplayName, Handle: "@" + n.Author.Handle, URL: "https://bsky.app/profile/" + n.Author.Handle}}
	if it.Author.Name == "" {
		it.Author.Name = n.Author.Handle
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = n.IndexedAt
	}
	if len(rec.Langs) > 0 {
		it.Language = rec.Langs[0]
	}
	if rec.Reply != nil {
		it.InReplyTo, it.ThreadID = rec.Reply.Parent.URI, rec.Reply.Root.URI
	}
	switch n.Reason {
	case "mention", "quote":
		it.Kind = connector.KindMention
	case "reply":
		// A reply to the channel's thread-starting post is a comment; a
		// reply to one of the channel's replies continues a conversation.
		it.Kind = connector.KindReply
		if rec.Reply != nil && rec.Reply.Parent.URI == rec.Reply.Root.URI {
			it.Kind = connector.KindComment
		}
	default:
		return it, false // likes, reposts, follows: metrics, not messages
	}
	return it, true
}

// Metrics.

func (c *Connector) profile(ctx context.Context, acct *connector.Account) (profile, error) {
	var p profile
	_, err := c.client.JSON(ctx, acct, &connector.Request{Op: "get profile", Method: http.MethodGet,
		URL: xrpc(acct, "app.bsky.actor.getProfile") + "?actor=" + url.QueryEscape(acct.ExternalID)}, &p)
	return p, err
}

// FetchMetrics implements connector.MetricsFetcher: followers from
// getProfile, engagement from getPosts (25 at a time). Bluesky reports no
// impressions (-1); quotes count as shares.
func (c *Connector) FetchMetrics(ctx context.Context, acct *connector.Account, postIDs []string) (connector.Metrics, error) {
	if _, err := c.did(acct); err != nil {
		return connector.Metrics{}, err
	}
	p, err := c.profile(ctx, acct)
	if err != nil {
		return connector.Metrics{}, err
	}
	m := connector.Metrics{At: c.now(), Followers: p.FollowersCount, Following: p.FollowsCount, Posts: p.PostsCount}
	for batch := range slices.Chunk(postIDs, getPostsBatch) {
		posts, err := c.getPosts(ctx, acct, batch)
		if err != nil {
			return m, err
		}
		for _, fp := range posts {
			m.PostStats = append(m.PostStats, connector.PostMetrics{ID: fp.URI, Likes: fp.LikeCount,
				Shares: fp.RepostCount + fp.QuoteCount, Replies: fp.ReplyCount, Impressions: -1})
		}
	}
	return m, nil
}
