package x

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// fakeX answers like the X API v2 per docs.x.com: POST/DELETE /2/tweets,
// POST /2/media/upload (+ metadata), GET /2/users/me, /2/users/:id,
// /2/users/:id/tweets and /mentions (newest first, max_results 5–100,
// since_id, pagination_token, meta.newest_id/oldest_id/next_token),
// GET /2/tweets?ids= with public_metrics and "errors" for unknown ids,
// the OAuth 2.0 token endpoint (PKCE S256, rotating refresh tokens, Basic
// client authentication), x-rate-limit-* headers with epoch-second resets,
// and problem-details error bodies. It records every request and rejects
// malformed ones the way X does, so tests assert what the connector sent.
type fakeX struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu           sync.Mutex
	clientID     string
	clientSecret string
	access       map[string]bool   // valid access tokens
	refresh      string            // the one valid refresh token
	codes        map[string]string // authorization code → code_challenge
	rotate       bool              // answer refreshes with a new refresh token
	me           user
	tweets       []fakeTweet // ours, ascending id
	mentions     []fakeTweet // others', ascending id
	media        map[string]bool
	altTexts     map[string]string
	nextID       int64
	remaining    int
	requests     []recorded
	override     func(w http.ResponseWriter, r *http.Request) bool
	afterCreate  func(w http.ResponseWriter, r *http.Request) bool
	tokenCounter int
}

type fakeTweet struct {
	ID, Text, AuthorID, ReplyTo, ReplyToUser string
	CreatedAt                                time.Time
	Likes, Retweets, Quotes, Replies, Views  int64
}

type recorded struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

var others = map[string]user{
	"77": {ID: "77", Name: "Car Fan", Username: "carfan"},
	"78": {ID: "78", Name: "Ada", Username: "ada_l"},
}

func newFakeX(t *testing.T, now func() time.Time) *fakeX {
	f := &fakeX{t: t, now: now, clientID: "cid-x", clientSecret: "csec-x",
		access: map[string]bool{"tok-good": true}, refresh: "rt-1", codes: map[string]string{}, rotate: true,
		media: map[string]bool{}, altTexts: map[string]string{}, nextID: 1860000000000000000, remaining: 100}
	f.me = user{ID: "2244994945", Name: "Vernetzen", Username: "vernetzen_hub"}
	f.me.PublicMetrics.FollowersCount, f.me.PublicMetrics.FollowingCount = 4321, 12
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeX) id() string { f.nextID++; return strconv.FormatInt(f.nextID, 10) }

func (f *fakeX) last(method, path string) recorded {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Method == method && f.requests[i].Path == path {
			return f.requests[i]
		}
	}
	f.t.Fatalf("no %s %s received", method, path)
	return recorded{}
}

func (f *fakeX) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// problem writes X's problem-details error body.
func problem(w http.ResponseWriter, status int, title, detail, typ string, errs ...map[string]any) {
	body := map[string]any{"title": title, "detail": detail, "type": typ, "status": status}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

func invalidRequest(w http.ResponseWriter, msg string) {
	problem(w, 400, "Invalid Request", "One or more parameters to your request was invalid.",
		"https://api.twitter.com/2/problems/invalid-request", map[string]any{"message": msg})
}

// addMention stores a post by someone else mentioning us; replyToUs
// makes it a reply to one of our posts.
func (f *fakeX) addMention(text, author string, replyToUs bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := fakeTweet{ID: f.id(), Text: "@vernetzen_hub " + text, AuthorID: author, CreatedAt: f.now()}
	if replyToUs {
		m.ReplyTo, m.ReplyToUser = "1859999999999999999", f.me.ID
	}
	f.mentions = append(f.mentions, m)
	return m.ID
}

func (f *fakeX) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body})
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if r.URL.Path == "/2/oauth2/token" {
		f.token(w, r)
		return
	}
	f.mu.Lock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	valid := ok && f.access[tok]
	f.mu.Unlock()
	if !valid {
		problem(w, 401, "Unauthorized", "Unauthorized", "about:blank")
		return
	}
	f.mu.Lock()
	if f.remaining > 0 {
		f.remaining--
	}
	w.Header().Set("x-rate-limit-limit", "100")
	w.Header().Set("x-rate-limit-remaining", strconv.Itoa(f.remaining))
	w.Header().Set("x-rate-limit-reset", strconv.FormatInt(f.now().Add(15*time.Minute).Unix(), 10))
	f.mu.Unlock()

	p := r.URL.Path
	switch {
	case r.Method == "POST" && p == "/2/tweets":
		f.createTweet(w, r, body)
	case r.Method == "DELETE" && strings.HasPrefix(p, "/2/tweets/"):
		f.mu.Lock()
		defer f.mu.Unlock()
		id := strings.TrimPrefix(p, "/2/tweets/")
		for i, t := range f.tweets {
			if t.ID == id {
				f.tweets = slices.Delete(f.tweets, i, i+1)
				writeJSON(w, 200, map[string]any{"data": map[string]bool{"deleted": true}})
				return
			}
		}
		problem(w, 404, "Not Found Error", "Could not find tweet with id: ["+id+"].", "https://api.twitter.com/2/problems/resource-not-found")
	case r.Method == "POST" && p == "/2/media/upload":
		f.upload(w, r)
	case r.Method == "POST" && p == "/2/media/metadata":
		var in struct {
			ID       string `json:"id"`
			Metadata struct {
				AltText struct {
					Text string `json:"text"`
				} `json:"alt_text"`
			} `json:"metadata"`
		}
		if json.Unmarshal(body, &in) != nil || !f.media[in.ID] {
			invalidRequest(w, "unknown media id")
			return
		}
		f.mu.Lock()
		f.altTexts[in.ID] = in.Metadata.AltText.Text
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"data": map[string]any{"id": in.ID, "associated_metadata": true}})
	case r.Method == "GET" && (p == "/2/users/me" || p == "/2/users/"+f.me.ID):
		if !slices.Contains(strings.Split(r.URL.Query().Get("user.fields"), ","), "public_metrics") {
			invalidRequest(w, "test expects user.fields=public_metrics")
			return
		}
		f.mu.Lock()
		me := f.me
		me.PublicMetrics.TweetCount = int64(len(f.tweets))
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"data": me})
	case r.Method == "GET" && p == "/2/users/"+f.me.ID+"/mentions":
		f.timeline(w, r, true)
	case r.Method == "GET" && p == "/2/users/"+f.me.ID+"/tweets":
		f.timeline(w, r, false)
	case r.Method == "GET" && p == "/2/tweets":
		f.lookupTweets(w, r)
	default:
		problem(w, 404, "Not Found", "Sorry, that page does not exist.", "about:blank")
	}
}

// render is what X stores for a text: &, < and > escaped, every link a
// t.co link, a t.co link appended for media, the addressee prepended to
// replies.
func (f *fakeX) render(text string, media bool, replyTo string) string {
	var b strings.Builder
	last := 0
	for _, u := range connector.FindURLs(text) {
		b.WriteString(text[last:u.Start])
		b.WriteString("https://t.co/" + strconv.Itoa(len(u.Text)))
		last = u.End
	}
	b.WriteString(text[last:])
	s := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(b.String())
	if media {
		s += " https://t.co/media1"
	}
	if replyTo != "" {
		s = "@carfan " + s
	}
	return s
}

func (f *fakeX) createTweet(w http.ResponseWriter, r *http.Request, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		invalidRequest(w, "Content-Type must be application/json")
		return
	}
	var in struct {
		Text  string `json:"text"`
		Reply *struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		} `json:"reply"`
		Media *struct {
			MediaIDs []string `json:"media_ids"`
		} `json:"media"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		invalidRequest(w, err.Error())
		return
	}
	if strings.TrimSpace(in.Text) == "" && in.Media == nil {
		invalidRequest(w, "Tweet text is empty.")
		return
	}
	if connector.CountX(in.Text) > 280 {
		problem(w, 403, "Forbidden", "Tweet text is too long.", "about:blank")
		return
	}
	f.mu.Lock()
	reply := ""
	if in.Reply != nil {
		if in.Reply.InReplyToTweetID == "" {
			f.mu.Unlock()
			invalidRequest(w, "reply.in_reply_to_tweet_id is required")
			return
		}
		reply = in.Reply.InReplyToTweetID
	}
	if in.Media != nil {
		for _, id := range in.Media.MediaIDs {
			if !f.media[id] {
				f.mu.Unlock()
				invalidRequest(w, "Your media IDs are invalid.")
				return
			}
		}
	}
	text := f.render(in.Text, in.Media != nil, reply)
	for _, t := range f.tweets {
		if t.Text == text {
			f.mu.Unlock()
			problem(w, 403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.", "about:blank")
			return
		}
	}
	t := fakeTweet{ID: f.id(), Text: text, AuthorID: f.me.ID, ReplyTo: reply, CreatedAt: f.now()}
	f.tweets = append(f.tweets, t)
	after := f.afterCreate
	f.mu.Unlock()
	if after != nil && after(w, r) {
		return
	}
	writeJSON(w, 201, map[string]any{"data": map[string]any{"id": t.ID, "text": t.Text, "edit_history_tweet_ids": []string{t.ID}}})
}

func (f *fakeX) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		invalidRequest(w, "expected multipart/form-data")
		return
	}
	file, _, err := r.FormFile("media")
	if err != nil {
		invalidRequest(w, "media is required")
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(file)
	if cat := r.FormValue("media_category"); cat != "tweet_image" && cat != "tweet_gif" {
		invalidRequest(w, "unexpected media_category "+cat)
		return
	}
	f.mu.Lock()
	id := f.id()
	f.media[id] = true
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"data": map[string]any{"id": id, "media_key": "3_" + id, "size": len(data), "expires_after_secs": 86400}})
}

func (t fakeTweet) json(withMetrics bool) map[string]any {
	m := map[string]any{"id": t.ID, "text": t.Text, "author_id": t.AuthorID, "conversation_id": t.ID,
		"created_at": t.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), "edit_history_tweet_ids": []string{t.ID}, "lang": "de"}
	if t.ReplyTo != "" {
		m["referenced_tweets"] = []map[string]string{{"type": "replied_to", "id": t.ReplyTo}}
		m["conversation_id"] = t.ReplyTo
	}
	if t.ReplyToUser != "" {
		m["in_reply_to_user_id"] = t.ReplyToUser
	}
	if withMetrics {
		m["public_metrics"] = map[string]int64{"retweet_count": t.Retweets, "reply_count": t.Replies, "like_count": t.Likes,
			"quote_count": t.Quotes, "impression_count": t.Views, "bookmark_count": 0}
	}
	return m
}

// timeline answers /mentions or /tweets: newest first, since_id bound,
// pagination_token continuing below the previous page's oldest id.
func (f *fakeX) timeline(w http.ResponseWriter, r *http.Request, mentions bool) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("max_results"))
	if q.Get("max_results") == "" {
		n = 10
	} else if err != nil || n < 5 || n > 100 {
		invalidRequest(w, "The `max_results` query parameter value ["+q.Get("max_results")+"] is not between 5 and 100")
		return
	}
	var start time.Time
	if v := q.Get("start_time"); v != "" {
		if start, err = time.Parse(time.RFC3339, v); err != nil {
			invalidRequest(w, "start_time is not RFC 3339")
			return
		}
	}
	until := ""
	if tok := q.Get("pagination_token"); tok != "" {
		var ok bool
		if until, ok = strings.CutPrefix(tok, "pt-"); !ok {
			invalidRequest(w, "The `pagination_token` query parameter value is not valid")
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	src := f.tweets
	if mentions {
		src = f.mentions
	}
	var match []fakeTweet // newest first
	for i := len(src) - 1; i >= 0; i-- {
		t := src[i]
		if s := q.Get("since_id"); s != "" && t.ID <= s {
			continue
		}
		if until != "" && t.ID >= until {
			continue
		}
		if !start.IsZero() && t.CreatedAt.Before(start) {
			continue
		}
		match = append(match, t)
	}
	page, more := match, false
	if len(match) > n {
		page, more = match[:n], true
	}
	meta := map[string]any{"result_count": len(page)}
	out := map[string]any{"meta": meta}
	if len(page) > 0 {
		meta["newest_id"], meta["oldest_id"] = page[0].ID, page[len(page)-1].ID
		data := make([]map[string]any, len(page))
		var users []user
		for i, t := range page {
			data[i] = t.json(false)
			if u, ok := others[t.AuthorID]; ok && !slices.Contains(users, u) {
				users = append(users, u)
			}
		}
		out["data"] = data
		if strings.Contains(q.Get("expansions"), "author_id") {
			out["includes"] = map[string]any{"users": users}
		}
	}
	if more {
		meta["next_token"] = "pt-" + page[len(page)-1].ID
	}
	writeJSON(w, 200, out)
}

func (f *fakeX) lookupTweets(w http.ResponseWriter, r *http.Request) {
	ids := strings.Split(r.URL.Query().Get("ids"), ",")
	if len(ids) > 100 || r.URL.Query().Get("ids") == "" {
		invalidRequest(w, "ids must name 1 to 100 posts")
		return
	}
	metrics := strings.Contains(r.URL.Query().Get("tweet.fields"), "public_metrics")
	f.mu.Lock()
	defer f.mu.Unlock()
	var data, errs []map[string]any
	for _, id := range ids {
		i := slices.IndexFunc(f.tweets, func(t fakeTweet) bool { return t.ID == id })
		if i < 0 {
			errs = append(errs, map[string]any{"value": id, "detail": "Could not find tweet with ids: [" + id + "].",
				"title": "Not Found Error", "resource_type": "tweet", "parameter": "ids", "resource_id": id,
				"type": "https://api.twitter.com/2/problems/resource-not-found"})
			continue
		}
		data = append(data, f.tweets[i].json(metrics))
	}
	out := map[string]any{}
	if data != nil {
		out["data"] = data
	}
	if errs != nil {
		out["errors"] = errs
	}
	writeJSON(w, 200, out)
}

// token is POST /2/oauth2/token: form-encoded, client authenticated with
// Basic, authorization_code (PKCE S256 checked) or refresh_token grants.
func (f *fakeX) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != "POST" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthErr(400, "invalid_request", "expected a form POST")
		return
	}
	id, sec, ok := r.BasicAuth()
	if !ok || id != f.clientID || sec != f.clientSecret {
		oauthErr(401, "unauthorized_client", "Missing valid authorization header")
		return
	}
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		challenge, known := f.codes[r.PostForm.Get("code")]
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !known || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge || r.PostForm.Get("redirect_uri") == "" {
			oauthErr(400, "invalid_request", "Value passed for the authorization code was invalid.")
			return
		}
		delete(f.codes, r.PostForm.Get("code"))
	case "refresh_token":
		if r.PostForm.Get("refresh_token") != f.refresh {
			oauthErr(400, "invalid_request", "Value passed for the token was invalid.")
			return
		}
	default:
		oauthErr(400, "unsupported_grant_type", "grant_type not supported")
		return
	}
	f.tokenCounter++
	acc := "tok-" + strconv.Itoa(f.tokenCounter)
	f.access[acc] = true
	out := map[string]any{"token_type": "bearer", "expires_in": 7200, "access_token": acc,
		"scope": "tweet.read tweet.write users.read offline.access"}
	if f.rotate {
		f.refresh = "rt-" + strconv.Itoa(f.tokenCounter+1)
		out["refresh_token"] = f.refresh
	}
	writeJSON(w, 200, out)
}

func (f *fakeX) setOverride(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override = fn
}

func (f *fakeX) setAfterCreate(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.afterCreate = fn
}
