// Package sim is the simulator platform: a small social network served by
// the vernetzen binary itself (Server, an http.Handler), and the connector
// that talks to it over real HTTP through the same shared client as every
// real platform (Connector). The demo's channels are connected to it, so
// the demo exercises the real publishing, polling, refresh and rate-limit
// paths; tests and benchmarks use its fault injection.
//
// The network is deterministic given Config.Seed and the sequence of
// requests and clock readings: time is read from Config.Now, randomness
// comes from seeded generators, and the simulation advances lazily, when a
// request arrives, by drawing how many followers, reactions, comments,
// mentions and direct messages the elapsed time produced.
//
// # API (all JSON; paths relative to where the handler is mounted)
//
//	POST   /api/sessions            {"handle","display_name"?,"imitates"?} → tokens; creates the account if new
//	POST   /api/oauth/token         grant_type=refresh_token&refresh_token=… → new tokens (rotating)
//	GET    /api/me                  the account and its audience numbers
//	GET    /api/me/demographics     followers per age group and gender (empty below 100 followers)
//	POST   /api/posts               {"text","visibility"?,"in_reply_to"?,"media"?}, Idempotency-Key header
//	GET    /api/posts?idempotency_key=K   the post made with key K, or 404
//	GET    /api/posts/{id}          a post with likes, shares and replies
//	DELETE /api/posts/{id}
//	GET    /api/inbox?after=SEQ&limit=N   comments, mentions, replies and DMs after SEQ, oldest first
//	GET    /{handle}/{id}           a public post as a small HTML page (its URL)
//
// Errors are {"error": code, "message": text}. Access tokens expire after
// Config.TokenTTL (401 "token_expired"); refresh tokens rotate on use.
// Per-account quotas answer X-RateLimit-Limit/Remaining/Reset (Unix
// seconds) and 429 with Retry-After.
package sim

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Config shapes the simulated network. Zero values take the defaults noted.
type Config struct {
	// Seed makes the network reproducible.
	Seed uint64
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Texts are the inbound message texts drawn at random (the demo passes
	// the texts of intent-dev.jsonl; see TextsFromJSONL); default a small
	// built-in list.
	Texts []string

	// Per account and hour, on average. Negative disables; zero takes the
	// default (6 comments, 3 mentions, 1 DM, 12 new followers).
	CommentsPerHour  float64
	MentionsPerHour  float64
	DMsPerHour       float64
	FollowersPerHour float64

	// TokenTTL is the access tokens' lifetime; default one hour.
	TokenTTL time.Duration
	// RequestsPerWindow limits each account's requests per Window
	// (answering 429 beyond it); 0 = unlimited. Window default 5 minutes.
	RequestsPerWindow int
	Window            time.Duration
	// MaxInbox bounds the events kept per account (oldest dropped);
	// default 10,000.
	MaxInbox int
	// MaxCatchUp bounds how much elapsed time one advance simulates, so a
	// server idle for a week does not produce a week of messages at once;
	// default 6 hours.
	MaxCatchUp time.Duration

	Faults Faults
}

// Faults inject platform misbehaviour with the given probabilities per
// request, for tests and benchmarks.
type Faults struct {
	RateLimited float64 // 429 with Retry-After and X-RateLimit-Reset
	Unavailable float64 // 503
	Slow        float64 // the answer is delayed by SlowDelay (after a write is done)
	// Path, if set, limits the faults to requests whose path (below the
	// mount point) starts with it, e.g. "/api/me/demographics".
	Path string
	// RateLimitReset is how far the injected 429's reset lies; default 30s.
	RateLimitReset time.Duration
	SlowDelay      time.Duration // default 10s
	// Sleep waits for slow answers; default a real timer that ends early
	// when the request's context ends. Tests inject their own.
	Sleep func(ctx context.Context, d time.Duration)
}

// Server is the simulator's HTTP handler. Mount it with its prefix
// stripped, e.g. mux.Handle("/sim/", http.StripPrefix("/sim", srv)).
type Server struct {
	mu       sync.Mutex
	cfg      Config
	rng      *rand.Rand // the network's behaviour
	faults   *rand.Rand // fault injection, separate so faults do not change the network
	mux      *http.ServeMux
	started  bool
	last     time.Time // simulated up to
	seq      int64     // last inbox sequence number, global
	nextID   int64
	accounts []*account // creation order, for deterministic iteration
	byHandle map[string]*account
	access   map[string]token  // access token → token
	refresh  map[string]string // refresh token → account id
	posts    map[string]*post
	requests int64
}

type account struct {
	ID, Handle, DisplayName string
	Followers, Following    int64
	// Imitates is the platform whose audience mix the account has
	// (AudienceOf); "" is the simulator's own.
	Imitates    string
	posts       []*post // creation order
	inbox       []Event // ascending Seq
	keys        map[string]*post
	windowStart time.Time
	windowUsed  int
}

type token struct {
	accountID string
	expires   time.Time
}

type post struct {
	ID, AccountID, Text, InReplyTo, Visibility, Key string
	CreatedAt                                       time.Time
	MediaCount                                      int
	Likes, Shares, Replies                          int64
	deleted                                         bool
}

// Event is one inbound item in an account's inbox, as GET /api/inbox
// answers it.
type Event struct {
	Seq       int64     `json:"seq"`
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // comment, mention, reply, dm
	Author    Person    `json:"author"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	InReplyTo string    `json:"in_reply_to,omitempty"`
	ThreadID  string    `json:"thread_id,omitempty"`
}

// Person is a simulated member of the audience.
type Person struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Handle string `json:"handle"`
}

// NewServer returns a simulator with cfg.
func NewServer(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Texts) == 0 {
		cfg.Texts = fallbackTexts
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		} else if *v < 0 {
			*v = 0
		}
	}
	def(&cfg.CommentsPerHour, 6)
	def(&cfg.MentionsPerHour, 3)
	def(&cfg.DMsPerHour, 1)
	def(&cfg.FollowersPerHour, 12)
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Window == 0 {
		cfg.Window = 5 * time.Minute
	}
	if cfg.MaxInbox == 0 {
		cfg.MaxInbox = 10000
	}
	if cfg.MaxCatchUp == 0 {
		cfg.MaxCatchUp = 6 * time.Hour
	}
	if cfg.Faults.RateLimitReset == 0 {
		cfg.Faults.RateLimitReset = 30 * time.Second
	}
	if cfg.Faults.SlowDelay == 0 {
		cfg.Faults.SlowDelay = 10 * time.Second
	}
	if cfg.Faults.Sleep == nil {
		cfg.Faults.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
	}
	s := &Server{cfg: cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		faults:   rand.New(rand.NewPCG(cfg.Seed, 0xfa17)),
		byHandle: map[string]*account{}, access: map[string]token{}, refresh: map[string]string{},
		posts: map[string]*post{}}
	m := http.NewServeMux()
	m.HandleFunc("POST /api/sessions", s.handleSession)
	m.HandleFunc("POST /api/oauth/token", s.handleToken)
	m.HandleFunc("GET /api/me", s.authed(s.handleMe))
	m.HandleFunc("GET /api/me/demographics", s.authed(s.handleDemographics))
	m.HandleFunc("POST /api/posts", s.authed(s.handleCreatePost))
	m.HandleFunc("GET /api/posts", s.authed(s.handleFindPost))
	m.HandleFunc("GET /api/posts/{id}", s.authed(s.handleGetPost))
	m.HandleFunc("DELETE /api/posts/{id}", s.authed(s.handleDeletePost))
	m.HandleFunc("GET /api/inbox", s.authed(s.handleInbox))
	m.HandleFunc("GET /{handle}/{id}", s.handlePostPage)
	s.mux = m
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.advanceLocked()
	var fault string
	if strings.HasPrefix(r.URL.Path, "/api/") && strings.HasPrefix(r.URL.Path, s.cfg.Faults.Path) {
		switch x := s.faults.Float64(); {
		case x < s.cfg.Faults.RateLimited:
			fault = "429"
		case x < s.cfg.Faults.RateLimited+s.cfg.Faults.Unavailable:
			fault = "503"
		case x < s.cfg.Faults.RateLimited+s.cfg.Faults.Unavailable+s.cfg.Faults.Slow:
			fault = "slow"
		}
	}
	now := s.cfg.Now()
	faults := s.cfg.Faults
	s.mu.Unlock()

	switch fault {
	case "429":
		reset := now.Add(faults.RateLimitReset)
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(faults.RateLimitReset.Seconds()))))
		apiError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
		return
	case "503":
		apiError(w, http.StatusServiceUnavailable, "unavailable", "the simulator is briefly unavailable")
		return
	case "slow":
		if r.Method == http.MethodGet {
			faults.Sleep(r.Context(), faults.SlowDelay)
		} else {
			// A slow write: the action is done, the answer comes late.
			rec := &delayedWriter{header: http.Header{}, status: http.StatusOK}
			s.mux.ServeHTTP(rec, r)
			faults.Sleep(r.Context(), faults.SlowDelay)
			if r.Context().Err() != nil {
				return
			}
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			w.Write(rec.body)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

type delayedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (d *delayedWriter) Header() http.Header    { return d.header }
func (d *delayedWriter) WriteHeader(status int) { d.status = status }
func (d *delayedWriter) Write(b []byte) (int, error) {
	d.body = append(d.body, b...)
	return len(b), nil
}

// SetFaults changes fault injection while the server runs (keeping the
// Sleep and defaults already configured when f leaves them zero).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.RateLimitReset == 0 {
		f.RateLimitReset = s.cfg.Faults.RateLimitReset
	}
	if f.SlowDelay == 0 {
		f.SlowDelay = s.cfg.Faults.SlowDelay
	}
	if f.Sleep == nil {
		f.Sleep = s.cfg.Faults.Sleep
	}
	s.cfg.Faults = f
}

// Requests returns how many requests the server has received (tests use it
// to prove a client did not hammer).
func (s *Server) Requests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Advance runs the simulation up to now without a request (the demo may
// call it on a ticker so numbers move even when nobody polls).
func (s *Server) Advance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
}

// Session creates the account for handle if it does not exist and returns
// fresh tokens, like POST /api/sessions; the demo uses it to connect its
// channels without a round trip.
func (s *Server) Session(handle, displayName string) (accessToken, refreshToken string, expires time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	a, err := s.accountLocked(handle, displayName)
	if err != nil {
		return "", "", time.Time{}, err
	}
	at, rt, exp := s.issueLocked(a)
	return at, rt, exp, nil
}

// RevokeTokens invalidates every token of handle's account, as a user
// revoking the app would: the next refresh fails and the channel needs
// reconnecting.
func (s *Server) RevokeTokens(handle string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byHandle[normHandle(handle)]
	if a == nil {
		return
	}
	for k, t := range s.access {
		if t.accountID == a.ID {
			delete(s.access, k)
		}
	}
	for k, id := range s.refresh {
		if id == a.ID {
			delete(s.refresh, k)
		}
	}
}

func normHandle(h string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "@"))
}

func (s *Server) accountLocked(handle, displayName string) (*account, error) {
	h := normHandle(handle)
	if h == "" || h == "api" || len(h) > 64 || strings.ContainsAny(h, " /?#") {
		return nil, fmt.Errorf("invalid handle %q", handle)
	}
	if a := s.byHandle[h]; a != nil {
		return a, nil
	}
	if displayName == "" {
		displayName = h
	}
	a := &account{ID: s.id("a"), Handle: h, DisplayName: displayName,
		Followers: 100 + s.rng.Int64N(4900), Following: 10 + s.rng.Int64N(200), keys: map[string]*post{}}
	s.accounts = append(s.accounts, a)
	s.byHandle[h] = a
	return a, nil
}

func (s *Server) id(prefix string) string {
	s.nextID++
	return prefix + strconv.FormatInt(s.nextID, 10)
}

// issueLocked makes a new token pair. Tokens are derived from the seed and
// a counter, so a seeded run is reproducible, and look random.
func (s *Server) issueLocked(a *account) (string, string, time.Time) {
	mk := func(kind string) string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], s.rng.Uint64())
		binary.LittleEndian.PutUint64(b[8:], s.rng.Uint64())
		return kind + "_" + hex.EncodeToString(b[:])
	}
	at, rt := mk("simat"), mk("simrt")
	exp := s.cfg.Now().Add(s.cfg.TokenTTL)
	s.access[at] = token{accountID: a.ID, expires: exp}
	s.refresh[rt] = a.ID
	return at, rt, exp
}

func (s *Server) accountByID(id string) *account {
	for _, a := range s.accounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

// authed checks the bearer token and the account's request quota, then
// calls h with the account, under the server's lock.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, a *account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		tok, ok := s.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		now := s.cfg.Now()
		switch {
		case !ok:
			apiError(w, http.StatusUnauthorized, "invalid_token", "the access token is not valid")
			return
		case !now.Before(tok.expires):
			apiError(w, http.StatusUnauthorized, "token_expired", "the access token has expired")
			return
		}
		a := s.accountByID(tok.accountID)
		if s.cfg.RequestsPerWindow > 0 {
			if now.Sub(a.windowStart) >= s.cfg.Window {
				a.windowStart, a.windowUsed = now, 0
			}
			reset := a.windowStart.Add(s.cfg.Window)
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.cfg.RequestsPerWindow))
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
			if a.windowUsed >= s.cfg.RequestsPerWindow {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(reset.Sub(now).Seconds()))))
				apiError(w, http.StatusTooManyRequests, "rate_limited", "request quota exhausted")
				return
			}
			a.windowUsed++
			w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(s.cfg.RequestsPerWindow-a.windowUsed))
		}
		h(w, r, a)
	}
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	AccountID    string `json:"account_id"`
	Handle       string `json:"handle"`
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Handle      string `json:"handle"`
		DisplayName string `json:"display_name"`
		// Imitates gives a new account a platform's audience mix.
		Imitates string `json:"imitates"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "body must be JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Imitates != "" && !slices.Contains(Imitable(), in.Imitates) {
		apiError(w, http.StatusBadRequest, "invalid_imitates", "imitates must be one of "+strings.Join(Imitable(), ", "))
		return
	}
	_, existed := s.byHandle[normHandle(in.Handle)]
	a, err := s.accountLocked(in.Handle, in.DisplayName)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_handle", err.Error())
		return
	}
	if !existed {
		a.Imitates = in.Imitates
	}
	at, rt, _ := s.issueLocked(a)
	writeJSON(w, http.StatusOK, tokenAnswer{at, rt, "Bearer", int64(s.cfg.TokenTTL.Seconds()), a.ID, a.Handle})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		apiError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=refresh_token is supported")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := r.PostForm.Get("refresh_token")
	id, ok := s.refresh[rt]
	if !ok {
		apiError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid or was already used")
		return
	}
	delete(s.refresh, rt) // refresh tokens rotate: each one works once
	a := s.accountByID(id)
	at, nrt, _ := s.issueLocked(a)
	writeJSON(w, http.StatusOK, tokenAnswer{at, nrt, "Bearer", int64(s.cfg.TokenTTL.Seconds()), a.ID, a.Handle})
}

// Me is GET /api/me's answer.
type Me struct {
	ID          string `json:"id"`
	Handle      string `json:"handle"`
	DisplayName string `json:"display_name"`
	Followers   int64  `json:"followers"`
	Following   int64  `json:"following"`
	Posts       int64  `json:"posts"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, a *account) {
	n := int64(0)
	for _, p := range a.posts {
		if !p.deleted {
			n++
		}
	}
	writeJSON(w, http.StatusOK, Me{a.ID, a.Handle, a.DisplayName, a.Followers, a.Following, n})
}

// Post is a post as the API answers it. Path is relative to the mount
// point; the connector turns it into the public URL.
type Post struct {
	ID             string    `json:"id"`
	AccountID      string    `json:"account_id"`
	Text           string    `json:"text"`
	Path           string    `json:"path"`
	CreatedAt      time.Time `json:"created_at"`
	InReplyTo      string    `json:"in_reply_to,omitempty"`
	Visibility     string    `json:"visibility"`
	MediaCount     int       `json:"media_count"`
	Likes          int64     `json:"likes"`
	Shares         int64     `json:"shares"`
	Replies        int64     `json:"replies"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
}

func (s *Server) view(a *account, p *post) Post {
	return Post{ID: p.ID, AccountID: p.AccountID, Text: p.Text, Path: "/" + a.Handle + "/" + p.ID, CreatedAt: p.CreatedAt,
		InReplyTo: p.InReplyTo, Visibility: p.Visibility, MediaCount: p.MediaCount, Likes: p.Likes, Shares: p.Shares,
		Replies: p.Replies, IdempotencyKey: p.Key}
}

// MaxChars is the simulator's text limit, counted in graphemes.
const MaxChars = 500

func (s *Server) handleCreatePost(w http.ResponseWriter, r *http.Request, a *account) {
	var in struct {
		Text       string `json:"text"`
		Visibility string `json:"visibility"`
		InReplyTo  string `json:"in_reply_to"`
		Media      []struct {
			Kind string `json:"kind"`
			Alt  string `json:"alt"`
		} `json:"media"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "body must be JSON")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if p := a.keys[key]; key != "" && p != nil {
		writeJSON(w, http.StatusOK, s.view(a, p)) // the same request again: the same post
		return
	}
	switch {
	case strings.TrimSpace(in.Text) == "" && len(in.Media) == 0:
		apiError(w, http.StatusUnprocessableEntity, "validation_failed", "text can't be blank")
		return
	case connector.CountGraphemes(in.Text) > MaxChars:
		apiError(w, http.StatusUnprocessableEntity, "validation_failed", fmt.Sprintf("text is longer than %d characters", MaxChars))
		return
	case len(in.Media) > 4:
		apiError(w, http.StatusUnprocessableEntity, "validation_failed", "at most 4 media")
		return
	}
	vis := in.Visibility
	switch vis {
	case "":
		vis = "public"
	case "public", "direct":
	default:
		apiError(w, http.StatusUnprocessableEntity, "validation_failed", "visibility must be public or direct")
		return
	}
	p := &post{ID: s.id("p"), AccountID: a.ID, Text: in.Text, InReplyTo: in.InReplyTo, Visibility: vis, Key: key,
		CreatedAt: s.cfg.Now(), MediaCount: len(in.Media)}
	a.posts = append(a.posts, p)
	s.posts[p.ID] = p
	if key != "" {
		a.keys[key] = p
	}
	writeJSON(w, http.StatusCreated, s.view(a, p))
}

func (s *Server) handleFindPost(w http.ResponseWriter, r *http.Request, a *account) {
	key := r.URL.Query().Get("idempotency_key")
	if p := a.keys[key]; key != "" && p != nil && !p.deleted {
		writeJSON(w, http.StatusOK, s.view(a, p))
		return
	}
	apiError(w, http.StatusNotFound, "not_found", "no post with that idempotency key")
}

func (s *Server) handleGetPost(w http.ResponseWriter, r *http.Request, a *account) {
	p := s.posts[r.PathValue("id")]
	if p == nil || p.deleted || p.AccountID != a.ID {
		apiError(w, http.StatusNotFound, "not_found", "post not found")
		return
	}
	writeJSON(w, http.StatusOK, s.view(a, p))
}

func (s *Server) handleDeletePost(w http.ResponseWriter, r *http.Request, a *account) {
	p := s.posts[r.PathValue("id")]
	if p == nil || p.deleted || p.AccountID != a.ID {
		apiError(w, http.StatusNotFound, "not_found", "post not found")
		return
	}
	p.deleted = true
	w.WriteHeader(http.StatusNoContent)
}

// InboxPage is GET /api/inbox's answer. Cursor is the Seq of the last item
// (or the after parameter when there are none).
type InboxPage struct {
	Items  []Event `json:"items"`
	Cursor string  `json:"cursor"`
	More   bool    `json:"more"`
}

func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request, a *account) {
	after := int64(0)
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "invalid_cursor", "after must be a sequence number")
			return
		}
		after = n
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = min(n, 200)
		}
	}
	i, _ := slices.BinarySearchFunc(a.inbox, after+1, func(e Event, seq int64) int {
		switch {
		case e.Seq < seq:
			return -1
		case e.Seq > seq:
			return 1
		}
		return 0
	})
	items := a.inbox[i:min(len(a.inbox), i+limit)]
	page := InboxPage{Items: slices.Clone(items), Cursor: strconv.FormatInt(after, 10), More: i+limit < len(a.inbox)}
	if page.Items == nil {
		page.Items = []Event{}
	}
	if len(items) > 0 {
		page.Cursor = strconv.FormatInt(items[len(items)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) handlePostPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.posts[r.PathValue("id")]
	a := s.byHandle[normHandle(r.PathValue("handle"))]
	if p == nil || p.deleted || a == nil || p.AccountID != a.ID || p.Visibility != "public" {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	v := s.view(a, p)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>@%s</title><article><p><b>%s</b> @%s · %s</p><p>%s</p><p>♥ %d · ↻ %d · 💬 %d</p></article>",
		html.EscapeString(a.Handle), html.EscapeString(a.DisplayName), html.EscapeString(a.Handle),
		v.CreatedAt.UTC().Format(time.RFC3339), html.EscapeString(v.Text), v.Likes, v.Shares, v.Replies)
}

// advanceLocked simulates the time since the last advance: audience
// growth, reactions on recent posts, and inbound messages, each drawn from
// a Poisson distribution with the configured rates. Accounts are visited
// in creation order and events are numbered in time order, so the outcome
// depends only on the seed and the clock readings.
func (s *Server) advanceLocked() {
	now := s.cfg.Now()
	if !s.started {
		s.started, s.last = true, now
		return
	}
	if !now.After(s.last) {
		return
	}
	from := s.last
	if now.Sub(from) > s.cfg.MaxCatchUp {
		from = now.Add(-s.cfg.MaxCatchUp)
	}
	hours := now.Sub(from).Hours()
	s.last = now
	var batch []Event
	var owners []*account
	for _, a := range s.accounts {
		live := make([]*post, 0, 8)
		for i := len(a.posts) - 1; i >= 0 && len(live) < 50; i-- {
			if p := a.posts[i]; !p.deleted {
				live = append(live, p)
			}
		}
		// Audience: a base rate plus a boost for each fresh post.
		boost := 0.0
		for _, p := range live {
			if age := now.Sub(p.CreatedAt).Hours(); age < 48 && p.InReplyTo == "" {
				boost += 8 / (1 + age)
			}
		}
		a.Followers += s.poisson((s.cfg.FollowersPerHour + boost) * hours)
		if s.rng.Float64() < 0.05*hours {
			a.Followers = max(0, a.Followers-1-s.rng.Int64N(3)) // some unfollow
		}
		// Reactions: proportional to the audience, decaying with age.
		for _, p := range live {
			age := now.Sub(p.CreatedAt).Hours()
			if age > 24*7 || p.Visibility != "public" {
				continue
			}
			reach := float64(a.Followers) * math.Exp(-age/12) * hours
			p.Likes += s.poisson(reach * 0.01)
			p.Shares += s.poisson(reach * 0.002)
		}
		// Inbound messages.
		var public, replies []*post
		for _, p := range live {
			if p.Visibility == "public" && p.InReplyTo == "" {
				public = append(public, p)
			} else if p.InReplyTo != "" {
				replies = append(replies, p)
			}
		}
		add := func(kind string, n int64) {
			for range n {
				e := Event{Kind: kind, Author: s.person(), Text: s.cfg.Texts[s.rng.IntN(len(s.cfg.Texts))],
					CreatedAt: from.Add(time.Duration(s.rng.Float64() * float64(now.Sub(from))))}
				switch kind {
				case "comment":
					if len(public) == 0 {
						e.Kind = "mention"
						break
					}
					p := public[s.rng.IntN(len(public))]
					p.Replies++
					e.InReplyTo, e.ThreadID = p.ID, p.ID
				case "reply":
					p := replies[s.rng.IntN(len(replies))]
					e.InReplyTo, e.ThreadID = p.ID, p.InReplyTo
				case "dm":
					e.ThreadID = "dm-" + a.ID + "-" + e.Author.ID
				}
				if e.Kind == "mention" && !strings.Contains(e.Text, "@"+a.Handle) {
					e.Text = "@" + a.Handle + " " + e.Text
				}
				batch = append(batch, e)
				owners = append(owners, a)
			}
		}
		nComments := s.poisson(s.cfg.CommentsPerHour * hours)
		if len(replies) > 0 && nComments > 0 {
			nReplies := s.poisson(float64(nComments) * 0.3)
			nReplies = min(nReplies, nComments)
			add("reply", nReplies)
			nComments -= nReplies
		}
		add("comment", nComments)
		add("mention", s.poisson(s.cfg.MentionsPerHour*hours))
		add("dm", s.poisson(s.cfg.DMsPerHour*hours))
	}
	idx := make([]int, len(batch))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return batch[x].CreatedAt.Compare(batch[y].CreatedAt) })
	for _, i := range idx {
		s.seq++
		e := batch[i]
		e.Seq = s.seq
		e.ID = "m" + strconv.FormatInt(e.Seq, 10)
		a := owners[i]
		a.inbox = append(a.inbox, e)
		if over := len(a.inbox) - s.cfg.MaxInbox; over > 0 {
			a.inbox = slices.Delete(a.inbox, 0, over)
		}
	}
}

// poisson draws from a Poisson distribution with mean lambda (Knuth's
// method for small means, a rounded normal approximation for large ones).
func (s *Server) poisson(lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int64(math.Round(lambda+math.Sqrt(lambda)*s.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), int64(0), 1.0
	for {
		p *= s.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

var firstNames = []string{"Anna", "Ben", "Clara", "David", "Elif", "Felix", "Giulia", "Hannes", "Ines", "Jonas",
	"Kemal", "Lena", "Marco", "Nora", "Oskar", "Paula", "Quentin", "Rosa", "Sven", "Tamara", "Ugo", "Vera", "Wim", "Yasmin", "Zofia"}
var lastNames = []string{"Adler", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Huber", "Iversen", "Jansen",
	"Kowalski", "Lehmann", "Moreau", "Novak", "Oliveira", "Peters", "Rossi", "Schmidt", "Silva", "Vogel", "Weber", "Zimmermann"}

// person draws an audience member; the pool is large enough that
// conversations by the same author happen now and then.
func (s *Server) person() Person {
	f := firstNames[s.rng.IntN(len(firstNames))]
	l := lastNames[s.rng.IntN(len(lastNames))]
	n := s.rng.IntN(40)
	h := strings.ToLower(f) + "_" + strings.ToLower(asciiFold(l)) + strconv.Itoa(n)
	sum := sha256.Sum256([]byte(h))
	return Person{ID: "u" + hex.EncodeToString(sum[:6]), Name: f + " " + l, Handle: h}
}

func asciiFold(s string) string {
	return strings.NewReplacer("á", "a", "í", "i", "é", "e", "ó", "o", "ü", "u", "ö", "o", "ä", "a").Replace(s)
}

// fallbackTexts are used when the caller passes no texts: one or two per
// intent in the languages the hub classifies.
var fallbackTexts = []string{
	"Was kostet der neue X3 als Plug-in-Hybrid? Ich würde gern eine Probefahrt in München machen.",
	"I'm interested in buying an i4 — is there a dealer near Manchester with one in stock?",
	"Mon 320d fait un bruit bizarre depuis la révision, à qui dois-je m'adresser ?",
	"Seit drei Wochen warte ich auf einen Rückruf vom Händler. So geht man nicht mit Kunden um!",
	"What a stunning design on the new 5 Series Touring. Well done!",
	"¿El museo BMW abre los domingos?",
	"Il nuovo MINI Countryman è disponibile anche con trazione integrale?",
	"Wanneer komt de nieuwe iX1 naar Nederland?",
	"Czy mogę zamówić jazdę próbną BMW iX w Warszawie?",
	"Onde posso fazer a revisão do meu R 1250 GS em Lisboa?",
	"Follow me for free crypto tips!!! 🚀🚀🚀",
	"Great job at the track day last weekend, the M team was fantastic.",
}

// TextsFromJSONL reads the "text" field of every JSON line in r (the
// format of intent-dev.jsonl), skipping lines without one.
func TextsFromJSONL(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var v struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return nil, fmt.Errorf("sim: texts: %w", err)
		}
		if strings.TrimSpace(v.Text) != "" {
			out = append(out, v.Text)
		}
	}
	return out, sc.Err()
}
