package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/demo"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// testNode is one hub process of several sharing a PostgreSQL database:
// its own pools, services and HTTP server.
type testNode struct {
	store  *store.Store
	org    *org.Service
	access *access.Service
	inbox  *inbox.Service
	url    string
}

func startTestNode(t *testing.T, dsn string) *testNode {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	orgSvc := org.NewService(st, st.OrgTx)
	accSvc := access.NewService(st)
	in := inbox.NewService(inbox.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(in.Close)
	if err := in.ShareEvents(ctx, st); err != nil {
		t.Fatalf("share events: %v", err)
	}
	srv := New(Config{Org: orgSvc, Access: accSvc, Inbox: in, DB: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testNode{store: st, org: orgSvc, access: accSvc, inbox: in, url: hs.URL}
}

// sseStream reads a server-sent event stream's "message" events.
type sseStream struct {
	events chan inbox.Event
}

func openSSE(t *testing.T, ctx context.Context, url, token string) *sseStream {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{events: make(chan inbox.Event, 16)}
	connected := make(chan bool)
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == ": connected":
				close(connected)
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "message":
				var ev inbox.Event
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev) == nil {
					s.events <- ev
				}
			case line == "":
				event = ""
			}
		}
	}()
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("the event stream did not start")
	}
	return s
}

// next waits for the stream's next message event (the test's deadline,
// not a timed assertion, bounds the wait).
func (s *sseStream) next(t *testing.T, ctx context.Context) inbox.Event {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-ctx.Done():
		t.Fatal("no event arrived")
	}
	return inbox.Event{}
}

// TestInboxEventsAcrossNodes runs two hub nodes on one PostgreSQL
// database: a message ingested through node A reaches an inbox page's
// event stream open on node B, and only the streams of callers whose
// units hold it.
func TestInboxEventsAcrossNodes(t *testing.T) {
	if storetest.PostgresDSN() == "" {
		t.Skip("set VERNETZEN_TEST_POSTGRES: events cross nodes through PostgreSQL")
	}
	dsn, _ := storetest.Config(t)
	a := startTestNode(t, dsn)
	b := startTestNode(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.store.SyncPlatforms(ctx, org.Platforms); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, a.org); err != nil {
		t.Fatal(err)
	}
	token := func(email, unit string, role access.Role) string {
		sys := access.SystemPrincipal()
		if _, _, err := a.access.CreateUser(ctx, sys, access.UserInput{Email: email, Name: email, Password: "password-" + email}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.access.Grant(ctx, sys, access.GrantInput{User: email, Unit: unit, Role: role}); err != nil {
			t.Fatal(err)
		}
		u, _, err := a.store.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := a.access.CreateToken(ctx, &access.Principal{User: u}, access.TokenInput{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ingester := token("ingest@example.com", "group", access.RoleAdmin)
	deAgent := token("de@example.com", "bmw-de", access.RoleAgent)
	ukAgent := token("uk@example.com", "bmw-uk", access.RoleAgent)
	channelOf := func(unit string) int64 {
		chs, _, err := a.org.Channels(ctx, access.SystemPrincipal(), org.ChannelFilter{Unit: unit, Limit: 500})
		if err != nil || len(chs) == 0 {
			t.Fatalf("channels of %s: %v", unit, err)
		}
		for _, c := range chs {
			if c.Unit == unit {
				return c.ID
			}
		}
		t.Fatalf("no channel of %s itself", unit)
		return 0
	}

	deStream := openSSE(t, ctx, b.url+"/inbox/events", deAgent)
	ukStream := openSSE(t, ctx, b.url+"/inbox/events", ukAgent)

	ingest := func(channel int64, ext, text string) int64 {
		body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"channel": channel, "external_id": ext, "kind": "comment",
			"author": map[string]any{"external_id": "au-" + ext, "name": "Kim"}, "text": text, "created_at": time.Now().UTC().Format(time.RFC3339)}}})
		req, _ := http.NewRequestWithContext(ctx, "POST", a.url+"/api/v1/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ingester)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("ingest on node A: %d", resp.StatusCode)
		}
		msgs, _, err := a.store.Messages(ctx, nil, inbox.Filter{Limit: 1})
		if err != nil || len(msgs) == 0 {
			t.Fatalf("stored: %v", err)
		}
		return msgs[0].ID
	}
	deID := ingest(channelOf("bmw-de"), "n1", "Gibt es den X5 noch als Vorführwagen?")
	if ev := deStream.next(t, ctx); ev.ID != deID || ev.Intent == "" {
		t.Fatalf("node B's German agent got %+v, want message %d", ev, deID)
	}
	// The British agent's stream skipped the German message: its first
	// event is the British one that came after it.
	ukID := ingest(channelOf("bmw-uk"), "n2", "Is the iX available for a test drive in London?")
	if ev := ukStream.next(t, ctx); ev.ID != ukID {
		t.Fatalf("node B's British agent got %+v, want message %d (and never %d)", ev, ukID, deID)
	}
	// Node A's own pages hear it the same way (its listener, not a
	// shortcut), once.
	aStream := openSSE(t, ctx, a.url+"/inbox/events", deAgent)
	third := ingest(channelOf("bmw-de"), "n3", "Danke für die schnelle Antwort!")
	if ev := aStream.next(t, ctx); ev.ID != third {
		t.Fatalf("node A's stream got %+v, want %d", ev, third)
	}
	if ev := deStream.next(t, ctx); ev.ID != third {
		t.Fatalf("node B's German agent got %+v, want %d", ev, third)
	}

	// Settings changed on node A apply on node B to the next message,
	// however fresh B's copy of them: a routing rule made through A, then
	// a message through A whose event B hears after the rule's
	// notification (PostgreSQL delivers them in commit order), then a
	// message through B.
	ingestOn := func(node *testNode, ext, text string) {
		body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"channel": channelOf("bmw-de"), "external_id": ext, "kind": "comment",
			"author": map[string]any{"external_id": "au-" + ext}, "text": text, "created_at": time.Now().UTC().Format(time.RFC3339)}}})
		req, _ := http.NewRequestWithContext(ctx, "POST", node.url+"/api/v1/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ingester)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("ingest on %s: %d", node.url, resp.StatusCode)
		}
	}
	ingestOn(b, "n4", "Ein Gruß aus der Flotte") // B loads its copy of the settings
	if ev := deStream.next(t, ctx); ev.ID == 0 {
		t.Fatal("no event for n4")
	}
	sys := access.SystemPrincipal()
	if _, err := a.inbox.CreateRoutingRule(ctx, sys, inbox.RoutingRuleInput{Unit: "bmw-de", Keywords: []string{"Flotte"}, Queue: "fleet"}); err != nil {
		t.Fatal(err)
	}
	marker := ingest(channelOf("bmw-de"), "n5", "Noch eine Frage zum Service")
	if ev := deStream.next(t, ctx); ev.ID != marker {
		t.Fatalf("node B's stream got %+v, want %d", ev, marker)
	}
	ingestOn(b, "n6", "Angebot für unsere Flotte bitte")
	msgs, _, err := a.store.Messages(ctx, nil, inbox.Filter{Limit: 1})
	if err != nil || len(msgs) == 0 || msgs[0].ExternalID != "n6" || msgs[0].Queue != "fleet" {
		t.Fatalf("node B routed %+v without node A's new rule", msgs)
	}
}
