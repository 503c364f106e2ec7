package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

func TestInboxTagsAndBulk(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	ids := e.ingestOn(adm, e.channelOf("bmw-de"), "t", "Erste Frage zum i4", "Zweite Frage zum iX", "Dritte Frage zum X1")
	ukID := e.ingestOn(adm, e.channelOf("bmw-uk"), "u", "A question about the i4")[0]

	var m inbox.Message
	if st := e.do(agent, "PATCH", fmt.Sprintf("/api/v1/messages/%d", ids[0]), map[string]any{"add_tags": []string{"VIP", "recall"}}, &m); st != 200 ||
		strings.Join(m.Tags, ",") != "recall,vip" {
		t.Fatalf("tag: %d %+v", st, m.Tags)
	}
	var bad apiErr
	if st := e.do(agent, "PATCH", fmt.Sprintf("/api/v1/messages/%d", ids[0]), map[string]any{"add_tags": []string{"no spaces"}}, &bad); st != 400 || bad.Error.Field != "add_tags" {
		t.Fatalf("bad tag: %d %+v", st, bad)
	}
	e.do(agent, "PATCH", fmt.Sprintf("/api/v1/messages/%d", ids[0]), map[string]any{"remove_tags": []string{"recall"}}, &m)
	if strings.Join(m.Tags, ",") != "vip" {
		t.Fatalf("untag: %+v", m.Tags)
	}
	var list messageList
	if e.do(agent, "GET", "/api/v1/messages?tag=vip", nil, &list); list.Total != 1 || list.Items[0].ID != ids[0] {
		t.Fatalf("tag filter: %+v", list)
	}

	// Bulk: one message outside the caller's units refuses the whole action.
	if st := e.do(agent, "POST", "/api/v1/messages/bulk", map[string]any{"ids": []int64{ids[1], ukID}, "status": "closed"}, &bad); st != 404 || bad.Error.Field != "ids[1]" {
		t.Fatalf("bulk outside: %d %+v", st, bad)
	}
	if e.do(agent, "GET", "/api/v1/messages?status=closed", nil, &list); list.Total != 0 {
		t.Fatalf("partly applied: %+v", list)
	}
	if st := e.do(agent, "POST", "/api/v1/messages/bulk", map[string]any{"ids": ids[1:]}, &bad); st != 400 {
		t.Fatalf("bulk without action: %d", st)
	}
	u, _, _ := e.store.UserByEmail(t.Context(), "agent@example.com")
	var res inbox.BulkResult
	if st := e.do(agent, "POST", "/api/v1/messages/bulk", map[string]any{"ids": ids[1:], "status": "closed", "assigned_to": u.ID, "add_tags": []string{"batch"}}, &res); st != 200 || res.Updated != 2 {
		t.Fatalf("bulk: %d %+v", st, res)
	}
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages?status=closed&tag=batch&assigned_to=%d", u.ID), nil, &list); list.Total != 2 {
		t.Fatalf("after bulk: %+v", list)
	}

	// The same from the list page.
	b := e.browser()
	b.login("agent@example.com")
	if st, body := b.get("/inbox?status=all"); st != 200 || !strings.Contains(body, `form="inbox-bulk"`) || !strings.Contains(body, "#vip") {
		t.Fatalf("list: %d\n%s", st, body)
	}
	if st, loc, _ := b.post("/inbox/bulk", url.Values{"ids": {fmt.Sprint(ids[0]), fmt.Sprint(ids[1])}, "action": {"tag"}, "tag": {"followup"}, "return": {"status=all"}}); st != http.StatusSeeOther || loc != "/inbox?status=all" {
		t.Fatalf("bulk form: %d %s", st, loc)
	}
	if e.do(agent, "GET", "/api/v1/messages?tag=followup&status=all", nil, &list); list.Total != 2 {
		t.Fatalf("bulk tag from the page: %+v", list)
	}
	if st, _, _ := b.post("/inbox/bulk", url.Values{"ids": {fmt.Sprint(ids[0])}, "action": {"close"}}); st != http.StatusSeeOther {
		t.Fatalf("bulk close: %d", st)
	}
	if e.do(agent, "GET", "/api/v1/messages?status=open", nil, &list); list.Total != 0 {
		t.Fatalf("still open: %+v", list)
	}
	path := fmt.Sprintf("/inbox/%d", ids[2])
	if st, _, _ := b.post(path, url.Values{"tag": {"urgent"}}); st != http.StatusSeeOther {
		t.Fatalf("tag form: %d", st)
	}
	if st, body := b.get(path); st != 200 || !strings.Contains(body, "#urgent") {
		t.Fatalf("tags on the page: %d\n%s", st, body)
	}
}

func TestInboxSavedReplies(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	uk := e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	sales := e.user("sales@example.com", "bmw-de", access.RoleSales)
	ch := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(ch, "bmw_de")
	id := e.ingestOn(adm, ch, "s", "Wo finde ich die Betriebsanleitung?")[0]

	var bad apiErr
	if st := e.do(agent, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "bmw-de", "name": "x", "text": "Hallo {{author.nam}}"}, &bad); st != 400 || bad.Error.Field != "text" {
		t.Fatalf("unknown variable: %d %+v", st, bad)
	}
	if st := e.do(uk, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "bmw-de", "name": "x", "text": "Hallo"}, &bad); st != 400 || bad.Error.Field != "unit" {
		t.Fatalf("another market's unit: %d %+v", st, bad)
	}
	if st := e.do(sales, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "bmw-de", "name": "x", "text": "Hallo"}, nil); st != 403 {
		t.Fatalf("sales: %d", st)
	}
	var sr inbox.SavedReply
	if st := e.do(agent, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "bmw-de", "name": "Anleitung",
		"text": "Hallo {{author.name}}, hier schreibt {{channel.name}} ({{unit.name}}): die Anleitung steht in der App."}, &sr); st != 201 || sr.ID == 0 {
		t.Fatalf("create: %d %+v", st, sr)
	}
	if st := e.do(agent, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "bmw-de", "name": "Anleitung", "text": "doppelt"}, nil); st != 409 {
		t.Fatalf("same name: %d", st)
	}
	var group inbox.SavedReply
	e.do(adm, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "group", "name": "Danke", "text": "Danke, {{author.name}}!"}, &group)
	e.do(uk, "POST", "/api/v1/inbox/saved-replies", map[string]any{"unit": "bmw-uk", "name": "Thanks", "text": "Thanks!"}, nil)
	var items struct {
		Items []inbox.SavedReply `json:"items"`
	}
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d/saved-replies", id), nil, &items); len(items.Items) != 2 ||
		items.Items[0].Rendered != "Hallo Name s-author0, hier schreibt BMW Deutschland (BMW Deutschland): die Anleitung steht in der App." ||
		items.Items[1].Name != "Danke" {
		t.Fatalf("for the message: %+v", items.Items)
	}
	if e.do(uk, "GET", "/api/v1/inbox/saved-replies", nil, &items); len(items.Items) != 1 || items.Items[0].Name != "Thanks" {
		t.Fatalf("uk's: %+v", items.Items)
	}
	if st := e.do(uk, "DELETE", fmt.Sprintf("/api/v1/inbox/saved-replies/%d", sr.ID), nil, nil); st != 404 {
		t.Fatalf("delete another market's: %d", st)
	}

	// Answer with it, from the page without a script: it is filled in.
	e.startInboxQueue(t)
	b := e.browser()
	b.login("agent@example.com")
	path := fmt.Sprintf("/inbox/%d", id)
	if st, body := b.get(path); st != 200 || !strings.Contains(body, `id="reply-saved"`) || !strings.Contains(body, "Hallo Name s-author0") {
		t.Fatalf("page: %d\n%s", st, body)
	}
	if st, _, _ := b.post(path+"/replies", url.Values{"saved": {fmt.Sprint(group.ID)}, "text": {""}}); st != http.StatusSeeOther {
		t.Fatalf("reply with saved: %d", st)
	}
	c := e.waitReplies(agent, id, 20*time.Second)
	if c.Replies[0].Text != "Danke, Name s-author0!" || c.Replies[0].Status != inbox.ReplyPublished {
		t.Fatalf("sent: %+v", c.Replies[0])
	}
	if st := e.do(agent, "DELETE", fmt.Sprintf("/api/v1/inbox/saved-replies/%d", sr.ID), nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
}
