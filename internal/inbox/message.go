// Package inbox is where every inbound comment, mention, reply and direct
// message lands: ingest (dedupe, classification, routing, one batched
// write), the message list with its filters, and the handling of
// conversations (status, assignment, notes).
package inbox

import "time"

// Message is one inbound item of one channel, unique by (channel, platform
// id) however often the platform delivers it.
type Message struct {
	ID               int64     `json:"id"`
	ChannelID        int64     `json:"channel"`
	ExternalID       string    `json:"external_id"`
	Kind             string    `json:"kind"` // comment, mention, reply, dm, entry
	AuthorExternalID string    `json:"author_external_id"`
	AuthorName       string    `json:"author_name"`
	AuthorHandle     string    `json:"author_handle"`
	Text             string    `json:"text"`
	URL              string    `json:"url,omitempty"`
	InReplyTo        string    `json:"in_reply_to,omitempty"`
	ThreadID         string    `json:"thread_id,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	ReceivedAt       time.Time `json:"received_at"`

	// What ingest made of it: classification and routing.
	Intent       string   `json:"intent"`
	Lang         string   `json:"lang"`
	Models       []string `json:"models"`
	Score        float64  `json:"score"`
	UnitID       int64    `json:"-"`
	Unit         string   `json:"unit,omitempty"` // the routed unit's key
	Queue        string   `json:"queue"`
	Status       string   `json:"status"` // open, pending, closed
	Conversation string   `json:"conversation"`
	AssignedTo   int64    `json:"assigned_to,omitempty"` // user id
	LeadID       int64    `json:"lead,omitempty"`

	// AssignedTeam is the conversation's team (TeamName its name).
	AssignedTeam int64  `json:"assigned_team,omitempty"`
	TeamName     string `json:"team_name,omitempty"`

	// FirstResponseAt is when a reply first answered the conversation
	// (set on its messages received before then).
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	// SLADueAt is when the first response is due, by the queue's target
	// and the unit's business hours; SLAWarnAt when it becomes due soon
	// (a quarter of the target left). SLA is where it stands now: ok,
	// due_soon, breached or met.
	SLADueAt  *time.Time `json:"sla_due_at,omitempty"`
	SLAWarnAt *time.Time `json:"-"`
	SLA       string     `json:"sla,omitempty"`
	// Tags are the conversation's.
	Tags []string `json:"tags"`

	// Platform is the channel's platform (ingest only: it names the
	// person a lead is about).
	Platform string `json:"-"`
}

// Statuses of a message's handling.
const (
	StatusOpen    = "open"
	StatusPending = "pending"
	StatusClosed  = "closed"
)

// Queues a message may wait in (see QueueFor).
var Queues = []string{"sales", "support", "care", "questions", "spam", "community"}

// Kinds a message may be.
var Kinds = []string{"comment", "mention", "reply", "dm"}

// Filter narrows a message list. Zero fields do not filter.
type Filter struct {
	Unit         string // unit key: the unit and its subtree
	UnitPath     string // resolved from Unit by the service
	ChannelID    int64
	Intent       string
	Lang         string
	Queue        string
	Status       string
	Text         string // full-text search
	Assigned     int64  // user id
	Team         int64  // the conversation is assigned to this team
	TeamOf       int64  // the conversation's team has this user as a member
	Conversation string
	// SLA keeps waiting messages that are "breached" or "due_soon" at Now
	// (set by the service).
	SLA    string
	Now    time.Time
	Tag    string // the conversation carries this tag
	Limit  int
	Offset int
	// BeforeID pages by id (newest first) instead of Offset.
	BeforeID int64
	// AfterID keeps messages newer than this one (what arrived since).
	AfterID int64
	// CountLimit, when set, stops counting there: Total is then at most
	// CountLimit (the page shows "10,000+"), which keeps a broad filter
	// over millions of messages fast.
	CountLimit int
}

// Note is an internal note on a message, never sent to the platform.
type Note struct {
	ID        int64     `json:"id"`
	MessageID int64     `json:"message"`
	UserID    int64     `json:"user_id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}
