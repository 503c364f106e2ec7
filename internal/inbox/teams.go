package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Team is a group of people of a unit who answer conversations together:
// a conversation may be assigned to a team (and, besides, to a person).
// Its members are people who may answer the unit's inbox; a team takes
// conversations of its unit and the units below it.
type Team struct {
	ID        int64      `json:"id"`
	UnitID    int64      `json:"-"`
	Unit      string     `json:"unit"` // the unit's key
	UnitPath  string     `json:"-"`
	Name      string     `json:"name"`
	Members   []Assignee `json:"members"`
	CreatedAt time.Time  `json:"created_at"`
}

// TeamRef names the team a conversation is assigned to.
type TeamRef struct {
	ID   int64
	Name string
}

// TeamStore keeps teams, their members and the conversations' teams.
type TeamStore interface {
	// CreateTeam stores a team and its members (Conflict on "name" when
	// the unit has a team of that name).
	CreateTeam(ctx context.Context, t *Team) error
	RenameTeam(ctx context.Context, id int64, name string) error
	// DeleteTeam removes a team unless an open or pending conversation
	// is assigned to it (Conflict); closed ones lose their team.
	DeleteTeam(ctx context.Context, id int64) error
	// TeamByID returns one team with its members (sql.ErrNoRows if none).
	TeamByID(ctx context.Context, id int64) (Team, error)
	// Teams lists teams with their members: those of units whose path is
	// in scope (nil: all) or, with paths set, of exactly those units.
	Teams(ctx context.Context, scope []string, paths []string) ([]Team, error)
	// SetTeamMembers replaces a team's members.
	SetTeamMembers(ctx context.Context, id int64, users []int64) error
	// AssignConversationTeam sets a conversation's team (0: none).
	AssignConversationTeam(ctx context.Context, channelID int64, conversation string, team int64) error
	ConversationTeams(ctx context.Context, refs []ConversationRef) (map[ConversationRef]TeamRef, error)
}

// TeamInput creates a team; Members (user ids) is optional.
type TeamInput struct {
	Unit    string  `json:"unit"`
	Name    string  `json:"name"`
	Members []int64 `json:"members"`
}

// Bounds of a team.
const (
	maxTeamName    = 100
	maxTeamMembers = 500
)

func checkTeamName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", errs.Field("name", "is required")
	case len(name) > maxTeamName:
		return "", errs.Field("name", "is longer than %d bytes", maxTeamName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", errs.Field("name", "may not hold control characters")
	}
	return name, nil
}

// teamFor loads a team the caller may see (NotFound otherwise) and, with
// manage set, may manage (Forbidden otherwise).
func (s *Service) teamFor(ctx context.Context, p *access.Principal, id int64, manage bool) (Team, error) {
	t, err := s.cfg.Store.TeamByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadInbox, t.UnitPath)) {
		return Team{}, errs.E(errs.NotFound, "no such team: %d", id)
	}
	if err != nil {
		return Team{}, err
	}
	if manage && !p.Can(access.ManageDirectory, t.UnitPath) {
		return Team{}, errs.E(errs.Forbidden, "you may not manage the teams of %s", t.Unit)
	}
	return t, nil
}

// Team returns one team the caller may see.
func (s *Service) Team(ctx context.Context, p *access.Principal, id int64) (Team, error) {
	return s.teamFor(ctx, p, id, false)
}

// Teams lists the teams of a unit (by key), or with unit "" of every
// unit the caller reads the inbox of.
func (s *Service) Teams(ctx context.Context, p *access.Principal, unit string) ([]Team, error) {
	if !p.CanAnywhere(access.ReadInbox) {
		return nil, errs.E(errs.Forbidden, "you may not read the inbox")
	}
	if unit = strings.TrimSpace(unit); unit == "" {
		return s.cfg.Store.Teams(ctx, p.Scope(access.ReadInbox), nil)
	}
	_, u, err := s.unitFor(ctx, unit)
	if err != nil && !errs.Is(err, errs.Invalid) {
		return nil, err
	}
	if err != nil || !p.Can(access.ReadInbox, u.Path) {
		return nil, errs.Field("unit", "no such unit: %q", unit)
	}
	return s.cfg.Store.Teams(ctx, nil, []string{u.Path})
}

// checkMembers refuses members who could not answer the conversations of
// the unit with this path; it returns the ids without repeats.
func (s *Service) checkMembers(ctx context.Context, unitPath, unitKey string, members []int64) ([]int64, error) {
	if len(members) > maxTeamMembers {
		return nil, errs.Field("members", "a team has at most %d members", maxTeamMembers)
	}
	if len(members) == 0 {
		return []int64{}, nil
	}
	eligible, err := s.cfg.Store.Assignees(ctx, unitPath, answerRoles())
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(members))
	for i, id := range members {
		if !slices.ContainsFunc(eligible, func(a Assignee) bool { return a.ID == id }) {
			return nil, errs.Field("members["+strconv.Itoa(i)+"]", "user %d may not answer the inbox of %s", id, unitKey)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// CreateTeam adds a team to a unit (its managers).
func (s *Service) CreateTeam(ctx context.Context, p *access.Principal, in TeamInput) (Team, error) {
	_, u, err := s.unitFor(ctx, strings.TrimSpace(in.Unit))
	if err != nil && !errs.Is(err, errs.Invalid) {
		return Team{}, err
	}
	if err != nil || !p.Can(access.ReadInbox, u.Path) {
		if in.Unit == "" {
			return Team{}, errs.Field("unit", "is required")
		}
		return Team{}, errs.Field("unit", "no such unit: %q", in.Unit)
	}
	if !p.Can(access.ManageDirectory, u.Path) {
		return Team{}, &errs.Error{Code: errs.Forbidden, Field: "unit", Message: "you may not manage the teams of " + u.Key}
	}
	name, err := checkTeamName(in.Name)
	if err != nil {
		return Team{}, err
	}
	members, err := s.checkMembers(ctx, u.Path, u.Key, in.Members)
	if err != nil {
		return Team{}, err
	}
	t := Team{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path, Name: name}
	for _, id := range members {
		t.Members = append(t.Members, Assignee{ID: id})
	}
	if err := s.cfg.Store.CreateTeam(ctx, &t); err != nil {
		return Team{}, err
	}
	return s.cfg.Store.TeamByID(ctx, t.ID)
}

// RenameTeam gives a team a new name, unique within its unit.
func (s *Service) RenameTeam(ctx context.Context, p *access.Principal, id int64, name string) (Team, error) {
	t, err := s.teamFor(ctx, p, id, true)
	if err != nil {
		return Team{}, err
	}
	if name, err = checkTeamName(name); err != nil {
		return Team{}, err
	}
	if err := s.cfg.Store.RenameTeam(ctx, t.ID, name); err != nil {
		return Team{}, err
	}
	t.Name = name
	return t, nil
}

// SetTeamMembers replaces a team's members: people who may answer its
// unit's inbox.
func (s *Service) SetTeamMembers(ctx context.Context, p *access.Principal, id int64, members []int64) (Team, error) {
	t, err := s.teamFor(ctx, p, id, true)
	if err != nil {
		return Team{}, err
	}
	if members, err = s.checkMembers(ctx, t.UnitPath, t.Unit, members); err != nil {
		return Team{}, err
	}
	if err := s.cfg.Store.SetTeamMembers(ctx, t.ID, members); err != nil {
		return Team{}, err
	}
	return s.cfg.Store.TeamByID(ctx, t.ID)
}

// DeleteTeam removes a team. It is refused (409) while open or pending
// conversations are assigned to it, so that none is silently dropped
// from a team's queue; closed conversations just lose the team.
func (s *Service) DeleteTeam(ctx context.Context, p *access.Principal, id int64) error {
	if _, err := s.teamFor(ctx, p, id, true); err != nil {
		return err
	}
	return s.cfg.Store.DeleteTeam(ctx, id)
}

// TeamsFor lists the teams a message's conversation may be assigned to:
// those of its unit and the units above it that the caller sees.
func (s *Service) TeamsFor(ctx context.Context, p *access.Principal, messageID int64) ([]Team, error) {
	m, err := s.messageFor(ctx, p, messageID, access.ReadInbox)
	if err != nil {
		return nil, err
	}
	paths, err := s.unitAndAbove(ctx, m.UnitID)
	if err != nil || len(paths) == 0 {
		return []Team{}, err
	}
	list, err := s.cfg.Store.Teams(ctx, nil, paths)
	if err != nil {
		return nil, err
	}
	out := []Team{}
	for _, t := range list {
		if p.Can(access.ReadInbox, t.UnitPath) {
			out = append(out, t)
		}
	}
	return out, nil
}

// unitAndAbove lists the paths of a unit and its ancestors.
func (s *Service) unitAndAbove(ctx context.Context, unitID int64) ([]string, error) {
	dir, err := s.directory(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, ok := dir.units[unitID]; !ok && unitID != 0 {
		if dir, err = s.directory(ctx, true); err != nil {
			return nil, err
		}
	}
	var paths []string
	for _, id := range dir.ancestors(unitID) {
		if u, ok := dir.units[id]; ok {
			paths = append(paths, u.Path)
		}
	}
	return paths, nil
}

// checkTeamAssignment refuses a team the caller cannot see or whose unit
// is not the conversation's or above it (its members could not see it).
func (s *Service) checkTeamAssignment(ctx context.Context, p *access.Principal, m Message, teamID int64) error {
	t, err := s.cfg.Store.TeamByID(ctx, teamID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadInbox, t.UnitPath)) {
		return errs.Field("assigned_team", "no such team: %d", teamID)
	}
	if err != nil {
		return err
	}
	paths, err := s.unitAndAbove(ctx, m.UnitID)
	if err != nil {
		return err
	}
	if !slices.Contains(paths, t.UnitPath) {
		return errs.Field("assigned_team", "team %q of %s may not take conversations of %s: choose a team of that unit or a unit above it", t.Name, t.Unit, unitLabel(m))
	}
	return nil
}

func unitLabel(m Message) string {
	if m.Unit == "" {
		return "no unit"
	}
	return m.Unit
}

// withTeams fills the messages' conversation teams in place.
func (s *Service) withTeams(ctx context.Context, list []Message, refs []ConversationRef) error {
	teams, err := s.cfg.Store.ConversationTeams(ctx, refs)
	if err != nil {
		return err
	}
	for i := range list {
		t := teams[ConversationRef{list[i].ChannelID, list[i].Conversation}]
		list[i].AssignedTeam, list[i].TeamName = t.ID, t.Name
	}
	return nil
}

// TeamFilter reads the message list's team filter into f: "mine" keeps
// the conversations assigned to a team the caller belongs to, a team id
// those assigned to that team (one the caller sees).
func (s *Service) TeamFilter(ctx context.Context, p *access.Principal, v string, f *Filter) error {
	switch v = strings.TrimSpace(v); v {
	case "":
		return nil
	case "mine":
		if p == nil || p.User.ID == 0 {
			return errs.Field("team", "only a user has teams of their own")
		}
		f.TeamOf = p.User.ID
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return errs.Field("team", "must be a team id or mine, not %q", v)
	}
	if _, err := s.teamFor(ctx, p, id, false); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.Field("team", "no such team: %d", id)
		}
		return err
	}
	f.Team = id
	return nil
}

// teamPatch validates a patch's assigned_team for a conversation: the
// team to store, and whether it changes.
func (s *Service) teamPatch(ctx context.Context, p *access.Principal, m Message, patch Patch) (int64, bool, error) {
	if patch.AssignedTeam == nil {
		return m.AssignedTeam, false, nil
	}
	team := *patch.AssignedTeam
	switch {
	case team < 0:
		return 0, false, errs.Field("assigned_team", "must be a team id, or 0 for none")
	case team == m.AssignedTeam:
		return team, false, nil
	case team != 0:
		if err := s.checkTeamAssignment(ctx, p, m, team); err != nil {
			return 0, false, err
		}
	}
	return team, true, nil
}

// storeTeam sets a conversation's team after teamPatch allowed it.
func (s *Service) storeTeam(ctx context.Context, m Message, team int64) error {
	if err := s.cfg.Store.AssignConversationTeam(ctx, m.ChannelID, m.Conversation, team); err != nil {
		if isForeignKey(err) {
			return errs.Field("assigned_team", "no such team: %d", team)
		}
		return fmt.Errorf("inbox: team of conversation %s: %w", m.Conversation, err)
	}
	return nil
}

// TeamCandidates lists who may join a team: the people who may answer its
// unit's inbox and are not members yet.
func (s *Service) TeamCandidates(ctx context.Context, p *access.Principal, id int64) ([]Assignee, error) {
	t, err := s.teamFor(ctx, p, id, false)
	if err != nil {
		return nil, err
	}
	all, err := s.cfg.Store.Assignees(ctx, t.UnitPath, answerRoles())
	if err != nil {
		return nil, err
	}
	out := []Assignee{}
	for _, a := range all {
		if !slices.ContainsFunc(t.Members, func(m Assignee) bool { return m.ID == a.ID }) {
			out = append(out, a)
		}
	}
	return out, nil
}
