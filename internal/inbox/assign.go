package inbox

import (
	"context"
	"slices"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Assignee is a person a conversation may be assigned to: someone who may
// answer the inbox of its unit.
type Assignee struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// AssigneeStore finds the people who may handle a unit's conversations.
type AssigneeStore interface {
	// Assignees lists the active users holding one of roles on the unit
	// with this path or a unit above it.
	Assignees(ctx context.Context, unitPath string, roles []string) ([]Assignee, error)
}

// answerRoles are the roles that may answer the inbox.
func answerRoles() []string {
	var out []string
	for _, r := range access.Roles {
		if r.Has(access.AnswerInbox) {
			out = append(out, string(r))
		}
	}
	return out
}

// Assignees lists who may take a message's conversation: the people who
// may answer its unit's inbox.
func (s *Service) Assignees(ctx context.Context, p *access.Principal, messageID int64) ([]Assignee, error) {
	if _, err := s.messageFor(ctx, p, messageID, access.ReadInbox); err != nil {
		return nil, err
	}
	_, path, err := s.cfg.Store.MessageByID(ctx, messageID)
	if err != nil {
		return nil, err
	}
	return s.cfg.Store.Assignees(ctx, path, answerRoles())
}

// checkAssignee refuses to assign a message's conversation to someone who
// could not see or answer it.
func (s *Service) checkAssignee(ctx context.Context, messageID, userID int64) error {
	_, path, err := s.cfg.Store.MessageByID(ctx, messageID)
	if err != nil {
		return err
	}
	list, err := s.cfg.Store.Assignees(ctx, path, answerRoles())
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(a Assignee) bool { return a.ID == userID }) {
		return errs.Field("assigned_to", "user %d may not answer this conversation's unit", userID)
	}
	return nil
}
