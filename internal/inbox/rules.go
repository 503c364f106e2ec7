package inbox

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// RoutingRule puts the messages of a unit's subtree that match all of its
// set conditions into a queue. A unit's own rules come before those of
// the units above it, then by position; the first that matches wins, and
// without one the intent picks the queue (QueueFor).
type RoutingRule struct {
	ID       int64  `json:"id"`
	UnitID   int64  `json:"-"`
	Unit     string `json:"unit"`
	UnitPath string `json:"-"`
	Position int    `json:"position"`
	// Conditions; zero values match every message.
	Channel  int64    `json:"channel,omitempty"`
	Lang     string   `json:"lang,omitempty"`
	Intent   string   `json:"intent,omitempty"`
	Keywords []string `json:"keywords"` // any of them, as whole words
	Queue    string   `json:"queue"`

	CreatedAt time.Time `json:"created_at"`
}

// RuleStore keeps routing rules.
type RuleStore interface {
	RoutingRules(ctx context.Context) ([]RoutingRule, error)
	RoutingRuleByID(ctx context.Context, id int64) (RoutingRule, error)
	CreateRoutingRule(ctx context.Context, r *RoutingRule) error
	UpdateRoutingRule(ctx context.Context, r RoutingRule) error
	DeleteRoutingRule(ctx context.Context, id int64) error
}

// RoutingRuleInput creates or replaces a routing rule.
type RoutingRuleInput struct {
	Unit     string   `json:"unit"`
	Position int      `json:"position"`
	Channel  int64    `json:"channel"`
	Lang     string   `json:"lang"`
	Intent   string   `json:"intent"`
	Keywords []string `json:"keywords"`
	Queue    string   `json:"queue"`
}

// Languages the classifier tells apart (a rule's lang is one of them).
var Languages = []string{"de", "en", "fr", "es", "it", "nl", "pt", "pl"}

// compiledRule is a rule as routing matches it.
type compiledRule struct {
	RoutingRule
	phrases []string // keywords as " folded words " to find in the text's
}

func compileRule(r RoutingRule) compiledRule {
	c := compiledRule{RoutingRule: r}
	for _, k := range r.Keywords {
		if ws := words(k); len(ws) > 0 {
			c.phrases = append(c.phrases, " "+strings.Join(ws, " ")+" ")
		}
	}
	return c
}

// queueFor picks a routed message's queue: the first matching rule of its
// unit and the units above it, nearest first; else by intent.
func (d *directory) queueFor(m *Message) string {
	if len(d.rules) == 0 {
		return QueueFor(m.Intent)
	}
	var text string
	for _, id := range d.ancestors(m.UnitID) {
		for _, r := range d.rules[id] {
			if (r.Channel != 0 && r.Channel != m.ChannelID) || (r.Lang != "" && r.Lang != m.Lang) || (r.Intent != "" && r.Intent != m.Intent) {
				continue
			}
			if len(r.phrases) > 0 {
				if text == "" {
					text = foldedText(m.Text)
				}
				hit := false
				for _, p := range r.phrases {
					if strings.Contains(text, p) {
						hit = true
						break
					}
				}
				if !hit {
					continue
				}
			}
			return r.Queue
		}
	}
	return QueueFor(m.Intent)
}

// queuesOf lists the queues a unit's messages may wait in: the built-in
// ones and those that rules of the unit, its subtree or the units above
// it name.
func (d *directory) queuesOf(unitID int64) []string {
	out := append([]string(nil), Queues...)
	u := d.units[unitID]
	seen := map[string]bool{}
	for _, q := range Queues {
		seen[q] = true
	}
	var extra []string
	for id, rules := range d.rules {
		ru := d.units[id]
		if !strings.HasPrefix(u.Path, ru.Path) && !strings.HasPrefix(ru.Path, u.Path) {
			continue
		}
		for _, r := range rules {
			if !seen[r.Queue] {
				seen[r.Queue] = true
				extra = append(extra, r.Queue)
			}
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// foldedText is text as keywords are found in it: its words lower-case
// with diacritics folded (as words gives them), each between spaces.
func foldedText(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte(' ')
	space := true
	for i := 0; i < len(text); {
		c := text[i]
		if c < 0x80 { // ASCII, most text: no rune decoding
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			}
			b.WriteByte(c)
			space = false
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteString(fold(unicode.ToLower(r)))
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

func validQueue(q string) bool {
	if q == "" || len(q) > 40 {
		return false
	}
	for _, r := range q {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// checkRule validates a rule's input against the directory and the
// caller's rights, and returns the rule it describes.
func (s *Service) checkRule(ctx context.Context, p *access.Principal, in RoutingRuleInput) (RoutingRule, error) {
	dir, u, err := s.unitFor(ctx, strings.TrimSpace(in.Unit))
	if err != nil {
		return RoutingRule{}, err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return RoutingRule{}, errs.Field("unit", "no such unit: %q", in.Unit)
	}
	if !p.Can(access.ManageDirectory, u.Path) {
		return RoutingRule{}, &errs.Error{Code: errs.Forbidden, Field: "unit", Message: "you may not set the routing rules of " + u.Key}
	}
	r := RoutingRule{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path, Position: in.Position, Channel: in.Channel,
		Lang: strings.ToLower(strings.TrimSpace(in.Lang)), Intent: strings.ToLower(strings.TrimSpace(in.Intent)),
		Queue: strings.ToLower(strings.TrimSpace(in.Queue)), Keywords: []string{}}
	if r.Channel != 0 {
		ch, ok := dir.channels[r.Channel]
		if !ok {
			if dir, err = s.directory(ctx, true); err != nil {
				return RoutingRule{}, err
			}
			ch, ok = dir.channels[r.Channel]
		}
		if !ok || !strings.HasPrefix(dir.units[ch.UnitID].Path, u.Path) {
			return RoutingRule{}, errs.Field("channel", "no channel %d in %s or below it", r.Channel, u.Key)
		}
	}
	switch {
	case r.Channel < 0:
		return RoutingRule{}, errs.Field("channel", "must be a channel id")
	case r.Lang != "" && indexOf(Languages, r.Lang) < 0:
		return RoutingRule{}, errs.Field("lang", "must be one of %s, not %q", strings.Join(Languages, ", "), r.Lang)
	case r.Intent != "" && !validIntent(r.Intent):
		return RoutingRule{}, errs.Field("intent", "must be one of %s, not %q", strings.Join(classify.Intents[:], ", "), r.Intent)
	case !validQueue(r.Queue):
		return RoutingRule{}, errs.Field("queue", "must be 1 to 40 lower-case letters, digits, - or _, like %q, not %q", "sales", in.Queue)
	case r.Position < 0 || r.Position > 10000:
		return RoutingRule{}, errs.Field("position", "must be 0 to 10000, not %d", r.Position)
	case len(in.Keywords) > 50:
		return RoutingRule{}, errs.Field("keywords", "at most 50, not %d", len(in.Keywords))
	}
	for _, k := range in.Keywords {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			continue
		case len(k) > 100:
			return RoutingRule{}, errs.Field("keywords", "%q is longer than 100 bytes", k[:20]+"…")
		case len(words(k)) == 0:
			return RoutingRule{}, errs.Field("keywords", "%q holds no word", k)
		}
		r.Keywords = append(r.Keywords, k)
	}
	return r, nil
}

// CreateRoutingRule adds a routing rule to a unit (unit managers). It
// applies to messages arriving from then on.
func (s *Service) CreateRoutingRule(ctx context.Context, p *access.Principal, in RoutingRuleInput) (RoutingRule, error) {
	r, err := s.checkRule(ctx, p, in)
	if err != nil {
		return RoutingRule{}, err
	}
	if err := s.cfg.Store.CreateRoutingRule(ctx, &r); err != nil {
		return RoutingRule{}, err
	}
	s.settingsChanged()
	return r, nil
}

// ruleFor loads a rule the caller may see (NotFound otherwise) and, for a
// change, may manage.
func (s *Service) ruleFor(ctx context.Context, p *access.Principal, id int64, manage bool) (RoutingRule, error) {
	r, err := s.cfg.Store.RoutingRuleByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadInbox, r.UnitPath)) {
		return RoutingRule{}, errs.E(errs.NotFound, "no such routing rule: %d", id)
	}
	if err != nil {
		return RoutingRule{}, err
	}
	if manage && !p.Can(access.ManageDirectory, r.UnitPath) {
		return RoutingRule{}, errs.E(errs.Forbidden, "you may not change the routing rules of %s", r.Unit)
	}
	return r, nil
}

// RoutingRule returns one rule the caller may see.
func (s *Service) RoutingRule(ctx context.Context, p *access.Principal, id int64) (RoutingRule, error) {
	return s.ruleFor(ctx, p, id, false)
}

// UpdateRoutingRule replaces a rule (it may move to another unit the
// caller manages).
func (s *Service) UpdateRoutingRule(ctx context.Context, p *access.Principal, id int64, in RoutingRuleInput) (RoutingRule, error) {
	old, err := s.ruleFor(ctx, p, id, true)
	if err != nil {
		return RoutingRule{}, err
	}
	r, err := s.checkRule(ctx, p, in)
	if err != nil {
		return RoutingRule{}, err
	}
	r.ID, r.CreatedAt = old.ID, old.CreatedAt
	if err := s.cfg.Store.UpdateRoutingRule(ctx, r); err != nil {
		return RoutingRule{}, err
	}
	s.settingsChanged()
	return r, nil
}

// DeleteRoutingRule removes a rule.
func (s *Service) DeleteRoutingRule(ctx context.Context, p *access.Principal, id int64) error {
	if _, err := s.ruleFor(ctx, p, id, true); err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteRoutingRule(ctx, id); err != nil {
		return err
	}
	s.settingsChanged()
	return nil
}

// RoutingRules lists the rules of the caller's units, in the order
// routing tries them for a unit: nearest unit first, then by position.
func (s *Service) RoutingRules(ctx context.Context, p *access.Principal) ([]RoutingRule, error) {
	if !p.CanAnywhere(access.ReadInbox) {
		return nil, errs.E(errs.Forbidden, "you may not read the inbox")
	}
	all, err := s.cfg.Store.RoutingRules(ctx)
	if err != nil {
		return nil, err
	}
	out := []RoutingRule{}
	for _, r := range all {
		if p.Can(access.ReadInbox, r.UnitPath) {
			out = append(out, r)
		}
	}
	return out, nil
}
