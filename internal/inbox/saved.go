package inbox

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// SavedReply is a unit's canned answer. Its text may name variables,
// filled in for the message answered: {{author.name}}, {{author.handle}},
// {{channel.name}}, {{unit.name}}.
type SavedReply struct {
	ID        int64     `json:"id"`
	UnitID    int64     `json:"-"`
	Unit      string    `json:"unit"`
	UnitPath  string    `json:"-"`
	Name      string    `json:"name"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	// Rendered is the text filled in for one message (when listed for it).
	Rendered string `json:"rendered,omitempty"`
}

// SavedReplyStore keeps saved replies.
type SavedReplyStore interface {
	CreateSavedReply(ctx context.Context, r *SavedReply) error
	DeleteSavedReply(ctx context.Context, id int64) error
	SavedReplyByID(ctx context.Context, id int64) (SavedReply, error)
	// SavedReplies lists those of units whose path is in scope (nil: all)
	// or, with paths set, of exactly those unit paths.
	SavedReplies(ctx context.Context, scope []string, paths []string) ([]SavedReply, error)
}

// SavedReplyInput creates a saved reply.
type SavedReplyInput struct {
	Unit string `json:"unit"`
	Name string `json:"name"`
	Text string `json:"text"`
}

// Variables a saved reply's text may name.
var Variables = []string{"{{author.name}}", "{{author.handle}}", "{{channel.name}}", "{{unit.name}}"}

// CreateSavedReply adds a saved reply to a unit (who answers its inbox).
func (s *Service) CreateSavedReply(ctx context.Context, p *access.Principal, in SavedReplyInput) (SavedReply, error) {
	_, u, err := s.unitFor(ctx, in.Unit)
	if err != nil {
		return SavedReply{}, err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return SavedReply{}, errs.Field("unit", "no such unit: %q", in.Unit)
	}
	if !p.Can(access.AnswerInbox, u.Path) {
		return SavedReply{}, errs.E(errs.Forbidden, "you may not manage the saved replies of %s", in.Unit)
	}
	in.Name, in.Text = strings.TrimSpace(in.Name), strings.TrimSpace(in.Text)
	switch {
	case in.Name == "":
		return SavedReply{}, errs.Field("name", "is required")
	case len(in.Name) > 200:
		return SavedReply{}, errs.Field("name", "is longer than 200 bytes")
	case in.Text == "":
		return SavedReply{}, errs.Field("text", "is required")
	case len(in.Text) > maxReply:
		return SavedReply{}, errs.Field("text", "is longer than %d bytes", maxReply)
	}
	for rest := in.Text; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return SavedReply{}, errs.Field("text", "a variable is not closed with }}")
		}
		if v := rest[i : i+j+2]; indexOf(Variables, v) < 0 {
			return SavedReply{}, errs.Field("text", "unknown variable %s (known: %s)", v, strings.Join(Variables, ", "))
		}
		rest = rest[i+j+2:]
	}
	r := SavedReply{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path, Name: in.Name, Text: in.Text}
	if err := s.cfg.Store.CreateSavedReply(ctx, &r); err != nil {
		return SavedReply{}, err
	}
	return r, nil
}

// DeleteSavedReply removes a saved reply.
func (s *Service) DeleteSavedReply(ctx context.Context, p *access.Principal, id int64) error {
	r, err := s.cfg.Store.SavedReplyByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadInbox, r.UnitPath)) {
		return errs.E(errs.NotFound, "no such saved reply: %d", id)
	}
	if err != nil {
		return err
	}
	if !p.Can(access.AnswerInbox, r.UnitPath) {
		return errs.E(errs.Forbidden, "you may not manage the saved replies of %s", r.Unit)
	}
	return s.cfg.Store.DeleteSavedReply(ctx, id)
}

// SavedReplies lists the saved replies of the caller's units.
func (s *Service) SavedReplies(ctx context.Context, p *access.Principal) ([]SavedReply, error) {
	if !p.CanAnywhere(access.ReadInbox) {
		return nil, errs.E(errs.Forbidden, "you may not read the inbox")
	}
	return s.cfg.Store.SavedReplies(ctx, p.Scope(access.ReadInbox), nil)
}

// SavedRepliesFor lists the saved replies that may answer a message —
// those of its unit and the units above it — rendered for it.
func (s *Service) SavedRepliesFor(ctx context.Context, p *access.Principal, messageID int64) ([]SavedReply, error) {
	m, err := s.messageFor(ctx, p, messageID, access.ReadInbox)
	if err != nil {
		return nil, err
	}
	dir, err := s.directory(ctx, false)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, id := range dir.ancestors(m.UnitID) {
		if u, ok := dir.units[id]; ok {
			paths = append(paths, u.Path)
		}
	}
	if len(paths) == 0 {
		return []SavedReply{}, nil
	}
	list, err := s.cfg.Store.SavedReplies(ctx, nil, paths)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Rendered = s.render(dir, m, list[i].Text)
	}
	return list, nil
}

// render fills a saved reply's variables for a message.
func (s *Service) render(dir *directory, m Message, text string) string {
	name := m.AuthorName
	if name == "" {
		name = m.AuthorHandle
	}
	ch := dir.channels[m.ChannelID]
	chName := ch.Name
	if chName == "" {
		chName = ch.Handle
	}
	handle := m.AuthorHandle
	if handle != "" && !strings.HasPrefix(handle, "@") {
		handle = "@" + handle
	}
	return strings.NewReplacer("{{author.name}}", name, "{{author.handle}}", handle, "{{channel.name}}", chName,
		"{{unit.name}}", dir.units[m.UnitID].Name).Replace(text)
}

// ReplyWithSaved answers a message with a saved reply, filled in for it.
func (s *Service) ReplyWithSaved(ctx context.Context, p *access.Principal, messageID, savedID int64) (Reply, error) {
	list, err := s.SavedRepliesFor(ctx, p, messageID)
	if err != nil {
		return Reply{}, err
	}
	for _, r := range list {
		if r.ID == savedID {
			return s.Reply(ctx, p, messageID, r.Rendered)
		}
	}
	return Reply{}, errs.Field("saved_reply", "no saved reply %d for this message's unit", savedID)
}
