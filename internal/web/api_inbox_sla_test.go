package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

func TestInboxSLA(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	e.user("agent2@example.com", "bmw-de", access.RoleAgent)

	var bad apiErr
	if st := e.do(adm, "PUT", "/api/v1/inbox/sla", map[string]any{"unit": "bmw-de", "business_hours": map[string]any{"days": []string{"mon", "funday"}, "start": "09:00", "end": "18:00"}}, &bad); st != 400 || bad.Error.Field != "business_hours.days" {
		t.Fatalf("bad day: %d %+v", st, bad)
	}
	if st := e.do(agent, "PUT", "/api/v1/inbox/sla", map[string]any{"unit": "bmw-de", "targets": map[string]int{"default": 5}}, nil); st != 403 {
		t.Fatalf("agent sets SLA: %d", st)
	}
	var v inbox.SLAView
	if st := e.do(adm, "PUT", "/api/v1/inbox/sla", map[string]any{"unit": "bmw-de", "targets": map[string]int{"default": 240, "sales": 240}}, &v); st != 200 ||
		v.Targets["sales"] != 240 || v.Targets["support"] != 240 || v.Own[""] != 240 || v.TimeZone != "Europe/Berlin" || v.BusinessHours != nil {
		t.Fatalf("set SLA: %d %+v", st, v)
	}
	v = inbox.SLAView{}
	if st := e.do(agent, "GET", "/api/v1/inbox/sla?unit=bmw-muenchen-nord", nil, &v); st != 200 || v.Targets["care"] != 240 || len(v.Own) != 0 {
		t.Fatalf("inherited SLA: %d %+v", st, v)
	}
	if st := e.do(agent, "GET", "/api/v1/inbox/sla?unit=bmw-uk", nil, nil); st != 404 {
		t.Fatalf("another market's SLA: %d", st)
	}

	// Messages that arrived 5 h, 3.5 h and 1 h ago: breached, due soon, ok.
	de := e.channelOf("bmw-de")
	for i, ago := range []time.Duration{5 * time.Hour, 210 * time.Minute, time.Hour} {
		svc := inbox.NewService(inbox.Config{Store: e.store, Now: func() time.Time { return time.Now().Add(-ago) }})
		if _, err := svc.Ingest(ctx, access.SystemPrincipal(), []inbox.MessageInput{{Channel: de, ExternalID: fmt.Sprintf("sla%d", i), Kind: "comment",
			Author: inbox.AuthorInput{ExternalID: fmt.Sprintf("a%d", i)}, Text: fmt.Sprintf("Frage %d: wann öffnet der Laden?", i),
			CreatedAt: time.Now().Add(-ago).Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
	}
	var list messageList
	if e.do(agent, "GET", "/api/v1/messages?sla=breached", nil, &list); list.Total != 1 || list.Items[0].ExternalID != "sla0" || list.Items[0].SLA != "breached" {
		t.Fatalf("breached: %+v", list)
	}
	breached := list.Items[0].ID
	if e.do(agent, "GET", "/api/v1/messages?sla=due_soon", nil, &list); list.Total != 1 || list.Items[0].ExternalID != "sla1" || list.Items[0].SLA != "due_soon" {
		t.Fatalf("due soon: %+v", list)
	}
	if e.do(agent, "GET", "/api/v1/messages", nil, &list); list.Total != 3 || list.Items[0].SLA != "ok" || list.Items[0].SLADueAt == nil {
		t.Fatalf("all: %+v", list)
	}
	if st := e.do(agent, "GET", "/api/v1/messages?sla=late", nil, &bad); st != 400 || bad.Error.Field != "sla" {
		t.Fatalf("bad sla filter: %d %+v", st, bad)
	}
	b := e.browser()
	b.login("agent2@example.com")
	if st, body := b.get("/inbox"); st != 200 || !strings.Contains(body, "SLA breached") || !strings.Contains(body, "due soon") {
		t.Fatalf("inbox warnings: %d\n%s", st, body)
	}
	if st, body := b.get("/inbox?sla=breached"); st != 200 || !strings.Contains(body, "Frage 0") || strings.Contains(body, "Frage 1") {
		t.Fatalf("breached filter page: %d\n%s", st, body)
	}
	// Answering ends the wait: the message is no longer breached.
	if st := e.do(agent, "POST", fmt.Sprintf("/api/v1/messages/%d/replies", breached), map[string]any{"text": "Um neun."}, nil); st != 201 {
		t.Fatalf("reply: %d", st)
	}
	if e.do(agent, "GET", "/api/v1/messages?sla=breached", nil, &list); list.Total != 0 {
		t.Fatalf("breached after the reply: %+v", list)
	}
	var m inbox.Message
	if e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d", breached), nil, &m); m.SLA != "met" || m.FirstResponseAt == nil {
		t.Fatalf("answered: %+v", m)
	}
}
