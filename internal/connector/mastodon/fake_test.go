package mastodon

import (
	"encoding/json"
	"fmt"
	"html"
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
)

// fakeInstance answers like a Mastodon instance per docs.joinmastodon.org:
// statuses with Idempotency-Key, v2 media with asynchronous processing,
// mention notifications with min_id/max_id/since_id and Link headers,
// X-RateLimit-* headers, {"error": "..."} bodies. It records every request
// so tests can assert what the connector sent.
type fakeInstance struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	token     string
	me        account
	statuses  []status          // in creation order
	keys      map[string]string // Idempotency-Key → status id
	notifs    []notification    // ascending id
	media     map[string]int    // id → polls left before processed
	nextID    int
	remaining int
	reset     time.Time
	requests  []recorded
	// override, if set, answers the next matching request instead.
	override func(w http.ResponseWriter, r *http.Request) bool
	// afterCreate runs after a status was stored, before answering.
	afterCreate func(w http.ResponseWriter, r *http.Request) bool
}

type recorded struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

func newFakeInstance(t *testing.T) *fakeInstance {
	f := &fakeInstance{t: t, token: "tok-good", keys: map[string]string{}, media: map[string]int{},
		nextID: 1000, remaining: 300, reset: time.Date(2025, 3, 1, 12, 5, 0, 0, time.UTC)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.me = account{ID: "1", Username: "bmw", Acct: "bmw", DisplayName: "BMW", URL: f.srv.URL + "/@bmw",
		FollowersCount: 1234, FollowingCount: 5}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeInstance) id() string {
	f.nextID++
	return strconv.Itoa(f.nextID)
}

func (f *fakeInstance) last(method, path string) recorded {
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

func (f *fakeInstance) count(method, pathPrefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
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

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// addMention stores a status by someone else and its mention notification.
func (f *fakeInstance) addMention(text, visibility string, replyToUs bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := status{ID: f.id(), CreatedAt: time.Date(2025, 3, 1, 11, 0, f.nextID%60, 0, time.UTC), Visibility: visibility,
		Content: "<p><span class=\"h-card\"><a href=\"" + f.srv.URL + "/@bmw\" class=\"u-url mention\">@<span>bmw</span></a></span> " +
			html.EscapeString(text) + "</p>",
		Account: account{ID: "77", Username: "fan", Acct: "fan@cars.example", DisplayName: "Car Fan"}}
	u := f.srv.URL + "/@fan/" + st.ID
	st.URL = &u
	if replyToUs {
		parent, us := "999", f.me.ID
		st.InReplyToID, st.InReplyToAccountID = &parent, &us
	}
	f.notifs = append(f.notifs, notification{ID: f.id(), Type: "mention", CreatedAt: st.CreatedAt, Account: st.Account, Status: &st})
}

// addFavourite stores a notification that is not a mention.
func (f *fakeInstance) addFavourite() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notifs = append(f.notifs, notification{ID: f.id(), Type: "favourite", Account: account{ID: "78", Acct: "x"}})
}

func (f *fakeInstance) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body})
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}

	if r.URL.Path == "/oauth/token" || r.URL.Path == "/api/v1/apps" {
		f.serveOAuth(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		apiError(w, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	f.mu.Lock()
	if f.remaining > 0 {
		f.remaining--
	}
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
	w.Header().Set("X-RateLimit-Reset", f.reset.Format("2006-01-02T15:04:05.000Z"))
	f.mu.Unlock()

	p := r.URL.Path
	switch {
	case r.Method == "POST" && p == "/api/v1/statuses":
		f.createStatus(w, r, body)
	case r.Method == "GET" && strings.HasPrefix(p, "/api/v1/statuses/"):
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, s := range f.statuses {
			if s.ID == strings.TrimPrefix(p, "/api/v1/statuses/") {
				writeJSON(w, 200, s)
				return
			}
		}
		apiError(w, 404, "Record not found")
	case r.Method == "DELETE" && strings.HasPrefix(p, "/api/v1/statuses/"):
		f.mu.Lock()
		defer f.mu.Unlock()
		id := strings.TrimPrefix(p, "/api/v1/statuses/")
		for i, s := range f.statuses {
			if s.ID == id {
				f.statuses = slices.Delete(f.statuses, i, i+1)
				writeJSON(w, 200, s)
				return
			}
		}
		apiError(w, 404, "Record not found")
	case r.Method == "GET" && p == "/api/v1/accounts/verify_credentials":
		f.mu.Lock()
		me := f.me
		me.StatusesCount = int64(len(f.statuses))
		f.mu.Unlock()
		writeJSON(w, 200, me)
	case r.Method == "GET" && p == "/api/v1/accounts/"+f.me.ID+"/statuses":
		f.accountStatuses(w, r)
	case r.Method == "POST" && p == "/api/v2/media":
		f.uploadMedia(w, r)
	case r.Method == "GET" && strings.HasPrefix(p, "/api/v1/media/"):
		f.mu.Lock()
		defer f.mu.Unlock()
		id := strings.TrimPrefix(p, "/api/v1/media/")
		left, ok := f.media[id]
		switch {
		case !ok:
			apiError(w, 404, "Record not found")
		case left > 0:
			f.media[id] = left - 1
			writeJSON(w, http.StatusPartialContent, map[string]any{"id": id, "type": "image", "url": nil})
		default:
			writeJSON(w, 200, map[string]any{"id": id, "type": "image", "url": f.srv.URL + "/media/" + id})
		}
	case r.Method == "GET" && p == "/api/v1/notifications":
		f.notifications(w, r)
	default:
		apiError(w, 404, "Not found")
	}
}

func (f *fakeInstance) createStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		apiError(w, 415, "expected JSON")
		return
	}
	var in struct {
		Status      string   `json:"status"`
		MediaIDs    []string `json:"media_ids"`
		InReplyToID string   `json:"in_reply_to_id"`
		Visibility  string   `json:"visibility"`
		Language    string   `json:"language"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		apiError(w, 400, "bad JSON")
		return
	}
	if strings.TrimSpace(in.Status) == "" && len(in.MediaIDs) == 0 {
		apiError(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		return
	}
	f.mu.Lock()
	key := r.Header.Get("Idempotency-Key")
	if id, ok := f.keys[key]; ok && key != "" {
		for _, s := range f.statuses {
			if s.ID == id {
				f.mu.Unlock()
				writeJSON(w, 200, s)
				return
			}
		}
	}
	st := status{ID: f.id(), CreatedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Visibility: in.Visibility,
		Content: "<p>" + linkify(in.Status) + "</p>", Account: f.me}
	u := f.srv.URL + "/@bmw/" + st.ID
	st.URL, st.URI = &u, u
	if in.InReplyToID != "" {
		st.InReplyToID = &in.InReplyToID
	}
	f.statuses = append(f.statuses, st)
	if key != "" {
		f.keys[key] = st.ID
	}
	after := f.afterCreate
	f.mu.Unlock()
	if after != nil && after(w, r) {
		return
	}
	writeJSON(w, 200, st)
}

// linkify renders text as Mastodon does: escaped, links split into
// invisible/visible spans, line breaks as <br />.
func linkify(text string) string {
	var b strings.Builder
	for i, word := range strings.Split(text, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.HasPrefix(word, "https://") {
			rest := strings.TrimPrefix(word, "https://")
			b.WriteString(`<a href="` + html.EscapeString(word) + `" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">` +
				html.EscapeString(rest[:min(len(rest), 10)]) + `</span><span class="invisible">` + html.EscapeString(rest[min(len(rest), 10):]) + `</span></a>`)
			continue
		}
		b.WriteString(strings.ReplaceAll(html.EscapeString(word), "\n", "<br />"))
	}
	return b.String()
}

func (f *fakeInstance) accountStatuses(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 40 {
		limit = 20
	}
	maxID := r.URL.Query().Get("max_id")
	var page []status
	for i := len(f.statuses) - 1; i >= 0 && len(page) < limit; i-- {
		if maxID != "" && compareIDs(f.statuses[i].ID, maxID) >= 0 {
			continue
		}
		page = append(page, f.statuses[i])
	}
	if len(page) > 0 {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?limit=%d&max_id=%s>; rel="next", <%s%s?limit=%d&min_id=%s>; rel="prev"`,
			f.srv.URL, r.URL.Path, limit, page[len(page)-1].ID, f.srv.URL, r.URL.Path, limit, page[0].ID))
	}
	writeJSON(w, 200, page)
}

func (f *fakeInstance) uploadMedia(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		apiError(w, 422, "Validation failed: File can't be blank")
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		apiError(w, 422, "Validation failed: File can't be blank")
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(file)
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.media[id] = 1 // one poll answers 206 before the media is processed
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "type": "image", "url": nil,
		"description": r.FormValue("description"), "meta": map[string]any{"size": len(data), "filename": hdr.Filename,
			"content_type": hdr.Header.Get("Content-Type")}})
}

// notifications implements Mastodon's paging: max_id (older than),
// since_id (newer than, newest first), min_id (immediately newer than);
// answers newest first with Link next (max_id) and prev (min_id).
func (f *fakeInstance) notifications(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 80 {
		limit = 40
	}
	types := q["types[]"]
	var match []notification // ascending
	for _, n := range f.notifs {
		if len(types) > 0 && !slices.Contains(types, n.Type) {
			continue
		}
		if v := q.Get("max_id"); v != "" && compareIDs(n.ID, v) >= 0 {
			continue
		}
		if v := q.Get("since_id"); v != "" && compareIDs(n.ID, v) <= 0 {
			continue
		}
		if v := q.Get("min_id"); v != "" && compareIDs(n.ID, v) <= 0 {
			continue
		}
		match = append(match, n)
	}
	if q.Get("min_id") != "" {
		match = match[:min(limit, len(match))] // the oldest ones after min_id
	} else {
		match = match[max(0, len(match)-limit):] // the newest ones
	}
	slices.Reverse(match)
	if len(match) > 0 {
		w.Header().Set("Link", fmt.Sprintf(`<%s/api/v1/notifications?max_id=%s>; rel="next", <%s/api/v1/notifications?min_id=%s>; rel="prev"`,
			f.srv.URL, match[len(match)-1].ID, f.srv.URL, match[0].ID))
	}
	writeJSON(w, 200, match)
}

func (f *fakeInstance) serveOAuth(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v1/apps":
		writeJSON(w, 200, map[string]any{"id": "5", "name": "vernetzen", "client_id": "cid-1", "client_secret": "csec-1"})
	case "/oauth/token":
		r.ParseForm()
		if r.PostForm.Get("code") != "code-ok" {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"})
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "tok-good", "token_type": "Bearer", "scope": "read write:statuses", "created_at": 1})
	}
}
