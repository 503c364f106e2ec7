package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
	"github.com/vernetzen/vernetzen/internal/org"
)

// channelOf returns the id of a channel on the unit itself.
func (e *testEnv) channelOf(unit string) int64 {
	e.t.Helper()
	chs, _, err := e.org.Channels(context.Background(), access.SystemPrincipal(), org.ChannelFilter{Unit: unit, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range chs {
		if c.Unit == unit {
			return c.ID
		}
	}
	e.t.Fatalf("no channel on unit %s", unit)
	return 0
}

func msgIn(channel int64, id, author, text string) map[string]any {
	return map[string]any{"channel": channel, "external_id": id, "kind": "comment",
		"author": map[string]any{"external_id": author, "name": "Name " + author, "handle": author},
		"text":   text, "created_at": time.Now().UTC().Format(time.RFC3339)}
}

type ingestAnswer struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Error      struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"error"`
}

type messageList struct {
	Items []inbox.Message `json:"items"`
	Total int             `json:"total"`
}

func TestInboxIngestClassifyRouteAndDedupe(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	de := e.channelOf("bmw-de")
	batch := map[string]any{"messages": []any{
		msgIn(de, "m1", "u1", "Was kostet das Leasing für einen X5 in Hamburg? Ich möchte eine Probefahrt machen."),
		msgIn(de, "m2", "u2", "Mein iDrive zeigt eine Warnung an, das Navi startet nicht mehr."),
		msgIn(de, "m3", "u3", "Tolles Video, traumhaftes Auto!"),
		msgIn(de, "m1", "u1", "the same message again in one batch"),
	}}
	var got ingestAnswer
	if st := e.do(adm, "POST", "/api/v1/messages", batch, &got); st != http.StatusAccepted || got.Accepted != 3 || got.Duplicates != 1 {
		t.Fatalf("ingest: %d %+v", st, got)
	}
	if st := e.do(adm, "POST", "/api/v1/messages", batch, &got); st != http.StatusAccepted || got.Accepted != 0 || got.Duplicates != 4 {
		t.Fatalf("ingest again: %d %+v", st, got)
	}
	var list messageList
	if st := e.do(adm, "GET", "/api/v1/messages?channel="+fmt.Sprint(de), nil, &list); st != 200 || list.Total != 3 {
		t.Fatalf("list: %d %+v", st, list)
	}
	byID := map[string]inbox.Message{}
	for _, m := range list.Items {
		byID[m.ExternalID] = m
	}
	m1 := byID["m1"]
	if m1.Intent != "purchase" || m1.Lang != "de" || len(m1.Models) != 1 || m1.Models[0] != "X5" || m1.Queue != "sales" {
		t.Fatalf("m1 classified as %+v", m1)
	}
	if m1.Unit != "bmw-hamburg-hafen" {
		t.Fatalf("m1 routed to %q, want the Hamburg dealer", m1.Unit)
	}
	if byID["m2"].Intent != "support" || byID["m2"].Unit != "bmw-de" || byID["m3"].Intent != "praise" {
		t.Fatalf("m2/m3: %+v %+v", byID["m2"], byID["m3"])
	}
	// Filters: intent, language, status, unit subtree, full text.
	for q, want := range map[string]int{
		"intent=purchase": 1, "lang=de": 3, "status=open": 3, "status=closed": 0, "unit=bmw-hamburg-hafen": 1,
		"unit=bmw": 3, "unit=mini": 0, "q=Navi": 1, "q=navi+startet": 1, "q=leasing%20X5": 1, "q=%22nothing%22": 0,
		"intent=praise&lang=de": 1,
	} {
		if st := e.do(adm, "GET", "/api/v1/messages?"+q, nil, &list); st != 200 || list.Total != want || len(list.Items) != want {
			t.Errorf("%s: %d total %d items %d, want %d", q, st, list.Total, len(list.Items), want)
		}
	}
	// The purchase became a lead of the dealer it was routed to.
	var ls struct {
		Items []leads.Lead `json:"items"`
		Total int          `json:"total"`
	}
	if st := e.do(adm, "GET", "/api/v1/leads", nil, &ls); st != 200 || ls.Total != 1 {
		t.Fatalf("leads: %d %+v", st, ls)
	}
	l := ls.Items[0]
	if l.Unit != "bmw-hamburg-hafen" || l.State != leads.StateNew || l.Interest != 1 || len(l.Models) != 1 || l.Score <= 50 {
		t.Fatalf("lead: %+v", l)
	}
	// Repeated interest from the same person updates the same lead.
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "m4", "u1", "Und was würde ein X3 im Leasing kosten? Gerne Angebot vom Händler in Hamburg."),
	}}, &got)
	e.do(adm, "GET", "/api/v1/leads", nil, &ls)
	if ls.Total != 1 || ls.Items[0].Interest != 2 || len(ls.Items[0].Models) != 2 || ls.Items[0].Score <= l.Score {
		t.Fatalf("lead after a second message: %+v (before %+v)", ls.Items, l)
	}
}

func TestInboxIngestRefusesBadBatchWhole(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	de := e.channelOf("bmw-de")
	bad := msgIn(de, "b2", "u", "hello")
	bad["kind"] = "tweet"
	noTime := msgIn(de, "b3", "u", "hello")
	noTime["created_at"] = "yesterday"
	for _, tc := range []struct {
		msgs  []any
		field string
	}{
		{[]any{msgIn(de, "b1", "u", "ok"), bad}, "messages[1].kind"},
		{[]any{msgIn(de, "b1", "u", "ok"), msgIn(de, "b2", "u", "ok"), noTime}, "messages[2].created_at"},
		{[]any{msgIn(de, "", "u", "ok")}, "messages[0].external_id"},
		{[]any{msgIn(999999, "b1", "u", "ok")}, "messages[0].channel"},
		{[]any{}, "messages"},
	} {
		var got ingestAnswer
		if st := e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": tc.msgs}, &got); st != 400 || got.Error.Field != tc.field {
			t.Errorf("want 400 on %s, got %d %+v", tc.field, st, got)
		}
	}
	var list messageList
	if e.do(adm, "GET", "/api/v1/messages", nil, &list); list.Total != 0 {
		t.Fatalf("a refused batch stored %d messages", list.Total)
	}
}

func TestInboxScope(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	ukMgr := e.user("uk@example.com", "bmw-uk", access.RoleManager)
	hhAgent := e.user("hh@example.com", "bmw-hamburg-hafen", access.RoleAgent)
	deSales := e.user("sales-de@example.com", "bmw-de", access.RoleSales)
	ukSales := e.user("sales-uk@example.com", "bmw-uk", access.RoleSales)
	de, uk := e.channelOf("bmw-de"), e.channelOf("bmw-uk")

	var got ingestAnswer
	// A UK manager may not push into a German channel; nothing of the batch is stored.
	if st := e.do(ukMgr, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(uk, "x1", "a", "hi"), msgIn(de, "x2", "b", "hi")}}, &got); st != 400 || got.Error.Field != "messages[1].channel" {
		t.Fatalf("out of scope: %d %+v", st, got)
	}
	// An agent may read but not ingest.
	if st := e.do(hhAgent, "POST", "/api/v1/messages", map[string]any{"messages": []any{msgIn(e.channelOf("bmw-hamburg-hafen"), "x3", "b", "hi")}}, &got); st != 403 {
		t.Fatalf("agent ingest: %d", st)
	}
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "d1", "p1", "Ich möchte einen X5 bestellen, gibt es einen Händler in Hamburg?"),
		msgIn(de, "d2", "p2", "Wann öffnet die BMW Welt am Sonntag?"),
		msgIn(uk, "u1", "p3", "How much would leasing a new X3 cost? I'd like a test drive."),
	}}, &got)
	var list messageList
	if e.do(hhAgent, "GET", "/api/v1/messages", nil, &list); list.Total != 1 || list.Items[0].ExternalID != "d1" {
		t.Fatalf("Hamburg agent sees %+v", list)
	}
	if e.do(ukMgr, "GET", "/api/v1/messages", nil, &list); list.Total != 1 || list.Items[0].ExternalID != "u1" {
		t.Fatalf("UK manager sees %+v", list)
	}
	// A message outside the caller's scope is not found.
	if e.do(adm, "GET", "/api/v1/messages?q=Welt", nil, &list); list.Total != 1 {
		t.Fatalf("search: %+v", list)
	}
	if st := e.do(ukMgr, "GET", fmt.Sprintf("/api/v1/messages/%d", list.Items[0].ID), nil, nil); st != 404 {
		t.Fatalf("foreign message: %d", st)
	}
	var ls struct {
		Items []leads.Lead `json:"items"`
		Total int          `json:"total"`
	}
	if e.do(deSales, "GET", "/api/v1/leads", nil, &ls); ls.Total != 1 || ls.Items[0].Unit != "bmw-hamburg-hafen" {
		t.Fatalf("DE sales sees %+v", ls)
	}
	if e.do(ukSales, "GET", "/api/v1/leads", nil, &ls); ls.Total != 1 || ls.Items[0].Unit != "bmw-uk" {
		t.Fatalf("UK sales sees %+v", ls)
	}
	ukLead := ls.Items[0].ID
	if st := e.do(deSales, "PATCH", fmt.Sprintf("/api/v1/leads/%d", ukLead), map[string]any{"state": "contacted"}, nil); st != 404 {
		t.Fatalf("foreign lead patch: %d", st)
	}
	if st := e.do(hhAgent, "GET", "/api/v1/leads", nil, nil); st != 403 {
		t.Fatalf("agent reads leads: %d", st)
	}
}

func TestInboxLeadStatesAndCSV(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	sales := e.user("sales@example.com", "bmw-uk", access.RoleSales)
	uk := e.channelOf("bmw-uk")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(uk, "u1", "p3", "=HYPERLINK(\"x\") How much would leasing a new X3 cost? I'd like a test drive."),
	}}, &got)
	var ls struct {
		Items []leads.Lead `json:"items"`
	}
	e.do(sales, "GET", "/api/v1/leads", nil, &ls)
	if len(ls.Items) != 1 {
		t.Fatalf("leads: %+v", ls)
	}
	path := fmt.Sprintf("/api/v1/leads/%d", ls.Items[0].ID)
	var l leads.Lead
	for _, step := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"state": "contacted"}, 200},
		{map[string]any{"state": "new"}, 409},
		{map[string]any{"state": "qualified"}, 200},
		{map[string]any{"state": "won"}, 400}, // needs an outcome
		{map[string]any{"state": "won", "outcome": "ordered an X3 xDrive20d"}, 200},
		{map[string]any{"state": "sold"}, 400},
	} {
		if st := e.do(sales, "PATCH", path, step.body, &l); st != step.want {
			t.Fatalf("%v: %d, want %d", step.body, st, step.want)
		}
	}
	if l.State != leads.StateWon || l.Outcome == "" {
		t.Fatalf("lead: %+v", l)
	}
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/export/leads.csv", nil)
	req.Header.Set("Authorization", "Bearer "+sales)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "won") || !strings.Contains(string(body), "X3") || strings.Contains(string(body), ",=HYPERLINK") {
		t.Fatalf("csv: %d %s", resp.StatusCode, body)
	}
}

func TestInboxConversationHandling(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	sales := e.user("sales@example.com", "bmw-de", access.RoleSales)
	de := e.channelOf("bmw-de")
	first := msgIn(de, "c1", "p1", "Mein Connected Drive funktioniert nicht")
	second := msgIn(de, "c2", "p1", "Immer noch kaputt, bitte helfen")
	second["kind"], second["in_reply_to"] = "reply", "c1"
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{first, second}}, &got)
	var list messageList
	e.do(agent, "GET", "/api/v1/messages", nil, &list)
	if list.Total != 2 || list.Items[0].Conversation != list.Items[1].Conversation {
		t.Fatalf("threading: %+v", list.Items)
	}
	id := list.Items[0].ID
	u, _, _ := e.store.UserByEmail(context.Background(), "agent@example.com")
	if st := e.do(agent, "PATCH", fmt.Sprintf("/api/v1/messages/%d", id), map[string]any{"status": "pending", "assigned_to": u.ID}, nil); st != 200 {
		t.Fatalf("assign: %d", st)
	}
	if st := e.do(agent, "PATCH", fmt.Sprintf("/api/v1/messages/%d", id), map[string]any{"assigned_to": 987654}, nil); st != 400 {
		t.Fatalf("assign to nobody known: %d", st)
	}
	if st := e.do(sales, "PATCH", fmt.Sprintf("/api/v1/messages/%d", id), map[string]any{"status": "closed"}, nil); st != 403 {
		t.Fatalf("sales closes: %d", st)
	}
	if st := e.do(agent, "POST", fmt.Sprintf("/api/v1/messages/%d/notes", id), map[string]any{"text": "called the customer"}, nil); st != 201 {
		t.Fatalf("note: %d", st)
	}
	var conv inbox.Conversation
	if st := e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d/conversation", id), nil, &conv); st != 200 ||
		len(conv.Messages) != 2 || len(conv.Notes) != 1 || conv.Status != "pending" || conv.Assigned != u.ID {
		t.Fatalf("conversation: %d %+v", st, conv)
	}
	if e.do(agent, "GET", "/api/v1/messages?status=pending&assigned_to="+fmt.Sprint(u.ID), nil, &list); list.Total != 2 {
		t.Fatalf("pending: %+v", list)
	}
}

// Items polled from a connected channel go through the inbox's pipeline:
// they are classified and routed like the batch API's.
func TestInboxPolledMessagesAreClassified(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	mgr := e.user("de@example.com", "bmw-de", access.RoleManager)
	id := e.channelByHandle("simulator", "bmw_de")
	if code, body := e.rawDo(mgr, "PUT", fmt.Sprintf("/api/v1/channels/%d/credentials", id), `{"identifier": "bmw_de"}`); code != 200 {
		t.Fatalf("connect: %d %s", code, body)
	}
	if _, err := e.conn.PollOnce(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	e.sim.Advance()
	for i := 0; i < 20; i++ {
		next, err := e.conn.PollOnce(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if next > 0 {
			break
		}
	}
	var list messageList
	if st := e.do(mgr, "GET", fmt.Sprintf("/api/v1/messages?channel=%d&limit=200", id), nil, &list); st != 200 || list.Total == 0 {
		t.Fatalf("list: %d %+v", st, list)
	}
	for _, m := range list.Items {
		if m.Intent == "" || m.Lang == "" || m.Queue == "" || m.Unit == "" || m.Conversation == "" {
			t.Fatalf("not classified or routed: %+v", m)
		}
	}
}

func TestInboxCRMWebhookSignedAndRetried(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	ukAdmin := e.user("ukadmin@example.com", "bmw-uk", access.RoleAdmin)
	const secret = "0123456789abcdef-crm"
	type call struct {
		key, sig string
		body     []byte
	}
	var calls []call
	fail := true
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls = append(calls, call{r.Header.Get("Idempotency-Key"), r.Header.Get("X-Vernetzen-Signature"), b})
		if fail {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer crm.Close()
	// Only group admins set the global webhook; a unit's admin sets its own.
	if st := e.do(ukAdmin, "PUT", "/api/v1/settings/crm", map[string]any{"url": crm.URL, "secret": secret}, nil); st != 403 {
		t.Fatalf("unit admin sets the global CRM: %d", st)
	}
	var cs leads.CRMSettings
	if st := e.do(ukAdmin, "PUT", "/api/v1/settings/crm", map[string]any{"unit": "bmw-uk", "url": crm.URL, "secret": secret}, &cs); st != 200 || !cs.HasSecret {
		t.Fatalf("set CRM: %d %+v", st, cs)
	}
	if raw, _ := e.store.Setting(ctx, leads.SettingCRMSecret+":bmw-uk"); raw == secret || !strings.HasPrefix(raw, "v1.") {
		t.Fatalf("the CRM secret is not sealed at rest: %q", raw)
	}
	uk, de := e.channelOf("bmw-uk"), e.channelOf("bmw-de")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(uk, "u1", "p3", "How much would leasing a new X3 cost? I'd like a test drive."),
		msgIn(de, "d1", "p4", "Was kostet ein X5 im Leasing? Ich möchte bestellen."),
	}}, &got)
	// The CRM fails: the lead stays pending and is tried again.
	if _, err := e.leads.ExportOnce(ctx); err == nil {
		t.Fatal("a failing CRM reported no error")
	}
	fail = false
	if _, err := e.leads.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.leads.ExportOnce(ctx); err != nil { // nothing left
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].key != calls[1].key || calls[0].key == "" {
		t.Fatalf("calls: %d %+v", len(calls), calls)
	}
	c := calls[1]
	ts, _, _ := strings.Cut(strings.TrimPrefix(c.sig, "t="), ",")
	n, _ := strconv.ParseInt(ts, 10, 64)
	if c.sig != leads.Sign(secret, n, c.body) || !strings.Contains(string(c.body), `"unit":"bmw-uk"`) {
		t.Fatalf("delivery: %s %s", c.sig, c.body)
	}
	// A state change is a new version: delivered once more, with a new key.
	var ls struct {
		Items []leads.Lead `json:"items"`
	}
	e.do(adm, "GET", "/api/v1/leads?unit=bmw-uk", nil, &ls)
	e.clock.Add(time.Second)
	time.Sleep(2 * time.Millisecond)
	if st := e.do(adm, "PATCH", fmt.Sprintf("/api/v1/leads/%d", ls.Items[0].ID), map[string]any{"state": "contacted"}, nil); st != 200 {
		t.Fatalf("patch: %d", st)
	}
	if _, err := e.leads.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[2].key == calls[1].key || !strings.Contains(string(calls[2].body), `"state":"contacted"`) {
		t.Fatalf("after the change: %d calls, last %s", len(calls), calls[len(calls)-1].body)
	}
}

// Without a secret key the hub refuses to store a CRM secret, as it
// refuses platform credentials.
func TestCRMSecretNeedsAKey(t *testing.T) {
	e := newTestEnv(t)
	e.leads = leads.NewService(leads.Config{Store: e.store, Export: e.store})
	e.server.Leads = e.leads
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	var ae apiError
	code := e.do(adm, "PUT", "/api/v1/settings/crm", map[string]string{"url": "https://crm.example/hook", "secret": "0123456789abcdef0123"}, &ae)
	if code != 503 || !strings.Contains(ae.Error.Message, "secret key") {
		t.Fatalf("%d %+v", code, ae)
	}
	if v, _ := e.store.Setting(context.Background(), leads.SettingCRMSecret); v != "" {
		t.Fatalf("the secret was stored: %q", v)
	}
}
