package leads

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// Filter narrows a lead list. Zero fields do not filter.
type Filter struct {
	Unit     string // unit key: the unit and its subtree
	UnitPath string // resolved from Unit by the service
	State    State
	Limit    int
	Offset   int
}

// Store is what leads need from the database.
type Store interface {
	Leads(ctx context.Context, scope []string, f Filter) ([]Lead, int, error)
	LeadByID(ctx context.Context, id int64) (Lead, string, error)
	SetLeadState(ctx context.Context, id int64, state State, outcome string) error
	// UnitPathByKey resolves a unit key (sql.ErrNoRows when absent).
	UnitPathByKey(ctx context.Context, key string) (string, error)
}

// Config wires the service.
type Config struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time
	// Export is the CRM webhook's outbox and settings; nil turns the
	// export off.
	Export ExportStore
	// Box seals the CRM secret in the settings (nil: stored as given).
	Box *secret.Box
	// HTTP delivers to the CRM (default: a client with a 15 s timeout).
	HTTP *http.Client
	// ExportInterval is the pause between sweeps when nothing is pending
	// (default 10 s).
	ExportInterval time.Duration
}

// Service is the leads' use cases: lists per market and dealer, the
// funnel's states, and export.
type Service struct {
	cfg   Config
	queue Queue
}

// NewService makes the leads service.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.ExportInterval <= 0 {
		cfg.ExportInterval = 10 * time.Second
	}
	return &Service{cfg: cfg}
}

// List lists the leads in the caller's scope, best first.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]Lead, int, error) {
	if !p.CanAnywhere(access.ReadLeads) {
		return nil, 0, errs.E(errs.Forbidden, "you may not read leads")
	}
	if f.State != "" && !f.State.Valid() {
		return nil, 0, errs.Field("state", "must be one of new, contacted, qualified, won, lost")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	if f.Unit != "" {
		path, err := s.cfg.Store.UnitPathByKey(ctx, f.Unit)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, errs.Field("unit", "no such unit: %q", f.Unit)
		}
		if err != nil {
			return nil, 0, err
		}
		f.UnitPath = path
	}
	list, total, err := s.cfg.Store.Leads(ctx, p.Scope(access.ReadLeads), f)
	if err != nil {
		return nil, 0, err
	}
	now := s.cfg.Now()
	for i := range list {
		list[i].Score = Score(list[i], now) // recency moves on
	}
	return list, total, nil
}

func (s *Service) leadFor(ctx context.Context, p *access.Principal, id int64, perm access.Permission) (Lead, error) {
	l, path, err := s.cfg.Store.LeadByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadLeads, path)) {
		return Lead{}, errs.E(errs.NotFound, "no such lead: %d", id)
	}
	if err != nil {
		return Lead{}, err
	}
	if perm != access.ReadLeads && !p.Can(perm, path) {
		return Lead{}, errs.E(errs.Forbidden, "you may not work this lead")
	}
	l.Score = Score(l, s.cfg.Now())
	return l, nil
}

// Lead returns one lead the caller may read.
func (s *Service) Lead(ctx context.Context, p *access.Principal, id int64) (Lead, error) {
	return s.leadFor(ctx, p, id, access.ReadLeads)
}

// Patch changes a lead's state; an outcome is required for won and lost.
type Patch struct {
	State   State  `json:"state"`
	Outcome string `json:"outcome"`
}

// next says which states a lead may move to from each state: forward
// through the funnel, to lost at any time, and back to new from lost.
var next = map[State][]State{
	StateNew:       {StateContacted, StateQualified, StateWon, StateLost},
	StateContacted: {StateQualified, StateWon, StateLost},
	StateQualified: {StateWon, StateLost},
	StateWon:       {},
	StateLost:      {StateNew},
}

// SetState moves a lead through the funnel.
func (s *Service) SetState(ctx context.Context, p *access.Principal, id int64, patch Patch) (Lead, error) {
	l, err := s.leadFor(ctx, p, id, access.WorkLeads)
	if err != nil {
		return Lead{}, err
	}
	if !patch.State.Valid() {
		return Lead{}, errs.Field("state", "must be one of new, contacted, qualified, won, lost")
	}
	patch.Outcome = strings.TrimSpace(patch.Outcome)
	if len(patch.Outcome) > 2000 {
		return Lead{}, errs.Field("outcome", "is longer than 2000 bytes")
	}
	if patch.State.Closed() && patch.Outcome == "" {
		return Lead{}, errs.Field("outcome", "is required when a lead is %s", patch.State)
	}
	if patch.State != l.State {
		ok := false
		for _, n := range next[l.State] {
			ok = ok || n == patch.State
		}
		if !ok {
			return Lead{}, errs.E(errs.Conflict, "a %s lead cannot become %s", l.State, patch.State)
		}
	}
	if err := s.cfg.Store.SetLeadState(ctx, id, patch.State, patch.Outcome); err != nil {
		return Lead{}, err
	}
	l.State, l.Outcome, l.UpdatedAt = patch.State, patch.Outcome, s.cfg.Now()
	return l, nil
}

// ExportCSV writes the caller's leads matching the filter as CSV, best
// first (at most 100,000).
func (s *Service) ExportCSV(ctx context.Context, p *access.Principal, f Filter, w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "unit", "unit_name", "state", "outcome", "score", "interest", "models", "platform", "author_name",
		"author_handle", "person", "last_text", "last_seen_at", "created_at"})
	const page = 1000
	for off := 0; off < 100000; off += page {
		f.Limit, f.Offset = page, off
		list, _, err := s.List(ctx, p, f)
		if err != nil {
			return err
		}
		for _, l := range list {
			cw.Write([]string{fmt.Sprint(l.ID), l.Unit, l.UnitName, string(l.State), csvSafe(l.Outcome), fmt.Sprintf("%.1f", l.Score),
				fmt.Sprint(l.Interest), strings.Join(l.Models, "; "), l.Platform, csvSafe(l.AuthorName), csvSafe(l.AuthorHandle),
				l.Person, csvSafe(l.LastText), l.LastSeenAt.Format(time.RFC3339), l.CreatedAt.Format(time.RFC3339)})
		}
		if len(list) < page {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
