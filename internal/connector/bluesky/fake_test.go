package bluesky

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePDS answers like a Bluesky PDS per the atproto lexicons: XRPC
// errors {"error","message"}, 400 ExpiredToken for a lapsed access JWT,
// ratelimit-* headers, listNotifications paging newest first with a
// cursor. It records requests so tests can assert their shape.
type fakePDS struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	password  string
	access    map[string]bool // valid access JWTs
	expired   map[string]bool // access JWTs that now answer ExpiredToken
	refresh   map[string]bool
	n         int
	records   map[string]json.RawMessage // rkey → record
	posts     map[string]json.RawMessage // at-uri → record of others' posts
	notifs    []notif                    // newest first
	blobs     int
	requests  []req
	override  func(w http.ResponseWriter, r *http.Request) bool
	afterPost func(w http.ResponseWriter, r *http.Request) bool
}

type notif struct {
	URI, Reason, Text, ReplyParent, ReplyRoot string
	At                                        time.Time
}

type req struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         []byte
}

const myDID = "did:plc:bmwtest"

func newFakePDS(t *testing.T) *fakePDS {
	f := &fakePDS{t: t, password: "app-pass-1", access: map[string]bool{}, expired: map[string]bool{}, refresh: map[string]bool{},
		records: map[string]json.RawMessage{}, posts: map[string]json.RawMessage{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func fakeJWT(kind string, n int, exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256K"}`)) + "." + enc([]byte(fmt.Sprintf(`{"scope":%q,"sub":%q,"exp":%d,"n":%d}`, kind, myDID, exp.Unix(), n))) + ".sig"
}

func (f *fakePDS) session() map[string]any {
	f.n++
	at := fakeJWT("com.atproto.access", f.n, time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC))
	rt := fakeJWT("com.atproto.refresh", f.n, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC))
	f.access[at], f.refresh[rt] = true, true
	return map[string]any{"accessJwt": at, "refreshJwt": rt, "handle": "bmw.bsky.social", "did": myDID, "active": true}
}

func (f *fakePDS) last(path string) req {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Path == path {
			return f.requests[i]
		}
	}
	f.t.Fatalf("no request to %s", path)
	return req{}
}

func (f *fakePDS) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

func xrpcError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// addNotif adds a notification by someone else, newest first.
func (f *fakePDS) addNotif(reason, text string, at time.Time, parent, root string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	uri := "at://did:plc:fan/app.bsky.feed.post/n" + strconv.Itoa(f.n)
	f.notifs = slices.Insert(f.notifs, 0, notif{URI: uri, Reason: reason, Text: text, At: at, ReplyParent: parent, ReplyRoot: root})
	return uri
}

func (f *fakePDS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, req{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body})
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	nsid := strings.TrimPrefix(r.URL.Path, "/xrpc/")
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("RateLimit-Limit", "5000")
	w.Header().Set("RateLimit-Remaining", "4999")
	w.Header().Set("RateLimit-Reset", "1740837600")
	w.Header().Set("RateLimit-Policy", "5000;w=3600")
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")

	switch nsid {
	case "com.atproto.server.createSession":
		var in struct{ Identifier, Password string }
		json.Unmarshal(body, &in)
		if in.Identifier != "bmw.bsky.social" || in.Password != f.password {
			xrpcError(w, 401, "AuthenticationRequired", "Invalid identifier or password")
			return
		}
		writeJSON(w, 200, f.session())
		return
	case "com.atproto.server.refreshSession":
		if !f.refresh[bearer] {
			xrpcError(w, 400, "ExpiredToken", "Token has expired")
			return
		}
		delete(f.refresh, bearer) // refresh JWTs rotate
		writeJSON(w, 200, f.session())
		return
	}
	if f.expired[bearer] {
		xrpcError(w, 400, "ExpiredToken", "Token has expired")
		return
	}
	if !f.access[bearer] {
		xrpcError(w, 401, "AuthenticationRequired", "Authentication Required")
		return
	}

	switch nsid {
	case "com.atproto.identity.resolveHandle":
		if h := r.URL.Query().Get("handle"); h == "alice.bsky.social" {
			writeJSON(w, 200, map[string]string{"did": "did:plc:alice"})
			return
		}
		xrpcError(w, 400, "InvalidRequest", "Unable to resolve handle")
	case "com.atproto.repo.uploadBlob":
		f.blobs++
		writeJSON(w, 200, map[string]any{"blob": map[string]any{"$type": "blob", "ref": map[string]string{"$link": "bafkblob" + strconv.Itoa(f.blobs)},
			"mimeType": r.Header.Get("Content-Type"), "size": len(body)}})
	case "com.atproto.repo.createRecord":
		var in struct {
			Repo, Collection, Rkey string
			Record                 json.RawMessage
		}
		json.Unmarshal(body, &in)
		if in.Repo != myDID || in.Collection != "app.bsky.feed.post" {
			xrpcError(w, 400, "InvalidRequest", "bad repo or collection")
			return
		}
		if _, dup := f.records[in.Rkey]; dup {
			xrpcError(w, 400, "InvalidRequest", "Record already exists")
			return
		}
		f.records[in.Rkey] = in.Record
		after := f.afterPost
		if after != nil {
			f.mu.Unlock()
			done := after(w, r)
			f.mu.Lock()
			if done {
				return
			}
		}
		writeJSON(w, 200, map[string]string{"uri": "at://" + myDID + "/app.bsky.feed.post/" + in.Rkey, "cid": "bafyrec" + in.Rkey})
	case "com.atproto.repo.getRecord":
		q := r.URL.Query()
		rec, ok := f.records[q.Get("rkey")]
		if !ok || q.Get("repo") != myDID {
			xrpcError(w, 400, "RecordNotFound", "Could not locate record")
			return
		}
		writeJSON(w, 200, map[string]any{"uri": "at://" + myDID + "/app.bsky.feed.post/" + q.Get("rkey"), "cid": "bafyrec", "value": rec})
	case "com.atproto.repo.deleteRecord":
		var in struct{ Repo, Collection, Rkey string }
		json.Unmarshal(body, &in)
		delete(f.records, in.Rkey)
		writeJSON(w, 200, map[string]any{})
	case "app.bsky.feed.getPosts":
		var out []map[string]any
		for _, u := range r.URL.Query()["uris"] {
			rec, ok := f.posts[u]
			if !ok {
				if rk := u[strings.LastIndexByte(u, '/')+1:]; strings.HasPrefix(u, "at://"+myDID) {
					rec, ok = f.records[rk]
				}
			}
			if ok {
				out = append(out, map[string]any{"uri": u, "cid": "cid-" + u[len(u)-3:], "record": rec,
					"author":    map[string]string{"did": "did:plc:x", "handle": "x.bsky.social"},
					"likeCount": 10, "repostCount": 2, "quoteCount": 1, "replyCount": 3})
			}
		}
		writeJSON(w, 200, map[string]any{"posts": out})
	case "app.bsky.actor.getProfile":
		if r.URL.Query().Get("actor") != myDID {
			xrpcError(w, 400, "InvalidRequest", "Profile not found")
			return
		}
		writeJSON(w, 200, map[string]any{"did": myDID, "handle": "bmw.bsky.social", "displayName": "BMW",
			"followersCount": 4321, "followsCount": 12, "postsCount": len(f.records)})
	case "app.bsky.notification.listNotifications":
		f.listNotifications(w, r)
	default:
		xrpcError(w, 501, "MethodNotImplemented", "Method Not Implemented")
	}
}

func (f *fakePDS) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		start, _ = strconv.Atoi(c)
	}
	end := min(len(f.notifs), start+limit)
	var out []map[string]any
	for _, n := range f.notifs[start:end] {
		rec := map[string]any{"$type": "app.bsky.feed.post", "text": n.Text, "createdAt": n.At.Format(time.RFC3339), "langs": []string{"de"}}
		if n.ReplyParent != "" {
			rec["reply"] = map[string]any{"parent": map[string]string{"uri": n.ReplyParent, "cid": "c1"}, "root": map[string]string{"uri": n.ReplyRoot, "cid": "c2"}}
		}
		out = append(out, map[string]any{"uri": n.URI, "cid": "cid", "reason": n.Reason, "record": rec, "isRead": false,
			"indexedAt": n.At.Format("2006-01-02T15:04:05.000Z"),
			"author":    map[string]string{"did": "did:plc:fan", "handle": "fan.bsky.social", "displayName": "Fan"}})
	}
	resp := map[string]any{"notifications": out}
	if out == nil {
		resp["notifications"] = []any{}
	}
	if end < len(f.notifs) {
		resp["cursor"] = strconv.Itoa(end)
	}
	writeJSON(w, 200, resp)
}
