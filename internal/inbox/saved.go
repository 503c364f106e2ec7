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
	UpdateSavedReply(ctx context.Context, r SavedReply) error
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

// checkSavedReply validates a saved reply's input for a unit the caller
// may manage the saved replies of.
func (s *Service) checkSavedReply(ctx context.Context, p *access.Principal, in SavedReplyInput) (SavedReply, error) {
	_, u, err := s.unitFor(ctx, strings.TrimSpace(in.Unit))
	if err != nil {
		return SavedReply{}, err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return SavedReply{}, errs.Field("unit", "no such unit: %q", in.Unit)
	}
	if !p.Can(access.AnswerInbox, u.Path) {
		return SavedReply{}, &errs.Error{Code: errs.Forbidden, Field: "unit", Message: "you may not manage the saved replies of " + u.Key}
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return SavedReply{}, errs.Field("name", "is required")
	case len(in.Name) > 200:
		return SavedReply{}, errs.Field("name", "is longer than 200 bytes")
	}
	text, err := checkSavedText(in.Text)
	if err != nil {
		return SavedReply{}, err
	}
	return SavedReply{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path, Name: in.Name, Text: text}, nil
}

// checkSavedText checks a saved reply's text and the variables it names.
func checkSavedText(text string) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", errs.Field("text", "is required")
	case len(text) > maxReply:
		return "", errs.Field("text", "is longer than %d bytes", maxReply)
	}
	for rest := text; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return "", errs.Field("text", "a variable is not closed with }}")
		}
		if v := rest[i : i+j+2]; indexOf(Variables, v) < 0 {
			return "", errs.Field("text", "unknown variable %s (known: %s)", v, strings.Join(Variables, ", "))
		}
		rest = rest[i+j+2:]
	}
	return text, nil
}

// CreateSavedReply adds a saved reply to a unit (who answers its inbox).
func (s *Service) CreateSavedReply(ctx context.Context, p *access.Principal, in SavedReplyInput) (SavedReply, error) {
	r, err := s.checkSavedReply(ctx, p, in)
	if err != nil {
		return SavedReply{}, err
	}
	if err := s.cfg.Store.CreateSavedReply(ctx, &r); err != nil {
		return SavedReply{}, err
	}
	return r, nil
}

// savedReplyFor loads a saved reply the caller may see (NotFound
// otherwise) and may manage (Forbidden otherwise).
func (s *Service) savedReplyFor(ctx context.Context, p *access.Principal, id int64, manage bool) (SavedReply, error) {
	r, err := s.cfg.Store.SavedReplyByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadInbox, r.UnitPath)) {
		return SavedReply{}, errs.E(errs.NotFound, "no such saved reply: %d", id)
	}
	if err != nil {
		return SavedReply{}, err
	}
	if manage && !p.Can(access.AnswerInbox, r.UnitPath) {
		return SavedReply{}, errs.E(errs.Forbidden, "you may not manage the saved replies of %s", r.Unit)
	}
	return r, nil
}

// SavedReply returns one saved reply the caller may see.
func (s *Service) SavedReply(ctx context.Context, p *access.Principal, id int64) (SavedReply, error) {
	return s.savedReplyFor(ctx, p, id, false)
}

// UpdateSavedReply replaces a saved reply's unit, name and text.
func (s *Service) UpdateSavedReply(ctx context.Context, p *access.Principal, id int64, in SavedReplyInput) (SavedReply, error) {
	old, err := s.savedReplyFor(ctx, p, id, true)
	if err != nil {
		return SavedReply{}, err
	}
	r, err := s.checkSavedReply(ctx, p, in)
	if err != nil {
		return SavedReply{}, err
	}
	r.ID, r.CreatedAt = old.ID, old.CreatedAt
	if err := s.cfg.Store.UpdateSavedReply(ctx, r); err != nil {
		return SavedReply{}, err
	}
	return r, nil
}

// PreviewSavedReply fills a saved reply's text for an example message of
// a unit (an example author, the unit's first channel), so that its
// author sees the variables at work before saving.
func (s *Service) PreviewSavedReply(ctx context.Context, p *access.Principal, unit, text string) (string, error) {
	dir, u, err := s.unitFor(ctx, strings.TrimSpace(unit))
	if err != nil {
		return "", err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return "", errs.Field("unit", "no such unit: %q", unit)
	}
	if text, err = checkSavedText(text); err != nil {
		return "", err
	}
	m := Message{UnitID: u.ID, AuthorName: "Alex Beispiel", AuthorHandle: "alex.beispiel"}
	var first int64
	for id, ch := range dir.channels {
		if strings.HasPrefix(dir.units[ch.UnitID].Path, u.Path) && (first == 0 || id < first) {
			first = id
		}
	}
	m.ChannelID = first
	return s.render(dir, m, text), nil
}

// DeleteSavedReply removes a saved reply.
func (s *Service) DeleteSavedReply(ctx context.Context, p *access.Principal, id int64) error {
	if _, err := s.savedReplyFor(ctx, p, id, true); err != nil {
		return err
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
