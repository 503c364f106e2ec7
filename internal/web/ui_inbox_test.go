package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
)

func TestUIInboxAndLeads(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("sales@example.com", "bmw-de", access.RoleSales)
	e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	de := e.channelOf("bmw-de")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "w1", "p1", "Was kostet ein X5 im Leasing? Ich hätte gern ein Angebot aus Hamburg."),
		msgIn(de, "w2", "p2", "Mein Navi <b>startet</b> nicht mehr"),
	}}, &got)
	if got.Accepted != 2 {
		t.Fatalf("ingest: %+v", got)
	}
	var list messageList
	e.do(adm, "GET", "/api/v1/messages?intent=support", nil, &list)
	support := list.Items[0].ID

	b := e.browser()
	b.login("agent@example.com")
	st, body := b.get("/inbox")
	if st != 200 || !strings.Contains(body, "X5") || !strings.Contains(body, "&lt;b&gt;startet") || !strings.Contains(body, "purchase") {
		t.Fatalf("inbox: %d\n%s", st, body)
	}
	if st, body := b.get("/inbox?intent=support&status=all"); st != 200 || strings.Contains(body, "X5") || !strings.Contains(body, "Navi") {
		t.Fatalf("filtered inbox: %d\n%s", st, body)
	}
	if st, body := b.get(fmt.Sprintf("/inbox/new?after=%d&status=all", support-1)); st != 200 || !strings.Contains(body, "new message") {
		t.Fatalf("live count: %d %s", st, body)
	}
	path := fmt.Sprintf("/inbox/%d", support)
	if st, body := b.get(path); st != 200 || !strings.Contains(body, "Assign to me") {
		t.Fatalf("conversation: %d\n%s", st, body)
	}
	if st, loc, _ := b.post(path, url.Values{"assign": {"me"}}); st != http.StatusSeeOther || loc != path {
		t.Fatalf("assign: %d %s", st, loc)
	}
	if st, _, _ := b.post(path+"/notes", url.Values{"text": {"Rückruf vereinbart"}}); st != http.StatusSeeOther {
		t.Fatalf("note: %d", st)
	}
	if st, _, _ := b.post(path, url.Values{"status": {"closed"}}); st != http.StatusSeeOther {
		t.Fatalf("close: %d", st)
	}
	if st, body := b.get(path); st != 200 || !strings.Contains(body, "Rückruf vereinbart") || !strings.Contains(body, "Unassign") || !strings.Contains(body, `st-closed`) {
		t.Fatalf("after handling: %d\n%s", st, body)
	}
	// Another market's agent does not see the conversation.
	uk := e.browser()
	uk.login("uk@example.com")
	if st, _ := uk.get(path); st != 404 {
		t.Fatalf("foreign conversation: %d", st)
	}
	if st, body := uk.get("/inbox?status=all"); st != 200 || strings.Contains(body, "Navi") {
		t.Fatalf("foreign inbox: %d", st)
	}
	// Leads: the sales user moves the lead on.
	s := e.browser()
	s.login("sales@example.com")
	st, body = s.get("/leads")
	if st != 200 || !strings.Contains(body, "X5") || !strings.Contains(body, "BMW Hamburg Hafen") {
		t.Fatalf("leads: %d\n%s", st, body)
	}
	e.do(adm, "GET", "/api/v1/messages?intent=purchase", nil, &list)
	lead := list.Items[0].LeadID
	if st, _, _ := s.post(fmt.Sprintf("/leads/%d", lead), url.Values{"state": {"contacted"}}); st != http.StatusSeeOther {
		t.Fatalf("lead state: %d", st)
	}
	if _, body := s.get("/leads?state=contacted"); !strings.Contains(body, "X5") {
		t.Fatalf("lead not contacted:\n%s", body)
	}
	if st, _ := uk.get("/leads"); st != 403 {
		t.Fatalf("leads page for an agent: %d", st)
	}
}
