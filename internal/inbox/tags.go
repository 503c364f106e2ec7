package inbox

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// ConversationRef names a conversation: its channel and key.
type ConversationRef struct {
	ChannelID int64
	Key       string
}

// TagStore keeps the conversations' tags.
type TagStore interface {
	TagConversation(ctx context.Context, channelID int64, conversation string, add, remove []string) error
	ConversationTags(ctx context.Context, refs []ConversationRef) (map[ConversationRef][]string, error)
}

const maxTag = 40

// cleanTags lower-cases and checks tags: letters, digits, - and _.
func cleanTags(field string, tags []string) ([]string, error) {
	if len(tags) > 20 {
		return nil, errs.Field(field, "at most 20 tags at once")
	}
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if len(t) > maxTag {
			return nil, errs.Field(field, "a tag is at most %d bytes: %q", maxTag, t)
		}
		for _, r := range t {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
				return nil, errs.Field(field, "a tag has letters, digits, - and _ only: %q", t)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// withTags fills the messages' conversation tags, and their teams (see
// withTeams), in place.
func (s *Service) withTags(ctx context.Context, list []Message) error {
	if len(list) == 0 {
		return nil
	}
	seen := map[ConversationRef]bool{}
	var refs []ConversationRef
	for _, m := range list {
		r := ConversationRef{m.ChannelID, m.Conversation}
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	tags, err := s.cfg.Store.ConversationTags(ctx, refs)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Tags = tags[ConversationRef{list[i].ChannelID, list[i].Conversation}]
		if list[i].Tags == nil {
			list[i].Tags = []string{}
		}
		sort.Strings(list[i].Tags)
	}
	return s.withTeams(ctx, list, refs)
}

// BulkInput is one action on several messages' conversations.
type BulkInput struct {
	IDs []int64 `json:"ids"`
	Patch
}

// BulkResult says how many conversations changed.
type BulkResult struct {
	Updated int `json:"updated"`
}

// MaxBulk bounds a bulk action.
const MaxBulk = 500

// Bulk applies one patch (status, assignee, team, tags) to the conversations of
// several messages. Every message is checked first: one the caller may
// not handle refuses the whole action, naming its index.
func (s *Service) Bulk(ctx context.Context, p *access.Principal, in BulkInput) (BulkResult, error) {
	switch {
	case len(in.IDs) == 0:
		return BulkResult{}, errs.Field("ids", "is required")
	case len(in.IDs) > MaxBulk:
		return BulkResult{}, errs.Field("ids", "at most %d at once", MaxBulk)
	case in.Status == nil && in.AssignedTo == nil && in.AssignedTeam == nil && len(in.AddTags)+len(in.RemoveTags) == 0:
		return BulkResult{}, errs.Field("status", "nothing to do: set status, assigned_to, assigned_team, add_tags or remove_tags")
	}
	done := map[ConversationRef]bool{}
	var ids []int64
	for i, id := range in.IDs {
		m, err := s.messageFor(ctx, p, id, access.AnswerInbox)
		if err != nil {
			if e, ok := err.(*errs.Error); ok {
				return BulkResult{}, &errs.Error{Code: e.Code, Field: "ids[" + strconv.Itoa(i) + "]", Message: e.Message}
			}
			return BulkResult{}, err
		}
		r := ConversationRef{m.ChannelID, m.Conversation}
		if !done[r] {
			done[r] = true
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if _, err := s.Update(ctx, p, id, in.Patch); err != nil {
			return BulkResult{}, err
		}
	}
	return BulkResult{Updated: len(ids)}, nil
}
