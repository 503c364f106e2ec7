package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vernetzen/vernetzen/internal/access"
)

// TestBrowserTeams: create a team, add oneself to it, assign a
// conversation to it from its page and filter the inbox by my teams.
func TestBrowserTeams(t *testing.T) {
	e, step, value, screenshot := browserSettings(t, "de@example.com", "bmw-de", "/inbox/settings/teams?unit=bmw-de")
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	ids := e.ingestOn(adm, e.channelOf("bmw-de"), "b", "Eine Frage zum i4", "Wann kommt der neue iX3?")
	me := e.userID("de@example.com")

	step("create a team",
		chromedp.SendKeys(chromedp.ID("team-name"), "Vertrieb Nord"),
		chromedp.Submit(chromedp.ID("team-form")),
		chromedp.WaitVisible(chromedp.CSS(`#teams-list article[data-team="Vertrieb Nord"]`)),
	)
	var teams teamList
	if e.do(adm, "GET", "/api/v1/inbox/teams?unit=bmw-de", nil, &teams); len(teams.Items) != 1 {
		t.Fatalf("teams: %+v", teams.Items)
	}
	team := teams.Items[0]
	step("add a member",
		chromedp.SetValue(chromedp.ID(fmt.Sprintf("member-%d-user", team.ID)), fmt.Sprint(me)),
		chromedp.Submit(chromedp.ID(fmt.Sprintf("member-%d", team.ID))),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#teams-list .members").innerText.includes("de@example.com")`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	screenshot("inbox-teams.png")

	step("assign a conversation to the team",
		chromedp.Navigate(fmt.Sprintf("%s/inbox/%d", e.http.URL, ids[0])),
		chromedp.WaitVisible(chromedp.ID("assign-team")),
		chromedp.SetValue(chromedp.ID("assign-team"), fmt.Sprint(team.ID)),
		chromedp.Click(chromedp.ID("assign-team-save")),
		chromedp.WaitVisible(chromedp.ID("assigned-team")),
	)
	if name := value(chromedp.Text(chromedp.ID("assigned-team"))); name != "Vertrieb Nord" {
		t.Fatalf("assigned team: %q", name)
	}
	step("filter the inbox by my teams",
		chromedp.Navigate(e.http.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.ID("inbox-team")),
		chromedp.SetValue(chromedp.ID("inbox-team"), "mine"),
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "submit"`),
		chromedp.Submit(chromedp.ID("inbox-team")),
		// The list that answers the filter, not the page it came from.
		chromedp.WaitNotPresent(chromedp.CSS("body[data-before]")),
		chromedp.WaitVisible(chromedp.ID("inbox-team")),
		chromedp.Poll[chromedp.Void](`location.search.includes("team=mine") && document.querySelectorAll(".inbox-table tbody tr").length === 1`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	screenshot("inbox-my-teams.png")
	row := value(chromedp.Text(chromedp.CSS(".inbox-table tbody tr")))
	if !strings.Contains(row, "Eine Frage zum i4") || !strings.Contains(row, "Vertrieb Nord") {
		t.Fatalf("filtered row: %q", row)
	}
	step("filter by the team itself",
		chromedp.Navigate(e.http.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.ID("inbox-team")),
		chromedp.SetValue(chromedp.ID("inbox-team"), fmt.Sprint(team.ID)),
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "submit"`),
		chromedp.Submit(chromedp.ID("inbox-team")),
		// The list that answers the filter, not the page it came from.
		chromedp.WaitNotPresent(chromedp.CSS("body[data-before]")),
		chromedp.WaitVisible(chromedp.ID("inbox-team")),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`location.search.includes("team=%d") && document.querySelectorAll(".inbox-table tbody tr").length === 1`, team.ID),
			chromedp.WithPollingTimeout(10*time.Second)),
	)
}
