// Package publish is campaigns, posts, per-platform variants, approvals
// along the unit tree, the calendar, deliveries (one per post and channel,
// published exactly once through the job queue) and syndication of
// central content to markets and dealers.
package publish

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/node"
	"github.com/vernetzen/vernetzen/internal/org"
)

// PostStatus is where a post stands in the approval flow. Once scheduled,
// its deliveries tell the outcome (Post.Status shows it).
type PostStatus string

const (
	PostPending   PostStatus = "pending_approval"
	PostRejected  PostStatus = "rejected"
	PostScheduled PostStatus = "scheduled"
	PostCancelled PostStatus = "cancelled"
	// Shown, not stored: the outcome of a scheduled post's deliveries.
	PostPublishing PostStatus = "publishing"
	PostPublished  PostStatus = "published"
	PostPartial    PostStatus = "partially_failed"
	PostFailed     PostStatus = "failed"
)

// DeliveryStatus is one (post, channel)'s state.
type DeliveryStatus string

const (
	DeliveryHeld       DeliveryStatus = "held" // the post awaits approval
	DeliveryScheduled  DeliveryStatus = "scheduled"
	DeliveryPublishing DeliveryStatus = "publishing" // an attempt started; its outcome is not recorded yet
	DeliveryPublished  DeliveryStatus = "published"
	DeliveryFailed     DeliveryStatus = "failed"
	DeliveryUnknown    DeliveryStatus = "unknown" // the answer was lost: reconciled by Lookup before any retry
	DeliveryCancelled  DeliveryStatus = "cancelled"
)

// Post is a piece of content for one or more channels.
type Post struct {
	ID         int64             `json:"id"`
	UnitID     int64             `json:"-"`
	Unit       string            `json:"unit"`
	UnitName   string            `json:"unit_name"`
	UnitPath   string            `json:"-"`
	CampaignID *int64            `json:"campaign"`
	OriginID   *int64            `json:"origin,omitempty"` // the offered post this one takes up
	AuthorID   int64             `json:"-"`
	Author     string            `json:"author"`
	Text       string            `json:"text"`
	Variants   map[string]string `json:"variants"` // "mastodon" or "channel:42" → text
	// Media are the post's media ids, in order; VariantMedia replaces
	// them for a platform or channel (same keys as Variants).
	Media        []int64            `json:"media"`
	VariantMedia map[string][]int64 `json:"variant_media,omitempty"`
	Stored       PostStatus         `json:"-"` // the approval state in the database
	Status       PostStatus         `json:"status"`
	ScheduledAt  time.Time          `json:"scheduled_at"`
	TimeZone     string             `json:"time_zone,omitempty"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
	// Counts is deliveries per status; Summary says it in words
	// ("497 published, 3 failed").
	Counts     map[DeliveryStatus]int `json:"counts"`
	Summary    string                 `json:"summary"`
	Deliveries []Delivery             `json:"deliveries,omitempty"`
	Approvals  []Approval             `json:"approvals,omitempty"`
	// TakenUp lists the posts that took this one up (syndication).
	TakenUp []TakeUp `json:"taken_up,omitempty"`
}

// Offer is a post offered to a descendant unit and its subtree.
type Offer struct {
	ID          int64     `json:"id"`
	PostID      int64     `json:"post"`
	UnitID      int64     `json:"-"`
	Unit        string    `json:"unit"`
	UnitPath    string    `json:"-"`
	OriginUnit  string    `json:"origin_unit"`
	Text        string    `json:"text"`
	SuggestedAt time.Time `json:"suggested_at"`
	OfferedBy   string    `json:"offered_by"`
	Note        string    `json:"note,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	TakenUp     []TakeUp  `json:"taken_up"`
}

// TakeUp is where and how an offered post was taken up.
type TakeUp struct {
	Post        int64      `json:"post"`
	Unit        string     `json:"unit"`
	UnitPath    string     `json:"-"`
	Status      PostStatus `json:"status"`
	Summary     string     `json:"summary"`
	ScheduledAt time.Time  `json:"scheduled_at"`
	PublishedAt *time.Time `json:"published_at"` // the first delivery's
}

// PostRef is a post's id and time, for calendars.
type PostRef struct {
	ID          int64
	ScheduledAt time.Time
}

// Delivery is the publication of one post on one channel.
type Delivery struct {
	ID             int64          `json:"id"`
	PostID         int64          `json:"post"`
	ChannelID      int64          `json:"channel"`
	ChannelName    string         `json:"channel_name"`
	Platform       string         `json:"platform"`
	Handle         string         `json:"handle"`
	Key            string         `json:"-"` // the idempotency key of every attempt
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	Failures       int            `json:"-"`
	FirstAttemptAt *time.Time     `json:"first_attempt_at"`
	LastAttemptAt  *time.Time     `json:"-"`
	AttemptNode    string         `json:"-"`                         // the node that marked the latest attempt
	NotBefore      *time.Time     `json:"next_attempt_at,omitempty"` // a rate limit's reset or a backoff
	PostAt         time.Time      `json:"-"`                         // the post's time (OpenDeliveries only)
	PlatformPostID string         `json:"platform_post_id"`
	URL            string         `json:"url"`
	PublishedAt    *time.Time     `json:"published_at"`
	Error          string         `json:"error"`
	ErrorKind      string         `json:"error_kind,omitempty"`
}

// Approval is one step of a post's audit trail.
type Approval struct {
	ID        int64     `json:"id"`
	PostID    int64     `json:"-"`
	UserID    int64     `json:"-"`
	Who       string    `json:"who"`
	Action    string    `json:"action"` // submitted, approved, rejected, edited, scheduled
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Campaign groups posts around a topic.
type Campaign struct {
	ID        int64      `json:"id"`
	UnitID    int64      `json:"-"`
	Unit      string     `json:"unit"`
	UnitPath  string     `json:"-"`
	Name      string     `json:"name"`
	Topic     string     `json:"topic"`
	Goal      string     `json:"goal"`
	Tags      []string   `json:"tags"`
	StartsAt  *time.Time `json:"starts_at"`
	EndsAt    *time.Time `json:"ends_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Posts     []Post     `json:"posts,omitempty"`
}

// PostFilter narrows a post list. Zero fields do not filter.
type PostFilter struct {
	UnitPath   string // the unit's subtree
	Status     PostStatus
	CampaignID int64
	OriginID   int64
	From, To   time.Time // scheduled_at in [From, To)
	Limit      int
	// NoCounts skips the delivery counts (Status is then the stored one);
	// FillCounts adds them for the posts shown.
	NoCounts bool
}

// Store is what publishing needs from the database; internal/store
// implements it.
type Store interface {
	UnitByID(ctx context.Context, id int64) (org.Unit, error)
	CreatePost(ctx context.Context, p *Post, channels []int64, keys []string, status DeliveryStatus) error
	UpdatePost(ctx context.Context, p *Post) error
	PostByID(ctx context.Context, id int64) (Post, error)
	Posts(ctx context.Context, scope []string, f PostFilter) ([]Post, error)
	Deliveries(ctx context.Context, postID int64) ([]Delivery, error)
	// PostTimes lists the ids and times of the posts Posts would list,
	// oldest first (for calendars of many posts).
	PostTimes(ctx context.Context, scope []string, f PostFilter) ([]PostRef, error)
	// PostsByIDs returns the posts with these ids within scope, without
	// counts, oldest first.
	PostsByIDs(ctx context.Context, scope []string, ids []int64) ([]Post, error)
	CreateOffers(ctx context.Context, postID int64, unitIDs []int64, by, note string) error
	// Offers lists offers, newest first: of one post (postID > 0), or all.
	Offers(ctx context.Context, postID int64, limit int) ([]Offer, error)
	OfferByID(ctx context.Context, id int64) (Offer, error)
	// TakeUps lists the posts that took postID up.
	TakeUps(ctx context.Context, postID int64) ([]TakeUp, error)
	// DeliveryCounts counts the given posts' deliveries by status.
	DeliveryCounts(ctx context.Context, postIDs []int64) (map[int64]map[DeliveryStatus]int, error)
	DeliveryByID(ctx context.Context, id int64) (Delivery, error)
	// SetDeliveryStatuses moves a post's deliveries in one of from to to
	// and returns their ids.
	SetDeliveryStatuses(ctx context.Context, postID int64, from []DeliveryStatus, to DeliveryStatus) ([]int64, error)
	// BeginAttempt marks a delivery publishing if its attempt count is
	// still attempts (false: another worker got there first).
	BeginAttempt(ctx context.Context, id int64, attempts int, at time.Time, node string) (bool, error)
	// SaveOutcome writes status, platform id, URL, published_at, error
	// and failures.
	SaveOutcome(ctx context.Context, d Delivery) error
	OpenDeliveries(ctx context.Context) ([]Delivery, error)
	// StaleDeliveries lists (at most limit) due deliveries of scheduled
	// posts, not finished, untouched since before (see SweepStale).
	StaleDeliveries(ctx context.Context, before time.Time, limit int) ([]int64, error)
	// OpenDeliveriesOf lists a post's unfinished deliveries with ids
	// from first to last.
	OpenDeliveriesOf(ctx context.Context, postID, first, last int64) ([]Delivery, error)
	AddApproval(ctx context.Context, a Approval) error
	Approvals(ctx context.Context, postID int64) ([]Approval, error)
	ApprovalRequired(ctx context.Context, unitPath string) (bool, error)
	SetApprovalPolicy(ctx context.Context, unitID int64, required bool) error
	CreateCampaign(ctx context.Context, c *Campaign, by int64) error
	UpdateCampaign(ctx context.Context, c *Campaign) error
	DeleteCampaign(ctx context.Context, id int64) error
	CampaignByID(ctx context.Context, id int64) (Campaign, error)
	Campaigns(ctx context.Context, scope []string) ([]Campaign, error)
	CreateMedia(ctx context.Context, m *Media) error
	MediaByID(ctx context.Context, id int64) (Media, error)
	// MediaByHash finds a unit's media file by its SHA-256 (NotFound if
	// the unit has none).
	MediaByHash(ctx context.Context, unitID int64, hash string) (Media, error)
	// MediaList lists media within scope (and unitPath's subtree when
	// set), newest first.
	MediaList(ctx context.Context, scope []string, unitPath string, limit int) ([]Media, error)
	// MediaUsers lists the ids of the posts that carry a media file.
	MediaUsers(ctx context.Context, mediaID int64) ([]int64, error)
	// DeleteMedia removes a media entry after detaching it from the
	// listed posts (Conflict if another post names it).
	DeleteMedia(ctx context.Context, id int64, detachFrom []int64) error
	// MediaHashUsed says whether any library still has the bytes.
	MediaHashUsed(ctx context.Context, hash string) (bool, error)
	// Tx is the transaction the store runs in, inside InTx.
	Tx() *sql.Tx
}

// Accounts opens a channel's connection: the platform account with its
// credentials, and the platform's connector. internal/connection
// implements it.
type Accounts interface {
	Account(ctx context.Context, channelID int64) (*connector.Account, connector.Connector, error)
}

// Queue is what the service needs of the job queue.
type Queue interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Config wires the service.
type Config struct {
	Store    Store
	InTx     func(ctx context.Context, fn func(Store) error) error
	Org      *org.Service
	Registry *connector.Registry
	Accounts Accounts
	Log      *slog.Logger
	Now      func() time.Time
	// MediaDir is where the media library keeps its files (in the data
	// directory); empty refuses uploads.
	MediaDir string
	// PublicURL is the hub's address as the internet reaches it (the
	// --public-url flag; empty when not set): platforms that fetch media
	// themselves get signed links under it, signed with MediaURLKey,
	// working for MediaURLTTL (default DefaultMediaURLTTL).
	PublicURL   string
	MediaURLKey []byte
	MediaURLTTL time.Duration
	// RetryBase is the first backoff after a transient failure (default
	// 250 ms, since most 5xx pass at once; doubling up to 10 minutes);
	// MinWait bounds rate-limit waits from below (default 1 s).
	RetryBase, MinWait time.Duration
	// MaxFailures is how many transient or unknown outcomes a delivery
	// survives before it is failed (default 16: about an hour of
	// retrying).
	MaxFailures int
	// Lease is how long an attempt marked publishing is presumed alive;
	// only after it may another worker reconcile it (default 3 minutes,
	// above the worker's timeout).
	Lease time.Duration
	// SoleWorkerSince, when set, says this process has been the only one
	// working deliveries on the database since then (SQLite, whose data
	// directory the process holds locked): an attempt marked before it
	// belongs to a process that is gone, so it is reconciled at once
	// instead of waiting out its lease.
	SoleWorkerSince time.Time
	// Node is this process's id among the nodes sharing the database;
	// Nodes, when set, tells whether another node is alive, so that an
	// attempt marked by a node that died is reconciled once its heartbeat
	// stops, not after the whole lease (see internal/node).
	Node  string
	Nodes node.Store
	// AfterAnswer, when set, is called with the platform's answer before
	// it is recorded; an error aborts the step there, as a crash would
	// (for tests).
	AfterAnswer func(deliveryID int64, publishErr error) error
	// StaleAfter is how long a due delivery may go untouched before the
	// sweep gives it a job of its own (default 2 minutes; see SweepStale).
	StaleAfter time.Duration
	// Concurrency bounds the platform calls that fan-out jobs make at
	// once, across all of them (default 128).
	Concurrency int
}

// Service is the publishing use cases.
type Service struct {
	Config
	queue Queue
	slots chan struct{} // one per platform call in flight (see Fanout)
	// mediaFiles orders placing a media file with its row against
	// removing the file of a deleted entry (the bytes are shared by hash).
	mediaFiles sync.Mutex
}

// NewService makes the service; call UseQueue before posts are scheduled.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 250 * time.Millisecond
	}
	if cfg.MinWait <= 0 {
		cfg.MinWait = time.Second
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 16
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 3 * time.Minute
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 2 * time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 128
	}
	return &Service{Config: cfg, slots: make(chan struct{}, cfg.Concurrency)}
}

// UseQueue gives the service its job queue.
func (s *Service) UseQueue(q Queue) { s.queue = q }

// RegisterWorkers adds the service's job workers to the queue.
func (s *Service) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &deliverWorker{s: s})
	river.AddWorker(w, &fanoutWorker{s: s})
	river.AddWorker(w, &sweepWorker{s: s})
}

// summary says a post's delivery counts in words.
func summary(c map[DeliveryStatus]int) string {
	out := ""
	for _, st := range []DeliveryStatus{DeliveryPublished, DeliveryFailed, DeliveryUnknown, DeliveryPublishing, DeliveryScheduled, DeliveryHeld, DeliveryCancelled} {
		if n := c[st]; n > 0 {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%d %s", n, st)
		}
	}
	if out == "" {
		return "no deliveries"
	}
	return out
}

// outcome is the status a post shows: its approval state until it is
// scheduled, then what its deliveries say.
func outcome(stored PostStatus, c map[DeliveryStatus]int) PostStatus {
	if stored != PostScheduled {
		return stored
	}
	total := 0
	for st, n := range c {
		if st != DeliveryCancelled {
			total += n
		}
	}
	switch {
	case total == 0 && c[DeliveryCancelled] > 0:
		return PostCancelled
	case total == 0:
		return PostScheduled
	case c[DeliveryPublished] == total:
		return PostPublished
	case c[DeliveryPublishing] > 0 || c[DeliveryUnknown] > 0:
		return PostPublishing
	case c[DeliveryFailed] == total:
		return PostFailed
	case c[DeliveryFailed] > 0 && c[DeliveryFailed]+c[DeliveryPublished] == total:
		return PostPartial
	case c[DeliveryPublished] > 0:
		return PostPublishing
	}
	return PostScheduled
}

// Finish fills a post's shown status and summary from its counts.
func (p *Post) Finish() {
	if p.Counts == nil {
		p.Counts = map[DeliveryStatus]int{}
	}
	p.Status = outcome(p.Stored, p.Counts)
	p.Summary = summary(p.Counts)
	if p.Variants == nil {
		p.Variants = map[string]string{}
	}
	if p.Media == nil {
		p.Media = []int64{}
	}
}

// MediaFor is the media a channel gets: its own variant's, its
// platform's, or the post's.
func (p *Post) MediaFor(channelID int64, platform string) []int64 {
	if m, ok := p.VariantMedia[fmt.Sprintf("channel:%d", channelID)]; ok {
		return m
	}
	if m, ok := p.VariantMedia[platform]; ok {
		return m
	}
	return p.Media
}

// TextFor is the text a channel gets: its own variant, its platform's, or
// the base text.
func (p *Post) TextFor(channelID int64, platform string) string {
	if t, ok := p.Variants[fmt.Sprintf("channel:%d", channelID)]; ok {
		return t
	}
	if t, ok := p.Variants[platform]; ok {
		return t
	}
	return p.Text
}
