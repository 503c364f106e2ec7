package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

const teamSelect = `SELECT t.id, t.unit_id, u.key, u.path, t.name, t.created_at FROM teams t JOIN units u ON u.id = t.unit_id`

func scanTeam(row scanner) (inbox.Team, error) {
	var t inbox.Team
	var created int64
	err := row.Scan(&t.ID, &t.UnitID, &t.Unit, &t.UnitPath, &t.Name, &created)
	t.CreatedAt = fromMS(created)
	t.Members = []inbox.Assignee{}
	return t, err
}

func teamNameTaken(name string) error {
	return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("this unit has a team named %q", name)}
}

// CreateTeam stores a team and its members in one transaction; a unit's
// team names are unique regardless of case.
func (s *Store) CreateTeam(ctx context.Context, t *inbox.Team) error {
	t.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	return s.InTx(ctx, func(tx *Store) error {
		err := tx.w.QueryRowContext(ctx, `INSERT INTO teams (unit_id, name, name_key, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			t.UnitID, t.Name, strings.ToLower(t.Name), ms(t.CreatedAt)).Scan(&t.ID)
		if isUnique(err) {
			return teamNameTaken(t.Name)
		}
		if err != nil {
			return fmt.Errorf("store: add team %q: %w", t.Name, err)
		}
		ids := make([]int64, len(t.Members))
		for i, m := range t.Members {
			ids[i] = m.ID
		}
		return tx.SetTeamMembers(ctx, t.ID, ids)
	})
}

// RenameTeam changes a team's name.
func (s *Store) RenameTeam(ctx context.Context, id int64, name string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE teams SET name = $1, name_key = $2 WHERE id = $3`, name, strings.ToLower(name), id)
	if isUnique(err) {
		return teamNameTaken(name)
	}
	if err != nil {
		return fmt.Errorf("store: rename team %d: %w", id, err)
	}
	return nil
}

// DeleteTeam removes a team unless an open or pending conversation is
// assigned to it (Conflict). On PostgreSQL the team's row is locked
// first, so that no conversation is assigned to it between the count and
// the delete (the assignment's foreign key check waits for the lock);
// SQLite runs one write transaction at a time.
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		if s.engine == Postgres {
			var locked int64
			err := tx.w.QueryRowContext(ctx, `SELECT id FROM teams WHERE id = $1 FOR UPDATE`, id).Scan(&locked)
			if isNoRows(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("store: lock team %d: %w", id, err)
			}
		}
		var open int
		err := tx.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversation_teams ct WHERE ct.team_id = $1 AND EXISTS (
			SELECT 1 FROM messages m WHERE m.channel_id = ct.channel_id AND m.conversation = ct.conversation AND m.status <> 'closed')`, id).Scan(&open)
		if err != nil {
			return fmt.Errorf("store: open conversations of team %d: %w", id, err)
		}
		switch {
		case open == 1:
			return errs.E(errs.Conflict, "1 open or pending conversation is assigned to this team: assign it to another team or close it first")
		case open > 1:
			return errs.E(errs.Conflict, "%d open or pending conversations are assigned to this team: assign them to another team or close them first", open)
		}
		if _, err := tx.w.ExecContext(ctx, `DELETE FROM teams WHERE id = $1`, id); err != nil {
			return fmt.Errorf("store: delete team %d: %w", id, err)
		}
		return nil
	})
}

// TeamByID returns one team with its members (sql.ErrNoRows if none).
func (s *Store) TeamByID(ctx context.Context, id int64) (inbox.Team, error) {
	t, err := scanTeam(s.r.QueryRowContext(ctx, teamSelect+` WHERE t.id = $1`, id))
	if isNoRows(err) {
		return t, errNoRows
	}
	if err != nil {
		return t, fmt.Errorf("store: team %d: %w", id, err)
	}
	one := []inbox.Team{t}
	if err := s.fillTeamMembers(ctx, one); err != nil {
		return t, err
	}
	return one[0], nil
}

// Teams lists teams with their members: those of units whose path is in
// scope (nil: all) or, with paths set, of exactly those units; by unit
// depth, then name.
func (s *Store) Teams(ctx context.Context, scope []string, paths []string) ([]inbox.Team, error) {
	var where string
	var args []any
	switch {
	case paths != nil:
		if len(paths) == 0 {
			return []inbox.Team{}, nil
		}
		ph := make([]string, len(paths))
		for i, p := range paths {
			args = append(args, p)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		where = " WHERE u.path IN (" + strings.Join(ph, ", ") + ")"
	case scope != nil:
		var c string
		c, args = scopeClause("u.path", scope, args)
		where = " WHERE " + c
	}
	rows, err := s.r.QueryContext(ctx, teamSelect+where+` ORDER BY u.depth, u.path, t.name_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: teams: %w", err)
	}
	list := []inbox.Team{}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: teams: %w", err)
		}
		list = append(list, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: teams: %w", err)
	}
	return list, s.fillTeamMembers(ctx, list)
}

// fillTeamMembers loads the members of teams, by name.
func (s *Store) fillTeamMembers(ctx context.Context, teams []inbox.Team) error {
	if len(teams) == 0 {
		return nil
	}
	index := make(map[int64]int, len(teams))
	args := make([]any, len(teams))
	ph := make([]string, len(teams))
	for i, t := range teams {
		index[t.ID] = i
		args[i] = t.ID
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT tm.team_id, u.id, u.email, u.name FROM team_members tm JOIN users u ON u.id = tm.user_id
		WHERE tm.team_id IN (`+strings.Join(ph, ", ")+`) ORDER BY u.name, u.email`, args...)
	if err != nil {
		return fmt.Errorf("store: team members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var team int64
		var a inbox.Assignee
		if err := rows.Scan(&team, &a.ID, &a.Email, &a.Name); err != nil {
			return fmt.Errorf("store: team members: %w", err)
		}
		if i, ok := index[team]; ok {
			teams[i].Members = append(teams[i].Members, a)
		}
	}
	return rows.Err()
}

// SetTeamMembers replaces a team's members.
func (s *Store) SetTeamMembers(ctx context.Context, id int64, users []int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.w.ExecContext(ctx, `DELETE FROM team_members WHERE team_id = $1`, id); err != nil {
			return fmt.Errorf("store: members of team %d: %w", id, err)
		}
		for _, u := range users {
			if _, err := tx.w.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)`, id, u); err != nil {
				return fmt.Errorf("store: add user %d to team %d: %w", u, id, err)
			}
		}
		return nil
	})
}

// AssignConversationTeam sets a conversation's team (0: none).
func (s *Store) AssignConversationTeam(ctx context.Context, channelID int64, conversation string, team int64) error {
	var err error
	if team == 0 {
		_, err = s.w.ExecContext(ctx, `DELETE FROM conversation_teams WHERE channel_id = $1 AND conversation = $2`, channelID, conversation)
	} else {
		_, err = s.w.ExecContext(ctx, `INSERT INTO conversation_teams (channel_id, conversation, team_id, assigned_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (channel_id, conversation) DO UPDATE SET team_id = excluded.team_id, assigned_at = excluded.assigned_at`,
			channelID, conversation, team, ms(s.now()))
	}
	if err != nil {
		return fmt.Errorf("store: team of conversation %s: %w", conversation, err)
	}
	return nil
}

// ConversationTeams returns the teams of conversations (those without
// one are absent).
func (s *Store) ConversationTeams(ctx context.Context, refs []inbox.ConversationRef) (map[inbox.ConversationRef]inbox.TeamRef, error) {
	out := map[inbox.ConversationRef]inbox.TeamRef{}
	for start := 0; start < len(refs); start += 200 {
		part := refs[start:min(start+200, len(refs))]
		conds := make([]string, 0, len(part))
		args := make([]any, 0, 2*len(part))
		for _, r := range part {
			args = append(args, r.ChannelID, r.Key)
			conds = append(conds, fmt.Sprintf("(ct.channel_id = $%d AND ct.conversation = $%d)", len(args)-1, len(args)))
		}
		rows, err := s.r.QueryContext(ctx, `SELECT ct.channel_id, ct.conversation, t.id, t.name FROM conversation_teams ct
			JOIN teams t ON t.id = ct.team_id WHERE `+strings.Join(conds, " OR "), args...)
		if err != nil {
			return nil, fmt.Errorf("store: conversation teams: %w", err)
		}
		for rows.Next() {
			var r inbox.ConversationRef
			var t inbox.TeamRef
			if err := rows.Scan(&r.ChannelID, &r.Key, &t.ID, &t.Name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: conversation teams: %w", err)
			}
			out[r] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: conversation teams: %w", err)
		}
	}
	return out, nil
}
