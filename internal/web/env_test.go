package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/all"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/demo"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
	"github.com/vernetzen/vernetzen/internal/secret"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// testEnv is a running hub over a real store (SQLite, or PostgreSQL when
// VERNETZEN_TEST_POSTGRES is set) with the demo organisation loaded.
type testEnv struct {
	t      *testing.T
	store  *store.Store
	org    *org.Service
	access *access.Service
	conn   *connection.Service
	sim    *sim.Server
	clock  *testClock // the simulated network's clock
	// Built by testPublishService and testInboxServices; nil until those
	// areas exist.
	publish *publish.Service
	inbox   *inbox.Service
	leads   *leads.Service
	server  *Server
	http    *httptest.Server
}

func newTestEnv(t *testing.T) *testEnv { return newTestEnvWith(t, true) }

// newTestEnvMap loads only the interview's channel map (14 units, 26
// channels), without the demo's markets and dealers.
func newTestEnvMap(t *testing.T) *testEnv { return newTestEnvWith(t, false) }

func newTestEnvWith(t *testing.T, additions bool) *testEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	if err := st.SyncPlatforms(ctx, org.Platforms); err != nil {
		t.Fatal(err)
	}
	orgSvc := org.NewService(st, st.OrgTx)
	if additions {
		if _, err := demo.Load(ctx, orgSvc); err != nil {
			t.Fatal(err)
		}
	} else {
		m, err := org.ParseMap("group-channels.yaml", bytes.NewReader(demo.GroupChannels()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orgSvc.Import(ctx, access.SystemPrincipal(), "group-channels.yaml", m); err != nil {
			t.Fatal(err)
		}
	}
	accSvc := access.NewService(st)
	// The server needs its own URL (for the simulator's address and OAuth
	// callbacks) before it is built: start an empty mux, then fill it.
	outer := http.NewServeMux()
	hs := httptest.NewServer(outer)
	t.Cleanup(hs.Close)
	box, err := secret.New(secret.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	registry := all.Registry(connector.Options{Limiter: connector.NewLimiter()})
	connSvc := connection.NewService(connection.Config{Store: st, InTx: st.ConnTx, Org: orgSvc, Registry: registry, Box: box,
		Log: logger, PublicURL: hs.URL})
	clock := &testClock{t: time.Now()}
	simServer := sim.NewServer(sim.Config{Seed: 7, Now: clock.Now})
	env := &testEnv{t: t, store: st, org: orgSvc, access: accSvc, conn: connSvc, sim: simServer, clock: clock, http: hs}
	// Each area builds its service in a file of its own (publish_env_test.go, …).
	env.publish = testPublishService(env)
	env.inbox, env.leads = testInboxServices(env)
	srv := New(Config{Org: orgSvc, Access: accSvc, Connections: connSvc, Publish: env.publish, Inbox: env.inbox, Leads: env.leads,
		Analytics: analytics.NewService(st, orgSvc),
		DB:        st, Log: logger, Version: "test",
		Extra: map[string]http.Handler{connection.SimulatorPath + "/": http.StripPrefix(connection.SimulatorPath, simServer)}})
	outer.Handle("/", srv.Handler())
	env.server = srv
	return env
}

// user creates a user with one grant (unit "" = no grant) and returns an
// API token for it. The password is "password-" + email.
func (e *testEnv) user(email, unit string, role access.Role) string {
	e.t.Helper()
	ctx := context.Background()
	sys := access.SystemPrincipal()
	if _, _, err := e.access.CreateUser(ctx, sys, access.UserInput{Email: email, Name: email, Password: "password-" + email}); err != nil {
		e.t.Fatal(err)
	}
	if unit != "" {
		if _, err := e.access.Grant(ctx, sys, access.GrantInput{User: email, Unit: unit, Role: role}); err != nil {
			e.t.Fatal(err)
		}
	}
	u, _, err := e.store.UserByEmail(ctx, email)
	if err != nil {
		e.t.Fatal(err)
	}
	_, token, err := e.access.CreateToken(ctx, &access.Principal{User: u}, access.TokenInput{Name: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return token
}

// do sends an API request with a token and decodes a JSON answer into out
// (when not nil); it returns the status.
func (e *testEnv) do(token, method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
