package web

import (
	"context"
	"fmt"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

type teamList struct {
	Items []inbox.Team `json:"items"`
}

func (e *testEnv) userID(email string) int64 {
	e.t.Helper()
	u, _, err := e.store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// TestInboxTeamsAPI: managers keep a unit's teams and members; bad input
// is refused naming the field and changes nothing.
func TestInboxTeamsAPI(t *testing.T) {
	e := newTestEnv(t)
	mgr := e.user("mgr@example.com", "bmw-de", access.RoleManager)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("kim@example.com", "bmw-hamburg-hafen", access.RoleAgent)
	e.user("sales@example.com", "bmw-de", access.RoleSales)
	e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	agentID, kimID := e.userID("agent@example.com"), e.userID("kim@example.com")

	var team inbox.Team
	if st := e.do(mgr, "POST", "/api/v1/inbox/teams", map[string]any{"unit": "bmw-de", "name": " Vertrieb Nord ", "members": []int64{agentID, agentID}}, &team); st != 201 ||
		team.Name != "Vertrieb Nord" || team.Unit != "bmw-de" || len(team.Members) != 1 || team.Members[0].ID != agentID {
		t.Fatalf("create: %d %+v", st, team)
	}
	for _, c := range []struct {
		body   map[string]any
		status int
		field  string
	}{
		{map[string]any{"unit": "bmw-de", "name": "vertrieb nord"}, 409, "name"},
		{map[string]any{"unit": "bmw-de", "name": "  "}, 400, "name"},
		{map[string]any{"unit": "bmw-de", "name": "Lang", "members": []int64{e.userID("sales@example.com")}}, 400, "members[0]"},
		{map[string]any{"unit": "bmw-de", "name": "Lang", "members": []int64{agentID, e.userID("uk@example.com")}}, 400, "members[1]"},
		// kim answers a dealer's inbox only, not the market's.
		{map[string]any{"unit": "bmw-de", "name": "Lang", "members": []int64{kimID}}, 400, "members[0]"},
		{map[string]any{"unit": "nowhere", "name": "Lang"}, 400, "unit"},
		{map[string]any{"unit": "bmw-uk", "name": "Lang"}, 400, "unit"},
	} {
		var bad apiErr
		if st := e.do(mgr, "POST", "/api/v1/inbox/teams", c.body, &bad); st != c.status || bad.Error.Field != c.field {
			t.Fatalf("create %v: %d %+v", c.body, st, bad)
		}
	}
	var bad apiErr
	if st := e.do(agent, "POST", "/api/v1/inbox/teams", map[string]any{"unit": "bmw-de", "name": "Agents"}, &bad); st != 403 {
		t.Fatalf("agent creates: %d %+v", st, bad)
	}
	var teams teamList
	if e.do(agent, "GET", "/api/v1/inbox/teams?unit=bmw-de", nil, &teams); len(teams.Items) != 1 {
		t.Fatalf("teams after the refusals: %+v", teams.Items)
	}

	// Members and renaming.
	path := fmt.Sprintf("/api/v1/inbox/teams/%d", team.ID)
	if st := e.do(mgr, "PUT", path+"/members", map[string]any{"members": []int64{agentID, kimID}}, &bad); st != 400 || bad.Error.Field != "members[1]" {
		t.Fatalf("ineligible member: %d %+v", st, bad)
	}
	if st := e.do(mgr, "PATCH", path, map[string]any{"name": ""}, &bad); st != 400 || bad.Error.Field != "name" {
		t.Fatalf("empty rename: %d %+v", st, bad)
	}
	if st := e.do(agent, "PATCH", path, map[string]any{"name": "Mine"}, &bad); st != 403 {
		t.Fatalf("agent renames: %d", st)
	}
	if e.do(agent, "GET", path, nil, &team); team.Name != "Vertrieb Nord" || len(team.Members) != 1 {
		t.Fatalf("changed by refused requests: %+v", team)
	}
	if st := e.do(mgr, "PATCH", path, map[string]any{"name": "Vertrieb"}, &team); st != 200 || team.Name != "Vertrieb" {
		t.Fatalf("rename: %d %+v", st, team)
	}
	var hafen inbox.Team
	if st := e.do(mgr, "POST", "/api/v1/inbox/teams", map[string]any{"unit": "bmw-hamburg-hafen", "name": "Vertrieb", "members": []int64{kimID}}, &hafen); st != 201 {
		t.Fatalf("a dealer's team of the same name: %d %+v", st, hafen)
	}
	if e.do(mgr, "GET", "/api/v1/inbox/teams", nil, &teams); len(teams.Items) != 2 || teams.Items[0].Unit != "bmw-de" {
		t.Fatalf("all teams: %+v", teams.Items)
	}
}

// TestInboxTeamAssignment: a conversation goes to a team of its unit or
// above, besides a person; the list filters by team and by my teams,
// later messages of the conversation included; a team with open
// conversations is not deleted.
func TestInboxTeamAssignment(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	mgr := e.user("mgr@example.com", "bmw-de", access.RoleManager)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("kim@example.com", "bmw-hamburg-hafen", access.RoleAgent)
	uk := e.user("ukmgr@example.com", "bmw-uk", access.RoleManager)
	agentID := e.userID("agent@example.com")

	var de, hafen, ukTeam inbox.Team
	e.do(mgr, "POST", "/api/v1/inbox/teams", map[string]any{"unit": "bmw-de", "name": "Vertrieb", "members": []int64{agentID}}, &de)
	e.do(mgr, "POST", "/api/v1/inbox/teams", map[string]any{"unit": "bmw-hamburg-hafen", "name": "Hafen", "members": []int64{e.userID("kim@example.com")}}, &hafen)
	e.do(uk, "POST", "/api/v1/inbox/teams", map[string]any{"unit": "bmw-uk", "name": "UK"}, &ukTeam)
	if de.ID == 0 || hafen.ID == 0 || ukTeam.ID == 0 {
		t.Fatalf("teams: %+v %+v %+v", de, hafen, ukTeam)
	}
	dm := func(id, text string) map[string]any {
		m := msgIn(e.channelOf("bmw-de"), id, "p1", text)
		m["kind"] = "dm"
		return m
	}
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{dm("d1", "Frage zum i4"),
		msgIn(e.channelOf("bmw-de"), "c1", "p2", "Noch eine Frage zum iX")}}, &got)
	var list messageList
	e.do(agent, "GET", "/api/v1/messages?q=i4", nil, &list)
	if len(list.Items) != 1 || list.Items[0].Unit != "bmw-de" {
		t.Fatalf("message: %+v", list.Items)
	}
	id := list.Items[0].ID
	msg := fmt.Sprintf("/api/v1/messages/%d", id)

	var teams teamList
	if e.do(agent, "GET", msg+"/teams", nil, &teams); len(teams.Items) != 1 || teams.Items[0].ID != de.ID {
		t.Fatalf("teams for the message (not the dealer's, not the UK's): %+v", teams.Items)
	}
	for _, c := range []struct {
		team   int64
		status int
	}{{hafen.ID, 400}, {ukTeam.ID, 400}, {-1, 400}, {999999, 400}} {
		var bad apiErr
		if st := e.do(agent, "PATCH", msg, map[string]any{"assigned_team": c.team, "status": "pending"}, &bad); st != c.status || bad.Error.Field != "assigned_team" {
			t.Fatalf("assign team %d: %d %+v", c.team, st, bad)
		}
	}
	var m inbox.Message
	if e.do(agent, "GET", msg, nil, &m); m.AssignedTeam != 0 || m.Status != "open" {
		t.Fatalf("changed by refused patches: %+v", m)
	}
	// A team and a person.
	if st := e.do(agent, "PATCH", msg, map[string]any{"assigned_team": de.ID, "assigned_to": agentID}, &m); st != 200 || m.AssignedTeam != de.ID ||
		m.TeamName != "Vertrieb" || m.AssignedTo != agentID {
		t.Fatalf("assign: %d %+v", st, m)
	}
	var c inbox.Conversation
	if e.do(agent, "GET", msg+"/conversation", nil, &c); c.Team != de.ID || c.TeamName != "Vertrieb" || c.Assigned != agentID {
		t.Fatalf("conversation: %+v", c)
	}
	// A later message of the conversation is the team's too.
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{dm("d2", "Und noch etwas zum i4")}}, &got)
	for _, q := range []string{fmt.Sprintf("team=%d", de.ID), "team=mine"} {
		if e.do(agent, "GET", "/api/v1/messages?"+q, nil, &list); list.Total != 2 || list.Items[0].TeamName != "Vertrieb" || list.Items[1].TeamName != "Vertrieb" {
			t.Fatalf("%s: %+v", q, list)
		}
	}
	if e.do(mgr, "GET", "/api/v1/messages?team=mine", nil, &list); list.Total != 0 {
		t.Fatalf("my teams of a non-member: %+v", list)
	}
	if e.do(mgr, "GET", "/api/v1/messages", nil, &list); list.Total != 3 {
		t.Fatalf("unfiltered: %+v", list)
	}
	for _, q := range []string{"team=x", fmt.Sprintf("team=%d", ukTeam.ID), "team=0"} {
		var bad apiErr
		if st := e.do(agent, "GET", "/api/v1/messages?"+q, nil, &bad); st != 400 || bad.Error.Field != "team" {
			t.Fatalf("%s: %d %+v", q, st, bad)
		}
	}

	// Outside the caller's units: 404, nothing changed.
	path := fmt.Sprintf("/api/v1/inbox/teams/%d", de.ID)
	for _, req := range []struct {
		method string
		body   any
	}{{"GET", nil}, {"PATCH", map[string]any{"name": "Taken"}}, {"DELETE", nil}, {"PUT", map[string]any{"members": []int64{}}}} {
		var bad apiErr
		if st := e.do(uk, req.method, path+map[bool]string{true: "/members", false: ""}[req.method == "PUT"], req.body, &bad); st != 404 {
			t.Fatalf("%s from the UK: %d %+v", req.method, st, bad)
		}
	}
	if st := e.do(uk, "PATCH", msg, map[string]any{"assigned_team": ukTeam.ID}, nil); st != 404 {
		t.Fatalf("UK assigns a German message: %d", st)
	}
	if e.do(uk, "GET", "/api/v1/inbox/teams", nil, &teams); len(teams.Items) != 1 || teams.Items[0].ID != ukTeam.ID {
		t.Fatalf("UK's teams: %+v", teams.Items)
	}
	var kept inbox.Team
	if e.do(mgr, "GET", path, nil, &kept); kept.Name != "Vertrieb" || len(kept.Members) != 1 {
		t.Fatalf("after the UK's requests: %+v", kept)
	}

	// Deleting: refused while the conversation is open, then it loses the team.
	var bad apiErr
	if st := e.do(mgr, "DELETE", path, nil, &bad); st != 409 || bad.Error.Code != "conflict" {
		t.Fatalf("delete with an open conversation: %d %+v", st, bad)
	}
	if st := e.do(agent, "DELETE", path, nil, &bad); st != 403 {
		t.Fatalf("agent deletes: %d", st)
	}
	var res inbox.BulkResult
	if st := e.do(agent, "POST", "/api/v1/messages/bulk", map[string]any{"ids": []int64{id}, "status": "closed"}, &res); st != 200 || res.Updated != 1 {
		t.Fatalf("close: %d %+v", st, res)
	}
	if st := e.do(mgr, "DELETE", path, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	var after inbox.Message
	if e.do(agent, "GET", msg, nil, &after); after.AssignedTeam != 0 || after.AssignedTo != agentID {
		t.Fatalf("after deleting the team: %+v", after)
	}
	// Bulk assigns a team too (and 0 takes it away).
	if st := e.do(agent, "POST", "/api/v1/messages/bulk", map[string]any{"ids": []int64{id}, "assigned_team": hafen.ID}, &bad); st != 400 || bad.Error.Field != "assigned_team" {
		t.Fatalf("bulk assign a dealer's team: %d %+v", st, bad)
	}
}
