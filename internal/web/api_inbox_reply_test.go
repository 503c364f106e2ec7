package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// ingestOn stores one message per text on a channel and returns their ids
// (newest last).
func (e *testEnv) ingestOn(tok string, channel int64, prefix string, texts ...string) []int64 {
	e.t.Helper()
	var batch []any
	for i, text := range texts {
		batch = append(batch, msgIn(channel, fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("%s-author%d", prefix, i), text))
	}
	var got ingestAnswer
	if st := e.do(tok, "POST", "/api/v1/messages", map[string]any{"messages": batch}, &got); st != 202 || got.Accepted != len(texts) {
		e.t.Fatalf("ingest: %d %+v", st, got)
	}
	var list messageList
	e.do(tok, "GET", fmt.Sprintf("/api/v1/messages?channel=%d&status=open&limit=%d", channel, len(texts)), nil, &list)
	ids := make([]int64, len(list.Items))
	for i, m := range list.Items {
		ids[len(ids)-1-i] = m.ID
	}
	return ids
}

// waitReplies waits until every reply of a message's conversation is
// settled (published, failed or unknown).
func (e *testEnv) waitReplies(tok string, id int64, within time.Duration) inbox.Conversation {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var c inbox.Conversation
		if st := e.do(tok, "GET", fmt.Sprintf("/api/v1/messages/%d/conversation", id), nil, &c); st != 200 {
			e.t.Fatalf("conversation: %d", st)
		}
		done := len(c.Replies) > 0
		for _, r := range c.Replies {
			if r.Status == inbox.ReplyScheduled || r.Status == inbox.ReplyPublishing {
				done = false
			}
		}
		if done {
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("replies not settled: %+v", c.Replies)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInboxReplySentThroughConnector(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	uk := e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	sales := e.user("sales@example.com", "bmw-de", access.RoleSales)
	ch := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(ch, "bmw_de")
	id := e.ingestOn(adm, ch, "r", "Mein Navi startet nicht mehr, was kann ich tun?")[0]
	path := fmt.Sprintf("/api/v1/messages/%d/replies", id)

	var bad apiErr
	if st := e.do(agent, "POST", path, map[string]any{"text": "  "}, &bad); st != 400 || bad.Error.Field != "text" {
		t.Fatalf("empty reply: %d %+v", st, bad)
	}
	if st := e.do(agent, "POST", path, map[string]any{"text": strings.Repeat("x", sim.MaxChars+1)}, &bad); st != 400 || bad.Error.Field != "text" {
		t.Fatalf("too long for the platform: %d %+v", st, bad)
	}
	if st := e.do(uk, "POST", path, map[string]any{"text": "hello"}, nil); st != 404 {
		t.Fatalf("another market's agent: %d", st)
	}
	if st := e.do(sales, "POST", path, map[string]any{"text": "hello"}, nil); st != 403 {
		t.Fatalf("sales replies: %d", st)
	}
	if e.countRows("message_replies") != 0 {
		t.Fatal("a refused reply was stored")
	}
	before := e.simPosts("bmw_de")
	var r inbox.Reply
	if st := e.do(agent, "POST", path, map[string]any{"text": "Bitte starten Sie das System neu."}, &r); st != 201 ||
		r.ID == 0 || r.Status != inbox.ReplyScheduled || r.PlatformPostID != "" {
		t.Fatalf("reply: %d %+v", st, r)
	}
	// Stored with its job: the queue, started later, sends it.
	e.startInboxQueue(t)
	if _, err := e.inbox.ResumeReplies(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := e.waitReplies(agent, id, 20*time.Second)
	got := c.Replies[0]
	if got.Status != inbox.ReplyPublished || got.PlatformPostID == "" || !strings.HasPrefix(got.URL, e.http.URL) || got.Error != "" || got.Attempts != 1 {
		t.Fatalf("published reply: %+v", got)
	}
	if c.FirstResponseAt == nil || got.Author != "agent@example.com" {
		t.Fatalf("first response: %+v", c)
	}
	var m inbox.Message
	e.do(agent, "GET", fmt.Sprintf("/api/v1/messages/%d", id), nil, &m)
	if m.FirstResponseAt == nil {
		t.Fatalf("message's first response: %+v", m)
	}
	if n := e.simPosts("bmw_de"); n != before+1 {
		t.Fatalf("platform has %d new posts, want 1", n-before)
	}

	// A channel that is not connected: the reply fails with the reason.
	other := e.channelByHandle("simulator", "bmw_uk")
	oid := e.ingestOn(adm, other, "u", "Where is my nearest dealer?")[0]
	if st := e.do(uk, "POST", fmt.Sprintf("/api/v1/messages/%d/replies", oid), map[string]any{"text": "Here"}, &r); st != 201 {
		t.Fatalf("reply uk: %d", st)
	}
	c = e.waitReplies(uk, oid, 20*time.Second)
	if c.Replies[0].Status != inbox.ReplyFailed || !strings.Contains(c.Replies[0].Error, "not connected") {
		t.Fatalf("unconnected: %+v", c.Replies[0])
	}
}

// Replies under 429s, 503s and slow answers are each published exactly
// once.
func TestInboxRepliesExactlyOnceUnderFaults(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	ch := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(ch, "bmw_de")
	const n = 12
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("Frage Nummer %d zum Connected Drive", i)
	}
	ids := e.ingestOn(adm, ch, "f", texts...)
	before := e.simPosts("bmw_de")
	e.startInboxQueue(t)
	e.sim.SetFaults(sim.Faults{RateLimited: 0.2, Unavailable: 0.2, Slow: 0.1, SlowDelay: 30 * time.Millisecond, RateLimitReset: 200 * time.Millisecond})
	for i, id := range ids {
		if st := e.do(agent, "POST", fmt.Sprintf("/api/v1/messages/%d/replies", id), map[string]any{"text": fmt.Sprintf("Antwort %d", i)}, nil); st != 201 {
			t.Fatalf("reply %d: %d", i, st)
		}
	}
	for _, id := range ids {
		c := e.waitReplies(agent, id, 60*time.Second)
		if r := c.Replies[0]; r.Status != inbox.ReplyPublished {
			t.Errorf("reply: %+v", r)
		}
	}
	e.sim.SetFaults(sim.Faults{})
	if got := e.simPosts("bmw_de") - before; got != n {
		t.Fatalf("platform has %d replies, want %d", got, n)
	}
}

// A crash between the platform's answer and the mark leaves the reply
// "publishing"; the next step looks it up instead of sending it again.
func TestInboxReplyCrashReconciles(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	agent := e.user("agent@example.com", "bmw-de", access.RoleAgent)
	ch := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(ch, "bmw_de")
	id := e.ingestOn(adm, ch, "k", "Ist der iX schon lieferbar?")[0]
	var r inbox.Reply
	if st := e.do(agent, "POST", fmt.Sprintf("/api/v1/messages/%d/replies", id), map[string]any{"text": "Ja, ab sofort."}, &r); st != 201 {
		t.Fatalf("reply: %d", st)
	}
	before := e.simPosts("bmw_de")
	svc := inbox.NewService(inbox.Config{Store: e.store, Accounts: e.conn, Registry: e.conn.Registry, Lease: time.Millisecond,
		AfterReplyAnswer: func(int64, error) error { return errors.New("killed") }})
	if _, err := svc.DeliverReply(ctx, r.ID); err == nil || err.Error() != "killed" {
		t.Fatalf("crash step: %v", err)
	}
	got, err := e.store.ReplyByID(ctx, r.ID)
	if err != nil || got.Status != inbox.ReplyPublishing || e.simPosts("bmw_de") != before+1 {
		t.Fatalf("after crash: %+v %v", got, err)
	}
	time.Sleep(5 * time.Millisecond)
	svc = inbox.NewService(inbox.Config{Store: e.store, Accounts: e.conn, Registry: e.conn.Registry, Lease: time.Millisecond})
	if next, err := svc.DeliverReply(ctx, r.ID); err != nil || next != 0 {
		t.Fatalf("reconcile: %v %v", next, err)
	}
	if got, _ = e.store.ReplyByID(ctx, r.ID); got.Status != inbox.ReplyPublished || got.PlatformPostID == "" || got.Attempts != 1 {
		t.Fatalf("reconciled: %+v", got)
	}
	if e.simPosts("bmw_de") != before+1 {
		t.Fatal("the reply was sent twice")
	}
}

// Open inbox pages hear of new messages in their units, and only those.
func TestInboxEventsScopedToUnits(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	uk := e.user("uk@example.com", "bmw-uk", access.RoleAgent)
	old := inboxHeartbeat
	inboxHeartbeat = 50 * time.Millisecond
	t.Cleanup(func() { inboxHeartbeat = old })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/inbox/events", nil)
	req.Header.Set("Authorization", "Bearer "+uk)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	de := e.ingestOn(adm, e.channelOf("bmw-de"), "d", "Hallo aus Deutschland")[0]
	ukID := e.ingestOn(adm, e.channelOf("bmw-uk"), "u", "Hello from Britain")[0]
	var data []string
	heartbeat := false
	timeout := time.After(10 * time.Second)
	for len(data) == 0 || !heartbeat {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.HasPrefix(l, "data: ") {
				data = append(data, l)
			}
			if l == ": heartbeat" {
				heartbeat = true
			}
		case <-timeout:
			t.Fatalf("no event: %v heartbeat %v", data, heartbeat)
		}
	}
	if len(data) != 1 || !strings.Contains(data[0], fmt.Sprintf(`"id":%d`, ukID)) || strings.Contains(data[0], fmt.Sprintf(`"id":%d`, de)) {
		t.Fatalf("events: %v", data)
	}
	// The service closing (server shutdown) ends the stream.
	e.inbox.Close()
	for range lines {
	}
}

func TestUIInboxReply(t *testing.T) {
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("agent@example.com", "bmw-de", access.RoleAgent)
	ch := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(ch, "bmw_de")
	id := e.ingestOn(adm, ch, "w", "Wann kommt der neue M3?")[0]
	e.startInboxQueue(t)
	b := e.browser()
	b.login("agent@example.com")
	path := fmt.Sprintf("/inbox/%d", id)
	if st, body := b.get(path); st != 200 || !strings.Contains(body, `id="reply-text"`) || !strings.Contains(body, "inbox.js") {
		t.Fatalf("reply box: %d\n%s", st, body)
	}
	if st, loc, _ := b.post(path+"/replies", url.Values{"text": {""}}); st != http.StatusSeeOther || loc != path {
		t.Fatalf("empty reply: %d %s", st, loc)
	}
	if st, loc, _ := b.post(path+"/replies", url.Values{"text": {"Im Frühjahr!"}}); st != http.StatusSeeOther || loc != path {
		t.Fatalf("reply: %d %s", st, loc)
	}
	e.waitReplies(adm, id, 20*time.Second)
	if st, body := b.get(path); st != 200 || !strings.Contains(body, "Im Frühjahr!") || !strings.Contains(body, "rs-published") || !strings.Contains(body, "first response") {
		t.Fatalf("after reply: %d\n%s", st, body)
	}
	if st, body := b.get("/static/inbox.js"); st != 200 || !strings.Contains(body, "EventSource") {
		t.Fatalf("script: %d", st)
	}
}
