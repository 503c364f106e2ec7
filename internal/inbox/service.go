package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/node"
)

// UnitRef is what routing needs of a unit.
type UnitRef struct {
	ID   int64
	Key  string
	Name string
	Kind string
	Path string
	// TimeZone is the unit's IANA zone ("" inherits the parent's).
	TimeZone string
}

// ChannelRef is what routing needs of a channel.
type ChannelRef struct {
	ID       int64
	UnitID   int64
	Platform string
	Name     string
	Handle   string
}

// Store is what the inbox needs from the database.
type Store interface {
	// IngestMessages stores a batch in one transaction, skipping those
	// already stored, and creates or updates the leads of new
	// purchase-intent messages; it returns the new messages.
	IngestMessages(ctx context.Context, msgs []Message) ([]Message, error)
	Messages(ctx context.Context, scope []string, f Filter) ([]Message, int, error)
	MessageByID(ctx context.Context, id int64) (Message, string, error)
	UpdateConversation(ctx context.Context, channelID int64, conversation, status string, assignee int64) error
	AddNote(ctx context.Context, n *Note) error
	Notes(ctx context.Context, channelID int64, conversation string) ([]Note, error)
	InboxUnits(ctx context.Context) ([]UnitRef, error)
	InboxChannels(ctx context.Context) ([]ChannelRef, error)
	ReplyStore
	SLAStore
	TagStore
	SavedReplyStore
	RuleStore
	CatalogueStore
	AssigneeStore
	LabelStore
	TeamStore
}

// Config wires the service.
type Config struct {
	Store      Store
	Classifier *classify.Classifier // nil: classify.New(classify.DefaultCatalogue())
	Log        *slog.Logger
	Now        func() time.Time
	// DirectoryTTL is how long the routing's copy of units and channels
	// is trusted (default 30 s); an unknown channel reloads it at once.
	DirectoryTTL time.Duration

	// Replies: the channels' accounts (connection.Service), the
	// connectors' rules (nil: replies are not validated before sending),
	// and the delivery's retry policy.
	Accounts    Accounts
	Registry    *connector.Registry
	RetryBase   time.Duration // first backoff after a failure (default 30 s)
	MinWait     time.Duration // least wait after a 429 (default 1 s)
	MaxFailures int           // failures before a reply is failed or unknown (default 8)
	Lease       time.Duration // how long an attempt may be running (default 3 min)
	// SoleWorkerSince, when set, says this process alone has worked
	// replies on the database since then (see publish.Config): an
	// attempt marked before it is reconciled at once.
	SoleWorkerSince time.Time
	// Node and Nodes: this process's id and the other nodes' heartbeats
	// (see publish.Config).
	Node  string
	Nodes node.Store
	// AfterReplyAnswer, if set, runs after the platform answered a send
	// and before the outcome is stored (tests simulate a crash there).
	AfterReplyAnswer func(replyID int64, err error) error
}

// Service is the inbox's use cases: ingest, the message list,
// conversations (status, assignment, notes) and live updates.
type Service struct {
	cfg Config
	cls *classify.Classifier

	mu     sync.Mutex
	dir    *directory
	loaded time.Time

	events    hub
	queue     Queue
	catalogue catalogueCache
	combine   combiner
}

// NewService makes the inbox service.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DirectoryTTL <= 0 {
		cfg.DirectoryTTL = 30 * time.Second
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.MinWait <= 0 {
		cfg.MinWait = time.Second
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 3 * time.Minute
	}
	cls := cfg.Classifier
	if cls == nil {
		cls = classify.New(classify.DefaultCatalogue())
	}
	return &Service{cfg: cfg, cls: cls}
}

// MaxBatch bounds the messages of one ingest call.
const MaxBatch = 5000

// AuthorInput is a message's author as the batch API takes it.
type AuthorInput struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Handle     string `json:"handle"`
}

// MessageInput is one message of the batch API.
type MessageInput struct {
	Channel    int64       `json:"channel"`
	ExternalID string      `json:"external_id"`
	Kind       string      `json:"kind"`
	Author     AuthorInput `json:"author"`
	Text       string      `json:"text"`
	CreatedAt  string      `json:"created_at"` // RFC 3339
	InReplyTo  string      `json:"in_reply_to,omitempty"`
	URL        string      `json:"url,omitempty"`
}

// IngestResult is what a batch came to.
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// Bounds of a message's fields.
const (
	maxText = 64 << 10
	maxID   = 512
)

func validKind(k string) bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Ingest validates a batch, classifies and routes it, and stores it in
// one transaction: all or nothing. Once it returns without error, every
// accepted message is committed.
func (s *Service) Ingest(ctx context.Context, p *access.Principal, in []MessageInput) (IngestResult, error) {
	if len(in) == 0 {
		return IngestResult{}, errs.Field("messages", "the batch is empty")
	}
	if len(in) > MaxBatch {
		return IngestResult{}, errs.Field("messages", "a batch holds at most %d messages, not %d", MaxBatch, len(in))
	}
	dir, err := s.directory(ctx, false)
	if err != nil {
		return IngestResult{}, err
	}
	msgs := make([]Message, 0, len(in))
	seen := make(map[string]bool, len(in))
	dups := 0
	for i, m := range in {
		f := func(name string) string { return fmt.Sprintf("messages[%d].%s", i, name) }
		ch, ok := dir.channels[m.Channel]
		if !ok && m.Channel != 0 {
			if dir, err = s.directory(ctx, true); err != nil {
				return IngestResult{}, err
			}
			ch, ok = dir.channels[m.Channel]
		}
		switch {
		case m.Channel == 0:
			return IngestResult{}, errs.Field(f("channel"), "is required")
		case !ok || !p.Can(access.ReadDirectory, dir.units[ch.UnitID].Path):
			return IngestResult{}, errs.Field(f("channel"), "no such channel: %d", m.Channel)
		case !p.Can(access.IngestMessages, dir.units[ch.UnitID].Path):
			return IngestResult{}, &errs.Error{Code: errs.Forbidden, Field: f("channel"), Message: fmt.Sprintf("you may not add messages to channel %d", m.Channel)}
		case strings.TrimSpace(m.ExternalID) == "":
			return IngestResult{}, errs.Field(f("external_id"), "is required")
		case len(m.ExternalID) > maxID:
			return IngestResult{}, errs.Field(f("external_id"), "is longer than %d bytes", maxID)
		case !validKind(m.Kind):
			return IngestResult{}, errs.Field(f("kind"), "must be one of %s, not %q", strings.Join(Kinds, ", "), m.Kind)
		case m.Author.ExternalID == "" && m.Author.Handle == "":
			return IngestResult{}, errs.Field(f("author"), "needs an external_id or a handle")
		case len(m.Text) > maxText:
			return IngestResult{}, errs.Field(f("text"), "is longer than %d bytes", maxText)
		case len(m.Author.ExternalID) > maxID || len(m.Author.Handle) > maxID || len(m.Author.Name) > maxID:
			return IngestResult{}, errs.Field(f("author"), "a field is longer than %d bytes", maxID)
		case len(m.InReplyTo) > maxID || len(m.URL) > 2048:
			return IngestResult{}, errs.Field(f("url"), "in_reply_to or url is too long")
		}
		created, err := time.Parse(time.RFC3339Nano, m.CreatedAt)
		if err != nil {
			return IngestResult{}, errs.Field(f("created_at"), "must be an RFC 3339 time, not %q", m.CreatedAt)
		}
		if m.URL != "" && !strings.HasPrefix(m.URL, "https://") && !strings.HasPrefix(m.URL, "http://") {
			return IngestResult{}, errs.Field(f("url"), "must be an http(s) URL")
		}
		key := fmt.Sprintf("%d\x00%s", m.Channel, m.ExternalID)
		if seen[key] {
			dups++
			continue
		}
		seen[key] = true
		msgs = append(msgs, Message{ChannelID: m.Channel, ExternalID: m.ExternalID, Kind: m.Kind,
			AuthorExternalID: m.Author.ExternalID, AuthorName: m.Author.Name, AuthorHandle: m.Author.Handle,
			Text: m.Text, URL: m.URL, InReplyTo: m.InReplyTo, CreatedAt: created.UTC()})
	}
	s.prepare(dir, msgs)
	stored, err := s.store(msgs)
	if err != nil {
		return IngestResult{}, err
	}
	s.publish(dir, stored)
	return IngestResult{Accepted: len(stored), Duplicates: dups + len(msgs) - len(stored)}, nil
}

// Prepare classifies and routes messages from the connectors before they
// are stored (outside the storing transaction; it only reads).
func (s *Service) Prepare(ctx context.Context, msgs []Message) error {
	dir, err := s.directory(ctx, false)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if _, ok := dir.channels[m.ChannelID]; !ok {
			if dir, err = s.directory(ctx, true); err != nil {
				return err
			}
			break
		}
	}
	s.prepare(dir, msgs)
	return nil
}

// Stored tells open inbox pages about messages the connectors stored.
func (s *Service) Stored(ctx context.Context, msgs []Message) {
	dir, err := s.directory(ctx, false)
	if err != nil {
		return
	}
	s.publish(dir, msgs)
}

// prepare classifies and routes in place, on every core for big batches.
func (s *Service) prepare(dir *directory, msgs []Message) {
	workers := runtime.GOMAXPROCS(0)
	now := s.cfg.Now()
	if len(msgs) < 256 || workers < 2 {
		for i := range msgs {
			s.prepareOne(dir, &msgs[i], now)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(msgs) + workers - 1) / workers
	for start := 0; start < len(msgs); start += per {
		part := msgs[start:min(start+per, len(msgs))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range part {
				s.prepareOne(dir, &part[i], now)
			}
		}()
	}
	wg.Wait()
}

func (s *Service) prepareOne(dir *directory, m *Message, now time.Time) {
	r := dir.cls.Classify(m.Text)
	m.Intent, m.Lang, m.Score = r.Intent, r.Lang, r.Score
	m.Models = r.Models
	if m.Models == nil {
		m.Models = []string{}
	}
	ch, ok := dir.channels[m.ChannelID]
	if ok {
		m.Platform = ch.Platform
		m.UnitID = dir.route(ch.UnitID, m.Text)
	}
	m.Queue = dir.queueFor(m)
	if m.Status == "" {
		m.Status = StatusOpen
	}
	m.Conversation = ConversationKey(*m)
	if m.SLADueAt == nil && m.Status != StatusClosed {
		dir.setSLA(m, now)
	}
}

// QueueFor names the queue a message of an intent waits in.
func QueueFor(intent string) string {
	switch intent {
	case classify.IntentPurchase:
		return "sales"
	case classify.IntentSupport:
		return "support"
	case classify.IntentComplaint:
		return "care"
	case classify.IntentQuestion:
		return "questions"
	case classify.IntentSpam:
		return "spam"
	default:
		return "community"
	}
}

// ConversationKey threads a message: direct messages by author, the rest
// by platform thread (or the message replied to) and author.
func ConversationKey(m Message) string {
	author := m.AuthorExternalID
	if author == "" {
		author = "@" + strings.ToLower(m.AuthorHandle)
	}
	if m.Kind == "dm" {
		return "dm:" + author
	}
	thread := m.ThreadID
	if thread == "" {
		thread = m.InReplyTo
	}
	if thread == "" {
		thread = m.ExternalID
	}
	return "t:" + thread + "|" + author
}

// List lists the messages in the caller's scope that match the filter.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]Message, int, error) {
	if !p.CanAnywhere(access.ReadInbox) {
		return nil, 0, errs.E(errs.Forbidden, "you may not read the inbox")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	if f.Status != "" && f.Status != StatusOpen && f.Status != StatusPending && f.Status != StatusClosed {
		return nil, 0, errs.Field("status", "must be open, pending or closed")
	}
	switch f.SLA {
	case "", SLABreached, SLADueSoon:
	default:
		return nil, 0, errs.Field("sla", "must be breached or due_soon")
	}
	f.Now = s.cfg.Now()
	if f.Intent != "" && !validIntent(f.Intent) {
		return nil, 0, errs.Field("intent", "must be one of %s", strings.Join(classify.Intents[:], ", "))
	}
	if f.Lang != "" && !slices.Contains(classify.Languages(), f.Lang) {
		return nil, 0, errs.Field("lang", "must be one of %s", strings.Join(classify.Languages(), ", "))
	}
	if f.Queue != "" && !validQueue(f.Queue) {
		return nil, 0, errs.Field("queue", "must be a queue name (lower-case letters, digits, - and _)")
	}
	if f.Unit != "" {
		dir, err := s.directory(ctx, false)
		if err != nil {
			return nil, 0, err
		}
		u, ok := dir.byKey[f.Unit]
		if !ok {
			if dir, err = s.directory(ctx, true); err != nil {
				return nil, 0, err
			}
			if u, ok = dir.byKey[f.Unit]; !ok {
				return nil, 0, errs.Field("unit", "no such unit: %q", f.Unit)
			}
		}
		f.UnitPath = u.Path
	}
	if f.Tag != "" {
		tags, err := cleanTags("tag", []string{f.Tag})
		if err != nil {
			return nil, 0, err
		}
		if len(tags) == 1 {
			f.Tag = tags[0]
		}
	}
	list, total, err := s.cfg.Store.Messages(ctx, p.Scope(access.ReadInbox), f)
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		slaState(&list[i], f.Now)
	}
	if err := s.withTags(ctx, list); err != nil {
		return nil, 0, err
	}
	return list, total, nil
}

func validIntent(s string) bool {
	for _, v := range classify.Intents {
		if v == s {
			return true
		}
	}
	return false
}

// messageFor loads a message the caller may read (NotFound otherwise).
func (s *Service) messageFor(ctx context.Context, p *access.Principal, id int64, perm access.Permission) (Message, error) {
	m, path, err := s.cfg.Store.MessageByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadInbox, path)) {
		return Message{}, errs.E(errs.NotFound, "no such message: %d", id)
	}
	if err != nil {
		return Message{}, err
	}
	if perm != access.ReadInbox && !p.Can(perm, path) {
		return Message{}, errs.E(errs.Forbidden, "you may not handle this conversation")
	}
	slaState(&m, s.cfg.Now())
	one := []Message{m}
	if err := s.withTags(ctx, one); err != nil {
		return Message{}, err
	}
	return one[0], nil
}

// Conversation is a message's conversation: its messages, oldest first,
// and the internal notes on them.
type Conversation struct {
	Key      string    `json:"key"`
	Channel  int64     `json:"channel"`
	Status   string    `json:"status"`
	Assigned int64     `json:"assigned_to,omitempty"`
	Tags     []string  `json:"tags"`
	Messages []Message `json:"messages"`
	Notes    []Note    `json:"notes"`
	Replies  []Reply   `json:"replies"`
	// FirstResponseAt is when the conversation was first answered.
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`

	// Team is the conversation's team (TeamName its name).
	Team     int64  `json:"assigned_team,omitempty"`
	TeamName string `json:"team_name,omitempty"`
}

// Conversation returns the conversation of a message the caller may read.
func (s *Service) Conversation(ctx context.Context, p *access.Principal, id int64) (Conversation, error) {
	m, err := s.messageFor(ctx, p, id, access.ReadInbox)
	if err != nil {
		return Conversation{}, err
	}
	list, _, err := s.cfg.Store.Messages(ctx, p.Scope(access.ReadInbox), Filter{ChannelID: m.ChannelID, Conversation: m.Conversation, Limit: 200})
	if err != nil {
		return Conversation{}, err
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	now := s.cfg.Now()
	for i := range list {
		slaState(&list[i], now)
	}
	notes, err := s.cfg.Store.Notes(ctx, m.ChannelID, m.Conversation)
	if err != nil {
		return Conversation{}, err
	}
	replies, err := s.cfg.Store.Replies(ctx, m.ChannelID, m.Conversation)
	if err != nil {
		return Conversation{}, err
	}
	c := Conversation{Key: m.Conversation, Channel: m.ChannelID, Status: m.Status, Assigned: m.AssignedTo, Team: m.AssignedTeam, TeamName: m.TeamName, Tags: m.Tags, Messages: list, Notes: notes, Replies: replies}
	if len(replies) > 0 {
		t := replies[0].CreatedAt
		c.FirstResponseAt = &t
	}
	return c, nil
}

// Message returns one message the caller may read.
func (s *Service) Message(ctx context.Context, p *access.Principal, id int64) (Message, error) {
	return s.messageFor(ctx, p, id, access.ReadInbox)
}

// Patch changes a conversation's handling; nil fields stay.
type Patch struct {
	Status     *string  `json:"status"`
	AssignedTo *int64   `json:"assigned_to"` // 0: nobody
	AddTags    []string `json:"add_tags"`
	RemoveTags []string `json:"remove_tags"`

	// AssignedTeam: a team of the conversation's unit or above (0: none).
	AssignedTeam *int64 `json:"assigned_team"`
}

// Update changes the status, assignee, team or tags of a message's
// conversation; every change is checked before any is stored.
func (s *Service) Update(ctx context.Context, p *access.Principal, id int64, patch Patch) (Message, error) {
	m, err := s.messageFor(ctx, p, id, access.AnswerInbox)
	if err != nil {
		return Message{}, err
	}
	status, assignee := m.Status, m.AssignedTo
	if patch.Status != nil {
		switch *patch.Status {
		case StatusOpen, StatusPending, StatusClosed:
			status = *patch.Status
		default:
			return Message{}, errs.Field("status", "must be open, pending or closed")
		}
	}
	if patch.AssignedTo != nil {
		if *patch.AssignedTo < 0 {
			return Message{}, errs.Field("assigned_to", "must be a user id, or 0 for nobody")
		}
		assignee = *patch.AssignedTo
		if assignee != 0 && assignee != m.AssignedTo {
			if err := s.checkAssignee(ctx, m.ID, assignee); err != nil {
				return Message{}, err
			}
		}
	}
	team, teamChanged, err := s.teamPatch(ctx, p, m, patch)
	if err != nil {
		return Message{}, err
	}
	add, err := cleanTags("add_tags", patch.AddTags)
	if err != nil {
		return Message{}, err
	}
	remove, err := cleanTags("remove_tags", patch.RemoveTags)
	if err != nil {
		return Message{}, err
	}
	if err := s.cfg.Store.UpdateConversation(ctx, m.ChannelID, m.Conversation, status, assignee); err != nil {
		if isForeignKey(err) {
			return Message{}, errs.Field("assigned_to", "no such user: %d", assignee)
		}
		return Message{}, err
	}
	if teamChanged {
		if err := s.storeTeam(ctx, m, team); err != nil {
			return Message{}, err
		}
	}
	if len(add)+len(remove) > 0 {
		if err := s.cfg.Store.TagConversation(ctx, m.ChannelID, m.Conversation, add, remove); err != nil {
			return Message{}, err
		}
	}
	m.Status, m.AssignedTo = status, assignee
	one := []Message{m}
	if err := s.withTags(ctx, one); err != nil {
		return Message{}, err
	}
	m = one[0]
	slaState(&m, s.cfg.Now())
	return m, nil
}

func isForeignKey(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "FOREIGN KEY constraint failed") || strings.Contains(msg, "SQLSTATE 23503")
}

// AddNote adds an internal note to a message's conversation.
func (s *Service) AddNote(ctx context.Context, p *access.Principal, id int64, text string) (Note, error) {
	m, err := s.messageFor(ctx, p, id, access.AnswerInbox)
	if err != nil {
		return Note{}, err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Note{}, errs.Field("text", "is required")
	}
	if len(text) > 8000 {
		return Note{}, errs.Field("text", "is longer than 8000 bytes")
	}
	n := Note{MessageID: m.ID, UserID: p.User.ID, Author: p.User.Email, Text: text}
	if err := s.cfg.Store.AddNote(ctx, &n); err != nil {
		return Note{}, err
	}
	return n, nil
}
