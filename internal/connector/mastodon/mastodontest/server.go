// Package mastodontest is a small server that answers like a Mastodon
// instance's client API for the parts vernetzen uses to publish: verify
// credentials, post statuses with Idempotency-Key, list an account's
// statuses, and an empty notifications list. It injects the failures a
// real instance has (429 with rate-limit headers, 503) at configurable
// rates and records what it was asked, so that tests and benchmarks can
// check that every delivery was published exactly once.
//
// Any bearer token of the form "tok-N" is the account with id N
// (username "userN"); other tokens are refused with 401.
package mastodontest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config shapes the instance.
type Config struct {
	// RateLimited and Unavailable are the probabilities that a status
	// post answers 429 or 503 instead of creating the status.
	RateLimited, Unavailable float64
	// RateLimitReset is how long a 429 tells the caller to wait (default 2s).
	RateLimitReset time.Duration
	// Seed makes the fault injection repeatable.
	Seed uint64
}

// Status is a posted status as the server keeps it.
type Status struct {
	ID        string
	AccountID string
	Key       string // the Idempotency-Key it was created with
	Text      string
	CreatedAt time.Time
}

// Server is the fake instance.
type Server struct {
	cfg Config
	srv *httptest.Server

	mu       sync.Mutex
	rng      *rand.Rand
	nextID   int64
	statuses []*Status
	byKey    map[string]*Status   // account/key → status
	limited  map[string]time.Time // account/key → until when a 429 told it to wait
	requests int
	faults   int
}

// New starts the instance on a TLS listener on 127.0.0.1.
func New(cfg Config) *Server {
	if cfg.RateLimitReset <= 0 {
		cfg.RateLimitReset = 2 * time.Second
	}
	s := &Server{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), nextID: 100000,
		byKey: map[string]*Status{}, limited: map[string]time.Time{}}
	s.srv = httptest.NewTLSServer(s)
	// As many idle connections as the hub's own client keeps, so that a
	// baseline through this client is comparable.
	s.srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return s
}

// URL is the instance's address (https://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// Client trusts the instance's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertificatePEM is the instance's certificate, for a child process's
// SSL_CERT_FILE.
func (s *Server) CertificatePEM() []byte { return certPEM(s.srv) }

// Close stops the instance.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) account(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	id, ok := strings.CutPrefix(tok, "tok-")
	if !ok {
		return "", false
	}
	if _, err := strconv.Atoi(id); err != nil {
		return "", false
	}
	return id, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// ServeHTTP answers the client API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	acct, ok := s.account(r)
	if !ok {
		apiError(w, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	// Mastodon's per-account budget: 300 requests in 5 minutes.
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Remaining", "299")
	w.Header().Set("X-RateLimit-Reset", time.Now().Add(5*time.Minute).UTC().Format(time.RFC3339))
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
		writeJSON(w, http.StatusOK, s.accountJSON(acct))
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
		s.postStatus(w, r, acct)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/accounts/") && strings.HasSuffix(r.URL.Path, "/statuses"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/accounts/"), "/statuses")
		writeJSON(w, http.StatusOK, s.listStatuses(id))
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/notifications":
		writeJSON(w, http.StatusOK, []any{})
	default:
		apiError(w, http.StatusNotFound, "Record not found")
	}
}

func (s *Server) accountJSON(id string) map[string]any {
	return map[string]any{"id": id, "username": "user" + id, "acct": "user" + id, "display_name": "User " + id,
		"url": s.srv.URL + "/@user" + id, "followers_count": 100, "following_count": 10, "statuses_count": 0}
}

func (s *Server) statusJSON(st *Status) map[string]any {
	url := s.srv.URL + "/@user" + st.AccountID + "/" + st.ID
	return map[string]any{"id": st.ID, "created_at": st.CreatedAt.UTC().Format(time.RFC3339Nano), "in_reply_to_id": nil,
		"visibility": "public", "url": url, "uri": url, "content": "<p>" + htmlEscape(st.Text) + "</p>",
		"replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "account": s.accountJSON(st.AccountID)}
}

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request, acct string) {
	var in struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || strings.TrimSpace(in.Status) == "" {
		apiError(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.byKey[acct+"/"+key]; ok && key != "" {
		writeJSON(w, http.StatusOK, s.statusJSON(st))
		return
	}
	switch roll := s.rng.Float64(); {
	case roll < s.cfg.RateLimited:
		s.faults++
		until := time.Now().Add(s.cfg.RateLimitReset)
		s.limited[acct+"/"+key] = until
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", until.UTC().Format(time.RFC3339Nano))
		apiError(w, http.StatusTooManyRequests, "Too many requests")
		return
	case roll < s.cfg.RateLimited+s.cfg.Unavailable:
		s.faults++
		apiError(w, http.StatusServiceUnavailable, "Service unavailable")
		return
	}
	s.nextID++
	st := &Status{ID: strconv.FormatInt(s.nextID, 10), AccountID: acct, Key: key, Text: in.Status, CreatedAt: time.Now()}
	s.statuses = append(s.statuses, st)
	if key != "" {
		s.byKey[acct+"/"+key] = st
	}
	writeJSON(w, http.StatusOK, s.statusJSON(st))
}

func (s *Server) listStatuses(acct string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for i := len(s.statuses) - 1; i >= 0 && len(out) < 40; i-- {
		if s.statuses[i].AccountID == acct {
			out = append(out, s.statusJSON(s.statuses[i]))
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out
}

// Statuses returns every status posted, oldest first.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.statuses))
	for i, st := range s.statuses {
		out[i] = *st
	}
	return out
}

// PerAccount counts the statuses of each account.
func (s *Server) PerAccount() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, st := range s.statuses {
		m[st.AccountID]++
	}
	return m
}

// LimitedUntil is when a 429 last told account's delivery key to retry
// (zero: never limited): the delay the rate limit forced on it.
func (s *Server) LimitedUntil(account, key string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited[account+"/"+key]
}

// Counts returns the requests served and the faults injected.
func (s *Server) Counts() (requests, faults int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.faults
}

// Duplicates lists accounts holding the same text more than once.
func (s *Server) Duplicates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]int{}
	for _, st := range s.statuses {
		seen[st.AccountID+"\x00"+st.Text]++
	}
	var out []string
	for k, n := range seen {
		if n > 1 {
			acct, _, _ := strings.Cut(k, "\x00")
			out = append(out, fmt.Sprintf("account %s: %d copies", acct, n))
		}
	}
	sort.Strings(out)
	return out
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
