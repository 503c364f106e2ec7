package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// TestUITeams: the teams page creates, renames and deletes a unit's teams
// and keeps their members, with errors beside the field and nothing
// changed; the conversation page sets a team; other markets get 404.
func TestUITeams(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("mgr@example.com", "bmw-de", access.RoleManager)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("kim@example.com", "bmw-hamburg-hafen", access.RoleAgent)
	e.user("ukmgr@example.com", "bmw-uk", access.RoleManager)
	teamsOf := func(unit string) []inbox.Team {
		var l teamList
		e.do(adm, "GET", "/api/v1/inbox/teams?unit="+unit, nil, &l)
		return l.Items
	}

	b := e.browser()
	b.login("mgr@example.com")
	if st, body := b.get("/inbox/settings/teams?unit=bmw-de"); st != 200 || !strings.Contains(body, "No teams yet") || !strings.Contains(body, `id="team-form"`) {
		t.Fatalf("empty page: %d\n%s", st, body)
	}
	if st, _, body := b.post("/inbox/settings/teams", url.Values{"unit": {"bmw-de"}, "name": {" "}}); st != 400 || !strings.Contains(body, `id="team-name-error"`) {
		t.Fatalf("empty name: %d\n%s", st, body)
	}
	if st, loc, _ := b.post("/inbox/settings/teams", url.Values{"unit": {"bmw-de"}, "name": {"Vertrieb"}}); st != http.StatusSeeOther || loc != "/inbox/settings/teams?unit=bmw-de" {
		t.Fatalf("create: %d %s", st, loc)
	}
	if st, _, body := b.post("/inbox/settings/teams", url.Values{"unit": {"bmw-de"}, "name": {"VERTRIEB"}}); st != 409 ||
		!strings.Contains(body, `id="team-name-error"`) || !strings.Contains(body, "has a team named") {
		t.Fatalf("same name: %d\n%s", st, body)
	}
	teams := teamsOf("bmw-de")
	if len(teams) != 1 {
		t.Fatalf("teams: %+v", teams)
	}
	team := teams[0]
	base := fmt.Sprintf("/inbox/settings/teams/%d", team.ID)

	// Members: kim answers a dealer's inbox only.
	if st, _, body := b.post(base+"/members", url.Values{"user": {fmt.Sprint(e.userID("kim@example.com"))}}); st != 400 ||
		!strings.Contains(body, fmt.Sprintf(`id="member-%d-user-error"`, team.ID)) {
		t.Fatalf("ineligible member: %d\n%s", st, body)
	}
	if st, _, body := b.post(base+"/members", url.Values{"user": {""}}); st != 400 || !strings.Contains(body, "choose a person to add") {
		t.Fatalf("no member chosen: %d\n%s", st, body)
	}
	agentID := e.userID("agent@example.com")
	if st, _, _ := b.post(base+"/members", url.Values{"user": {fmt.Sprint(agentID)}}); st != http.StatusSeeOther {
		t.Fatalf("add member: %d", st)
	}
	if _, body := b.get("/inbox/settings/teams?unit=bmw-de"); !strings.Contains(body, "Remove agent@example.com from Vertrieb") {
		t.Fatalf("member not listed:\n%s", body)
	}
	if st, _, body := b.post(base, url.Values{"name": {""}}); st != 400 || !strings.Contains(body, fmt.Sprintf(`id="team-%d-name-error"`, team.ID)) {
		t.Fatalf("empty rename: %d\n%s", st, body)
	}
	if st, _, _ := b.post(base, url.Values{"name": {"Vertrieb Nord"}}); st != http.StatusSeeOther {
		t.Fatalf("rename: %d", st)
	}
	if got := teamsOf("bmw-de"); len(got) != 1 || got[0].Name != "Vertrieb Nord" || len(got[0].Members) != 1 || got[0].Members[0].ID != agentID {
		t.Fatalf("after the forms: %+v", got)
	}

	// Another market's manager: 404 for the page and every form.
	uk := e.browser()
	uk.login("ukmgr@example.com")
	if st, _ := uk.get("/inbox/settings/teams?unit=bmw-de"); st != 404 {
		t.Fatalf("UK sees the German teams: %d", st)
	}
	for _, p := range []string{base, base + "/delete", base + "/members"} {
		if st, _, _ := uk.post(p, url.Values{"name": {"x"}, "user": {"1"}}); st != 404 {
			t.Fatalf("UK posts %s: %d", p, st)
		}
	}
	if st, _, _ := uk.post("/inbox/settings/teams", url.Values{"unit": {"bmw-de"}, "name": {"UK"}}); st != 404 {
		t.Fatalf("UK creates a German team: %d", st)
	}
	ag := e.browser()
	ag.login("agent@example.com")
	if st, _, _ := ag.post(base+"/delete", nil); st != 403 {
		t.Fatalf("agent deletes: %d", st)
	}
	if got := teamsOf("bmw-de"); len(got) != 1 || got[0].Name != "Vertrieb Nord" {
		t.Fatalf("after the refusals: %+v", got)
	}

	// The conversation page: the team picker next to the person picker.
	id := e.ingestOn(adm, e.channelOf("bmw-de"), "t", "Eine Frage zum i4")[0]
	page := fmt.Sprintf("/inbox/%d", id)
	if _, body := ag.get(page); !strings.Contains(body, `id="assign-team"`) || !strings.Contains(body, "Vertrieb Nord (bmw-de)") {
		t.Fatalf("team picker:\n%s", body)
	}
	if st, _, _ := ag.post(page, url.Values{"assign_team": {"x"}}); st != http.StatusSeeOther {
		t.Fatalf("bad team: %d", st)
	}
	if _, body := ag.get(page); !strings.Contains(body, "assigned_team") || strings.Contains(body, `id="assigned-team"`) {
		t.Fatalf("bad team's flash:\n%s", body)
	}
	if st, _, _ := ag.post(page, url.Values{"assign_team": {fmt.Sprint(team.ID)}}); st != http.StatusSeeOther {
		t.Fatalf("assign team: %d", st)
	}
	if _, body := ag.get(page); !strings.Contains(body, `Team: <span id="assigned-team">Vertrieb Nord</span>`) {
		t.Fatalf("after assigning:\n%s", body)
	}
	if _, body := ag.get("/inbox?team=mine"); !strings.Contains(body, ">Vertrieb Nord</a>") || !strings.Contains(body, "1 message<") {
		t.Fatalf("my teams:\n%s", body)
	}
	if _, body := ag.get("/inbox?team=999999"); !strings.Contains(body, "No message matches") {
		t.Fatalf("unknown team:\n%s", body)
	}
	// A team with an open conversation stays, the reason beside its button.
	if st, _, body := b.post(base+"/delete", nil); st != 409 || !strings.Contains(body, fmt.Sprintf(`id="team-%d-delete-error"`, team.ID)) {
		t.Fatalf("delete with an open conversation: %d\n%s", st, body)
	}
	var m inbox.Message
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d", id), nil, &m); m.AssignedTeam != team.ID {
		t.Fatalf("team after the refused delete: %+v", m)
	}

	// The list's bulk actions set a team on the checked conversations too.
	other := e.ingestOn(adm, e.channelOf("bmw-de"), "u", "Noch eine Frage zum iX1")[0]
	if _, body := ag.get("/inbox"); !strings.Contains(body, `id="bulk-team"`) || !strings.Contains(body, "Vertrieb Nord (bmw-de)") {
		t.Fatalf("bulk team picker:\n%s", body)
	}
	if st, _, _ := ag.post("/inbox/bulk", url.Values{"ids": {fmt.Sprint(other)}, "action": {"assign_team"}, "bulk_team": {fmt.Sprint(team.ID)}}); st != http.StatusSeeOther {
		t.Fatalf("bulk team: %d", st)
	}
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d", other), nil, &m); m.AssignedTeam != team.ID {
		t.Fatalf("bulk team not set: %+v", m)
	}
	if st, _, _ := ag.post("/inbox/bulk", url.Values{"ids": {fmt.Sprint(other)}, "action": {"assign_team"}, "bulk_team": {"0"}}); st != http.StatusSeeOther {
		t.Fatalf("bulk no team: %d", st)
	}
	var after inbox.Message // a fresh one: assigned_team 0 is left out of the JSON
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d", other), nil, &after); after.AssignedTeam != 0 {
		t.Fatalf("bulk team not taken away: %+v", after)
	}
}
