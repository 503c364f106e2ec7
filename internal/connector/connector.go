// Package connector is the one boundary between vernetzen and the social
// platforms it speaks to. It defines
//
//   - the interface every platform package implements (Connector and the
//     optional capability interfaces below),
//   - the normalised types that cross the boundary (Account, Credentials,
//     Variant, PublishRequest, Published, InboundItem, Page, Metrics),
//   - the one error type (*Error with a Kind) that tells callers what to do
//     next: retry, wait, give up, ask the owner to reconnect, or reconcile,
//   - the shared HTTP client (Client) that gives every platform the same
//     timeout, retry, rate-limit, refresh-once and reconcile behaviour,
//   - text counting as each platform counts it, and the Registry.
//
// Connectors never touch the database. The caller (publish, inbox,
// analytics workers) hands them an Account with its credentials and a
// cursor, and persists what comes back: refreshed credentials (through
// Account.SaveCredentials, immediately, because platforms rotate refresh
// tokens) and the next cursor (Page.Cursor, after the items are stored).
//
// # Why a small core plus optional interfaces
//
// Platforms differ a lot: an RSS feed can only be read, Bluesky has no
// comments API separate from replies, YouTube cannot publish text at all.
// A single fat interface would force every package to carry "not supported"
// stubs that compile but fail at run time. So Connector is the part every
// platform has (identity, declared capabilities, validation), and each
// ability is its own small interface (Publisher, InboundFetcher,
// MetricsFetcher, DemographicsFetcher, Connecter, Refresher, OAuthFlow,
// WebhookReceiver),
// discovered by type assertion. The declared Capabilities must agree with
// the interfaces implemented; Registry.Register checks that, so the UI
// (which reads Capabilities) and the workers (which assert interfaces)
// never disagree. The package-level helpers Publish, Lookup, Delete,
// FetchInbound and FetchMetrics do the assertion and return a Permanent
// *Error when the platform cannot do the thing.
//
// Replies are publications: a reply to an inbound item is a PublishRequest
// with InReplyTo set. It has a delivery like a post's, the same idempotency
// key rules and the same Lookup reconciliation, so the workers need one
// code path, not two.
package connector

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/vernetzen/vernetzen/internal/secret"
)

// Connector is implemented by every platform package. Platform names are
// short lower-case identifiers: "mastodon", "bluesky", "rss", "simulator",
// "facebook", "instagram", "x", "youtube", "linkedin".
type Connector interface {
	// Platform returns the platform's name, the key in the Registry and
	// in the channels table.
	Platform() string
	// Capabilities declares what this platform supports and its rules.
	// It is static: it must not do I/O.
	Capabilities() Capabilities
	// Validate checks a variant against the platform's rules (length as
	// the platform counts it, media count, type and size, links) and
	// returns every problem found; nil means publishable. It does no I/O,
	// so the composer can call it on every keystroke.
	Validate(v Variant) []Problem
}

// Publisher is implemented by platforms that can publish posts and
// replies.
type Publisher interface {
	// Publish creates the post (or, with req.InReplyTo set, the reply)
	// and returns the platform's id and URL. req.IdempotencyKey is the
	// delivery id: a platform with native idempotency (Mastodon's
	// Idempotency-Key) receives it as such; others use it to make a retry
	// detectable (Bluesky derives the record key from it) or for Lookup.
	//
	// An error of KindUnknown means the request may have reached the
	// platform; the caller must call Lookup before publishing again.
	Publish(ctx context.Context, acct *Account, req PublishRequest) (Published, error)

	// Lookup reconciles a delivery whose outcome is unknown: it asks the
	// platform whether req (same key, same content) was published, and
	// returns it with found=true if so. found=false with a nil error means
	// the platform positively does not have it and Publish may be called
	// again with the same key.
	Lookup(ctx context.Context, acct *Account, req PublishRequest) (p Published, found bool, err error)

	// Delete removes a published post or reply by its platform id.
	// Deleting something already gone is not an error.
	Delete(ctx context.Context, acct *Account, platformID string) error
}

// InboundFetcher is implemented by platforms the hub can poll for inbound
// items (comments, mentions, replies, direct messages, feed entries).
type InboundFetcher interface {
	// FetchInbound returns the items that arrived after cursor (an empty
	// cursor means "start now", i.e. the most recent page, without
	// back-filling history beyond it), oldest first, and the cursor to
	// persist once the items are stored. Calling it again with the
	// returned cursor never yields an item twice and never skips one, even
	// in a new process; Page.More says another call would return more
	// right away. Cursors are opaque strings owned by the connector.
	FetchInbound(ctx context.Context, acct *Account, cursor string) (Page, error)
}

// MetricsFetcher is implemented by platforms that report audience and
// engagement numbers.
type MetricsFetcher interface {
	// FetchMetrics returns the account's audience numbers and, for each
	// id in postIDs the platform still knows, the post's engagement.
	FetchMetrics(ctx context.Context, acct *Account, postIDs []string) (Metrics, error)
}

// Connecter is implemented by platforms whose channels can be connected
// with credentials the user pastes (a Mastodon access token, a Bluesky app
// password) rather than, or besides, an OAuth redirect.
type Connecter interface {
	// Connect establishes and verifies the account's session from the
	// credentials in acct (creating a session from an app password where
	// the platform needs one), fills acct.ExternalID and acct.Handle,
	// saves the resulting credentials through acct.SaveCredentials and
	// returns the profile. A wrong token or password is KindReconnectNeeded.
	Connect(ctx context.Context, acct *Account) (Profile, error)
}

// Profiler is implemented by OAuth platforms that are not Connecters: after
// Exchange, it tells which account the new credentials belong to (the
// account id that inbound polling needs).
type Profiler interface {
	Profile(ctx context.Context, acct *Account) (Profile, error)
}

// Refresher is implemented by platforms whose access tokens expire and can
// be renewed without the user. The shared Client calls it on an expired
// token (proactively when Credentials.ExpiresAt has passed, or on a 401)
// at most once per request.
type Refresher interface {
	// Refresh returns renewed credentials for acct. It must keep the old
	// refresh token in the result when the platform does not return a new
	// one, so a refresh token is never lost. A refusal by the platform
	// (revoked, expired refresh token) is KindReconnectNeeded; a network
	// failure is KindTransient and must not disconnect the channel.
	Refresh(ctx context.Context, acct *Account) (Credentials, error)
}

// OAuthFlow is implemented by platforms connected through an OAuth 2.0
// authorisation-code redirect (with PKCE where the platform supports it).
type OAuthFlow interface {
	// AuthorizeURL is where the user's browser is sent to grant access.
	// acct.BaseURL selects the server for platforms with many (Mastodon
	// instances). pkce may be zero for platforms without PKCE.
	AuthorizeURL(acct *Account, app App, state string, pkce PKCE) (string, error)
	// Exchange trades the code from the callback for credentials.
	Exchange(ctx context.Context, acct *Account, app App, code string, pkce PKCE) (Credentials, error)
}

// WebhookReceiver is implemented by platforms that push events to
// /hooks/{platform}.
type WebhookReceiver interface {
	// WebhookChallenge answers the platform's subscription handshake
	// (e.g. Graph's hub.mode=subscribe GET). ok=false means r is not a
	// handshake or its verify token is wrong; the caller answers 401.
	WebhookChallenge(r *http.Request, app App) (response string, ok bool)
	// VerifyWebhook checks the delivery's signature over the raw body
	// (e.g. X-Hub-Signature-256). A non-nil error means: answer 401 and
	// store nothing.
	VerifyWebhook(r *http.Request, body []byte, app App) error
	// ParseWebhook turns a verified body into inbound items, each tagged
	// with the external id of the platform account it belongs to so the
	// caller can find the channel.
	ParseWebhook(body []byte) ([]WebhookEvent, error)
}

// Capabilities declares what a platform supports. The composer reads it
// to show what a variant may contain; the workers read it to decide what
// to schedule.
type Capabilities struct {
	Publish bool // Publisher: posts
	Reply   bool // Publisher: PublishRequest.InReplyTo is honoured
	Delete  bool // Publisher: Delete
	Inbound []InboundKind
	Metrics bool // MetricsFetcher
	// Demographics: DemographicsFetcher (audience by age group and gender)
	Demographics bool
	Connect      bool // Connecter: credentials pasted by the user
	OAuth        bool // OAuthFlow
	Refresh      bool // Refresher
	Webhooks     bool // WebhookReceiver

	// Idempotency says how a lost outcome is reconciled.
	Idempotency Idempotency

	// MaxTextLength is the limit as TextCounter counts it; 0 = no text.
	MaxTextLength int
	// TextCounter names how the platform counts text, for the UI:
	// "chars", "graphemes", "mastodon", "x-weighted".
	TextCounter string
	// RequiresMedia is true for platforms that cannot post text alone
	// (Instagram, YouTube).
	RequiresMedia bool
	Media         MediaRules
}

// Idempotency is how a platform protects against double publication.
type Idempotency int

const (
	// IdempotencyNone: the platform has no key; Lookup searches recent
	// posts by content.
	IdempotencyNone Idempotency = iota
	// IdempotencyNative: the platform deduplicates requests carrying the
	// same key (for a limited time, e.g. Mastodon's hour).
	IdempotencyNative
	// IdempotencyClientID: the connector derives the post's identity from
	// the key (Bluesky's record key), so a retry conflicts instead of
	// duplicating and Lookup is exact.
	IdempotencyClientID
)

// MediaRules are a platform's attachment limits. Zero values mean "not
// allowed" for counts and "no limit" for sizes.
type MediaRules struct {
	MaxImages     int
	MaxVideos     int
	MixKinds      bool     // images and videos in one post
	ImageTypes    []string // MIME types, e.g. "image/jpeg"
	VideoTypes    []string
	MaxImageBytes int64
	MaxVideoBytes int64
	// MinVideoDuration and MaxVideoDuration bound a video's length; zero
	// = no bound. A video of unknown length (Media.Duration 0) is not
	// checked: the platform decides.
	MinVideoDuration, MaxVideoDuration time.Duration
	AltTextMax                         int // 0 = no alt text limit (or none supported)
	// FetchesMedia says the platform downloads attachments itself from
	// Media.URL (Instagram's container flow) instead of receiving their
	// bytes: every attachment needs a URL the internet can reach.
	FetchesMedia bool
}

// Account is one channel as a connector sees it: where it lives on the
// platform and how to authenticate. The caller builds it from the channel
// row and the opened credentials; the connector may change Credentials
// (refresh) and fill ExternalID/Handle (Connect). An Account is used by
// one goroutine at a time.
type Account struct {
	// ChannelID is the hub's channel id; it keys per-channel rate limits
	// and refresh serialisation. Required.
	ChannelID string
	// BaseURL is the server for platforms with many (Mastodon instance
	// URL, Bluesky PDS/service URL, the simulator's URL, a feed's URL for
	// RSS). Empty means the platform's default.
	BaseURL string
	// ExternalID is the account's id on the platform (Mastodon account
	// id, Bluesky DID, page id).
	ExternalID string
	// Handle is the account's public name (@user@instance, alice.bsky.social).
	Handle string
	// Credentials authenticate the account; see Refresher.
	Credentials Credentials
	// App holds the hub's application credentials on this platform
	// (client id and secret); needed to refresh on OAuth platforms.
	App App
	// SaveCredentials, if set, is called with the new credentials right
	// after a refresh or connect, before the request is retried, so that
	// a rotated refresh token is persisted even if the process dies next.
	// If it fails the operation fails with that error (Transient).
	SaveCredentials func(ctx context.Context, c Credentials) error `json:"-"`
}

// Credentials authenticate an Account. Secret fields print as
// "[redacted]"; use Seal/OpenCredentials to store them.
type Credentials struct {
	AccessToken  secret.Secret `json:"access_token,omitempty"`
	RefreshToken secret.Secret `json:"refresh_token,omitempty"`
	// ExpiresAt is when AccessToken expires; zero means unknown/never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	TokenType string    `json:"token_type,omitempty"`
	Scopes    []string  `json:"scopes,omitempty"`
	// Identifier and AppPassword are for app-password platforms
	// (Bluesky): kept so a session can be recreated when the refresh
	// token itself expires.
	Identifier  string        `json:"identifier,omitempty"`
	AppPassword secret.Secret `json:"app_password,omitempty"`
	// Extra holds platform-specific non-secret values (e.g. a page id).
	Extra map[string]string `json:"extra,omitempty"`
}

// App is the hub's registration with a platform (or, for Mastodon, with
// one instance).
type App struct {
	ClientID     string
	ClientSecret secret.Secret
	RedirectURI  string
	Scopes       []string
	// WebhookSecret signs webhook deliveries (Graph app secret);
	// VerifyToken answers subscription handshakes.
	WebhookSecret secret.Secret
	VerifyToken   secret.Secret
}

// PKCE is an OAuth 2.0 PKCE pair (RFC 7636, S256); see NewPKCE.
type PKCE struct {
	Verifier  string
	Challenge string
}

// Profile is what a platform says about a connected account.
type Profile struct {
	ExternalID  string
	Handle      string
	DisplayName string
	URL         string
	Followers   int64
}

// Variant is the content of one post for one platform.
type Variant struct {
	Text  string
	Media []Media
	// Link is a URL attached as a link card on platforms that treat links
	// apart from text (Facebook, LinkedIn); others expect it in Text.
	Link string
	// Language is an ISO 639-1 code, if known.
	Language string
	// ContentWarning hides the text behind a warning where supported.
	ContentWarning string
}

// MediaKind is an attachment's kind.
type MediaKind string

// Media kinds.
const (
	MediaImage MediaKind = "image"
	MediaVideo MediaKind = "video"
	MediaGIF   MediaKind = "gif"
)

// Media is one attachment. Open is called each time the bytes are
// needed (a retry reopens), so large files are never held in memory by
// the caller.
type Media struct {
	Kind        MediaKind
	ContentType string // MIME type
	Filename    string
	Size        int64
	AltText     string
	Width       int
	Height      int
	// Duration is a video's length if known (0 = unknown).
	Duration time.Duration
	// Open returns the bytes. Required for upload platforms.
	Open func() (io.ReadCloser, error)
	// URL is a public URL for platforms that fetch media themselves
	// (Instagram's container flow).
	URL string
}

// Problem is one rule a variant breaks.
type Problem struct {
	Field   string `json:"field"` // "text", "media[2]", "link"
	Code    string `json:"code"`  // "too_long", "too_many_media", "media_type", "media_size", "required"
	Message string `json:"message"`
}

// ProblemNoPublicURL is the Problem.Code of an attachment without the
// public URL a platform that fetches media itself needs (the caller
// knows why there is none and may say so).
const ProblemNoPublicURL = "no_public_url"

// PublishRequest is one delivery: a post, or a reply when InReplyTo is
// set.
type PublishRequest struct {
	// IdempotencyKey is the delivery id; required. The same key must be
	// used for every attempt at the same delivery.
	IdempotencyKey string
	Variant        Variant
	// InReplyTo makes this a reply to an inbound item.
	InReplyTo *ReplyTarget
	// FirstAttemptAt is when the first attempt started; Lookup uses it to
	// bound its search on platforms without idempotency. Zero = unknown.
	FirstAttemptAt time.Time
}

// ReplyTarget identifies what a reply answers, as the inbound item
// described it.
type ReplyTarget struct {
	ExternalID   string      // the inbound item's id
	Kind         InboundKind // a DM is answered privately
	AuthorHandle string      // mentioned where the platform needs it
	ThreadID     string      // the conversation's root, if known
}

// Published is a post or reply as it exists on the platform.
type Published struct {
	ID          string
	URL         string
	PublishedAt time.Time
}

// InboundKind is what an inbound item is to the channel.
type InboundKind string

// Inbound kinds; the values are those of POST /api/v1/messages.
const (
	KindComment InboundKind = "comment" // on one of the channel's posts
	KindMention InboundKind = "mention" // names the channel elsewhere
	KindReply   InboundKind = "reply"   // answers one of the channel's replies
	KindDM      InboundKind = "dm"      // private message
	KindEntry   InboundKind = "entry"   // a feed entry (RSS/Atom), for listening
)

// InboundItem is one message normalised to the shape of the inbox's
// ingest API.
type InboundItem struct {
	ExternalID string      `json:"external_id"`
	Kind       InboundKind `json:"kind"`
	Author     Author      `json:"author"`
	Text       string      `json:"text"`
	CreatedAt  time.Time   `json:"created_at"`
	// InReplyTo is the platform id of what this answers (one of our posts
	// for a comment, a previous message for a reply).
	InReplyTo string `json:"in_reply_to,omitempty"`
	// ThreadID groups a conversation (root post id, DM conversation id).
	ThreadID string `json:"thread_id,omitempty"`
	URL      string `json:"url,omitempty"`
	Title    string `json:"title,omitempty"` // feed entries
	Language string `json:"lang,omitempty"`
}

// Author is who wrote an inbound item.
type Author struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Handle     string `json:"handle"`
	URL        string `json:"url,omitempty"`
}

// Page is one FetchInbound answer.
type Page struct {
	Items []InboundItem // oldest first
	// Cursor is persisted after Items are stored and passed to the next
	// call. It is never empty after a successful call that saw the
	// platform (so "start now" happens only once).
	Cursor string
	// More is true when the platform has further items right now.
	More bool
}

// Metrics is a snapshot of an account's numbers.
type Metrics struct {
	At        time.Time
	Followers int64
	Following int64
	Posts     int64
	PostStats []PostMetrics
}

// PostMetrics is one post's engagement. -1 means the platform does not
// report that number.
type PostMetrics struct {
	ID          string
	Likes       int64
	Shares      int64
	Replies     int64
	Impressions int64
}

// WebhookEvent is one inbound item pushed by a platform, with the
// external id of the account (page, user) it was delivered for.
type WebhookEvent struct {
	AccountExternalID string
	Item              InboundItem
}
