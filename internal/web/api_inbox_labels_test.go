package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
)

// An agent corrects what the classifier read: the message's queue
// follows, purchase intent brings the author's lead, bad input changes
// nothing, a message outside the agent's units is not found, and the
// corrections export as the classifier's labelled data, per scope.
func TestIntentCorrections(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	deAgent := e.user("agent-de@example.com", "bmw-de", access.RoleAgent)
	ukAgent := e.user("agent-uk@example.com", "bmw-uk", access.RoleAgent)
	de, uk := e.channelOf("bmw-de"), e.channelOf("bmw-uk")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "c1", "p1", "Der neue iX3 steht bei mir ganz oben auf der Liste, meldet euch mal"),
		msgIn(uk, "c2", "p2", "Great video, love the colour!"),
	}}, &got)
	var list messageList
	e.do(adm, "GET", "/api/v1/messages?channel="+fmt.Sprint(de), nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("messages: %+v", list)
	}
	m := list.Items[0]
	wrong := "question"
	if m.Intent == wrong {
		wrong = "other"
	}
	// Make sure the message starts as something else than purchase.
	if st := e.do(adm, "PUT", fmt.Sprintf("/api/v1/messages/%d/intent", m.ID), map[string]any{"intent": wrong}, &m); st != 200 || m.Intent != wrong || m.Queue != inbox.QueueFor(wrong) {
		t.Fatalf("set %s: %d %+v", wrong, st, m)
	}
	var ls struct {
		Items []leads.Lead `json:"items"`
		Total int          `json:"total"`
	}
	e.do(adm, "GET", "/api/v1/leads", nil, &ls)
	before := ls.Total

	// Bad input: named, nothing changed.
	var fail ingestAnswer
	if st := e.do(deAgent, "PUT", fmt.Sprintf("/api/v1/messages/%d/intent", m.ID), map[string]any{"intent": "buy"}, &fail); st != 400 || fail.Error.Field != "intent" {
		t.Fatalf("bad intent: %d %+v", st, fail)
	}
	// Another market's agent: not found.
	if st := e.do(ukAgent, "PUT", fmt.Sprintf("/api/v1/messages/%d/intent", m.ID), map[string]any{"intent": "purchase"}, nil); st != 404 {
		t.Fatalf("foreign agent: %d", st)
	}
	var now inbox.Message
	e.do(adm, "GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil, &now)
	if now.Intent != wrong {
		t.Fatalf("refused corrections changed the intent to %s", now.Intent)
	}

	// The German agent reads purchase intent: sales queue, and a lead.
	if st := e.do(deAgent, "PUT", fmt.Sprintf("/api/v1/messages/%d/intent", m.ID), map[string]any{"intent": "purchase"}, &m); st != 200 {
		t.Fatalf("correct: %d", st)
	}
	if m.Intent != "purchase" || m.Queue != "sales" || m.LeadID == 0 {
		t.Fatalf("after correction: %+v", m)
	}
	e.do(adm, "GET", "/api/v1/leads", nil, &ls)
	if ls.Total != before+1 {
		t.Fatalf("leads %d, want %d", ls.Total, before+1)
	}

	// The export, in the classifier's format, per scope.
	export := func(token string) []classify.Record {
		t.Helper()
		req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/export/intent-corrections.jsonl", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
			t.Fatalf("export: %d %s", resp.StatusCode, body)
		}
		recs, err := classify.LoadRecords(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("export is not labelled data: %v\n%s", err, body)
		}
		return recs
	}
	if recs := export(deAgent); len(recs) != 1 || recs[0].Intent != "purchase" || recs[0].Text != m.Text || recs[0].Lang != "de" {
		t.Fatalf("German export: %+v", recs)
	}
	if recs := export(ukAgent); len(recs) != 0 {
		t.Fatalf("UK export shows another market's corrections: %+v", recs)
	}
	if st := e.do(adm, "GET", "/api/v1/export/intent-corrections.jsonl?since=yesterday", nil, &fail); st != 400 || fail.Error.Field != "since" {
		t.Fatalf("bad since: %d %+v", st, fail)
	}
}

// The message list filters by queue; an unknown language or a malformed
// queue is refused, naming the filter.
func TestInboxQueueAndLanguageFilters(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	de := e.channelOf("bmw-de")
	var got ingestAnswer
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{
		msgIn(de, "q1", "p1", "Was kostet das Leasing für einen X5? Ich möchte eine Probefahrt machen."),
		msgIn(de, "q2", "p2", "Mein iDrive zeigt eine Warnung an, das Navi startet nicht mehr."),
	}}, &got)
	var list messageList
	if st := e.do(adm, "GET", "/api/v1/messages?queue=sales", nil, &list); st != 200 || list.Total != 1 || list.Items[0].ExternalID != "q1" {
		t.Fatalf("queue=sales: %d %+v", st, list)
	}
	if st := e.do(adm, "GET", "/api/v1/messages?queue=support", nil, &list); st != 200 || list.Total != 1 || list.Items[0].ExternalID != "q2" {
		t.Fatalf("queue=support: %d %+v", st, list)
	}
	for q, field := range map[string]string{"lang=xx": "lang", "queue=Sales%21": "queue"} {
		var fail ingestAnswer
		if st := e.do(adm, "GET", "/api/v1/messages?"+q, nil, &fail); st != 400 || fail.Error.Field != field {
			t.Errorf("%s: %d %+v", q, st, fail)
		}
	}
}

// The classifier learns from the agents' corrections: wording it reads
// wrong, corrected a few times, is read right in the next message.
func TestClassifierLearnsFromCorrections(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	de := e.channelOf("bmw-de")
	var got ingestAnswer
	// Made-up slang the labelled data has never seen.
	texts := []string{"zorblek den X3 fürs Geschäft", "zorblek iX1 bis Juni?", "zorblek jemand einen i4 für mich",
		"wir zorbleken zwei X5", "zorblek den neuen X1 bitte", "zorblek mir einen M3"}
	var batch []any
	for i, text := range texts {
		batch = append(batch, msgIn(de, fmt.Sprintf("z%d", i), fmt.Sprintf("zp%d", i), text))
	}
	e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": batch}, &got)
	var list messageList
	e.do(adm, "GET", "/api/v1/messages?q=zorblek", nil, &list)
	for _, m := range list.Items {
		if m.Intent != "purchase" {
			if st := e.do(adm, "PUT", fmt.Sprintf("/api/v1/messages/%d/intent", m.ID), map[string]any{"intent": "purchase"}, nil); st != 200 {
				t.Fatalf("correct: %d", st)
			}
		}
	}
	probe := "zorblek einen X2"
	before := classify.New(classify.DefaultCatalogue()).Classify(probe)
	if before.Intent == "purchase" {
		t.Fatalf("the shipped classifier already reads %q as purchase: pick a probe it reads wrong", probe)
	}
	// The next ingest after the directory's reload notices the corrections
	// and trains a new classifier in the background; messages go on with
	// the old one meanwhile, then take the new one.
	e.inbox.Invalidate()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{msgIn(de, fmt.Sprint("probe", i), fmt.Sprint("pp", i), probe)}}, &got)
		var m messageList
		e.do(adm, "GET", "/api/v1/messages?channel="+fmt.Sprint(de)+"&q=X2&limit=1", nil, &m)
		if len(m.Items) == 1 && m.Items[0].Intent == "purchase" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d corrections the probe still reads as %+v (the shipped model: %s)", len(texts), m.Items, before.Intent)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
