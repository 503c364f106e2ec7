package facebook

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// fakeGraph answers like the Graph API (v21.0) for a Page, per
// developers.facebook.com: /{page-id} fields, /{page-id}/feed (GET newest
// first, POST message/link/attached_media), /{page-id}/photos (url or
// multipart source, published=false), /{object-id}/comments (filter
// toplevel|stream, order chronological|reverse_chronological, limit,
// cursors.after and paging.next), POST /{comment-id}/comments, DELETE
// /{id}, post fields with summaries, /{post-id}/insights, X-App-Usage on
// every answer, {"error": {message, type, code, error_subcode,
// fbtrace_id}} bodies. It checks the Bearer token and appsecret_proof
// and records every request.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu        sync.Mutex
	pageID    string
	token     string
	appSecret string
	posts     []*fakePost // ascending creation
	photos    map[string]bool
	comments  []*fakeComment // ascending creation
	nextID    int
	calls     int
	requests  []recorded
	override  func(w http.ResponseWriter, r *http.Request) bool
	afterPost func(w http.ResponseWriter, r *http.Request) bool
	noInsight bool
}

type fakePost struct {
	ID, Message, Link         string
	Attached                  []string
	Created, Updated          time.Time
	Reactions, Shares, Impres int64
}

type fakeComment struct {
	ID, PostID, ParentID, Message, FromID, FromName string
	Created                                         time.Time
}

type recorded struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
	Form         url.Values
}

const graphTimeLayout = "2006-01-02T15:04:05-0700"

func newFakeGraph(t *testing.T, now func() time.Time) *fakeGraph {
	f := &fakeGraph{t: t, now: now, pageID: "104000000000001", token: "page-tok", appSecret: "app-secret",
		photos: map[string]bool{}, nextID: 500}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) id() string { f.nextID++; return strconv.Itoa(f.nextID) }

func (f *fakeGraph) setOverride(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override = fn
}

func (f *fakeGraph) setAfterPost(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.afterPost = fn
}

func (f *fakeGraph) last(method, path string) recorded {
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

func (f *fakeGraph) all(method, path string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.requests {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func graphErr(w http.ResponseWriter, status, code, sub int, typ, msg string) {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEf123"}
	if sub != 0 {
		e["error_subcode"] = sub
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func notFound(w http.ResponseWriter, id string) {
	graphErr(w, 400, 100, 33, "GraphMethodException",
		"Unsupported request. Object with ID '"+id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.")
}

// addPost stores a post of the page (as if published elsewhere).
func (f *fakeGraph) addPost(msg string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &fakePost{ID: f.pageID + "_" + f.id(), Message: msg, Created: f.now(), Updated: f.now()}
	f.posts = append(f.posts, p)
	return p.ID
}

// addComment stores a comment on postID (a reply when parentID is set)
// and bumps the post's updated_time, as Graph does.
func (f *fakeGraph) addComment(postID, parentID, fromID, fromName, msg string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addCommentLocked(postID, parentID, fromID, fromName, msg)
}

func (f *fakeGraph) addCommentLocked(postID, parentID, fromID, fromName, msg string) string {
	_, post, _ := strings.Cut(postID, "_")
	c := &fakeComment{ID: post + "_" + f.id(), PostID: postID, ParentID: parentID, Message: msg, FromID: fromID, FromName: fromName, Created: f.now()}
	f.comments = append(f.comments, c)
	for _, p := range f.posts {
		if p.ID == postID {
			p.Updated = f.now()
		}
	}
	return c.ID
}

func (f *fakeGraph) findPost(id string) *fakePost {
	for _, p := range f.posts {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (f *fakeGraph) findComment(id string) *fakeComment {
	for _, c := range f.comments {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		rec.Form, _ = url.ParseQuery(string(body))
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.calls++
	w.Header().Set("X-App-Usage", fmt.Sprintf(`{"call_count":%d,"total_cputime":1,"total_time":1}`, f.calls))
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v21.0/")
	if !ok {
		graphErr(w, 400, 2500, 0, "OAuthException", "Unknown path components: "+r.URL.Path)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok != f.token {
		graphErr(w, 400, 190, 463, "OAuthException", "Error validating access token: Session has expired on Saturday, 01-Mar-25 11:00:00 PST.")
		return
	}
	if r.URL.Query().Get("appsecret_proof") != AppSecretProof(f.token, f.appSecret) {
		graphErr(w, 400, 100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument")
		return
	}
	parts := strings.Split(path, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "GET" && len(parts) == 1 && (parts[0] == f.pageID || parts[0] == "me"):
		out := map[string]any{"id": f.pageID}
		for _, fl := range strings.Split(r.URL.Query().Get("fields"), ",") {
			switch fl {
			case "name":
				out["name"] = "BMW Niederlassung"
			case "link":
				out["link"] = "https://www.facebook.com/bmw.nl"
			case "followers_count":
				out["followers_count"] = 5200
			case "fan_count":
				out["fan_count"] = 5100
			}
		}
		writeJSON(w, 200, out)
	case r.Method == "GET" && len(parts) == 2 && parts[0] == f.pageID && parts[1] == "feed":
		f.feed(w, r)
	case r.Method == "POST" && len(parts) == 2 && parts[0] == f.pageID && parts[1] == "feed":
		f.createPost(w, r, rec.Form)
	case r.Method == "POST" && len(parts) == 2 && parts[0] == f.pageID && parts[1] == "photos":
		f.uploadPhoto(w, r, rec.Form)
	case r.Method == "GET" && len(parts) == 2 && parts[1] == "comments":
		f.listComments(w, r, parts[0])
	case r.Method == "POST" && len(parts) == 2 && parts[1] == "comments":
		parent := f.findComment(parts[0])
		if parent == nil {
			notFound(w, parts[0])
			return
		}
		if strings.TrimSpace(rec.Form.Get("message")) == "" && rec.Form.Get("attachment_url") == "" {
			graphErr(w, 400, 100, 0, "OAuthException", "(#100) Missing message or attachment")
			return
		}
		id := f.addCommentLocked(parent.PostID, parent.ID, f.pageID, "BMW Niederlassung", rec.Form.Get("message"))
		writeJSON(w, 200, map[string]string{"id": id})
	case r.Method == "DELETE" && len(parts) == 1:
		if i := slices.IndexFunc(f.posts, func(p *fakePost) bool { return p.ID == parts[0] }); i >= 0 {
			f.posts = slices.Delete(f.posts, i, i+1)
			writeJSON(w, 200, map[string]bool{"success": true})
			return
		}
		notFound(w, parts[0])
	case r.Method == "GET" && len(parts) == 1:
		p := f.findPost(parts[0])
		if p == nil {
			notFound(w, parts[0])
			return
		}
		fields := r.URL.Query().Get("fields")
		if !strings.Contains(fields, "reactions.summary(total_count)") || !strings.Contains(fields, "comments.summary(total_count)") {
			graphErr(w, 400, 100, 0, "OAuthException", "test expects summary fields, got "+fields)
			return
		}
		n := 0
		for _, c := range f.comments {
			if c.PostID == p.ID {
				n++
			}
		}
		writeJSON(w, 200, map[string]any{"id": p.ID, "shares": map[string]int64{"count": p.Shares},
			"reactions": map[string]any{"data": []any{}, "summary": map[string]any{"total_count": p.Reactions, "viewer_reaction": "NONE"}},
			"comments":  map[string]any{"data": []any{}, "summary": map[string]any{"total_count": n, "order": "ranked"}}})
	case r.Method == "GET" && len(parts) == 2 && parts[1] == "insights":
		p := f.findPost(parts[0])
		if p == nil {
			notFound(w, parts[0])
			return
		}
		if f.noInsight {
			graphErr(w, 400, 10, 0, "OAuthException", "(#10) Requires read_insights permission")
			return
		}
		if r.URL.Query().Get("metric") != "post_impressions" {
			graphErr(w, 400, 100, 0, "OAuthException", "(#100) The value must be a valid insights metric")
			return
		}
		writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"name": "post_impressions", "period": "lifetime",
			"values": []any{map[string]any{"value": p.Impres}}, "title": "Lifetime Post Total Impressions", "id": p.ID + "/insights/post_impressions/lifetime"}}})
	default:
		graphErr(w, 400, 100, 0, "GraphMethodException", "Unsupported "+r.Method+" request.")
	}
}

func (f *fakeGraph) feed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	since := int64(0)
	if v := q.Get("since"); v != "" {
		since, _ = strconv.ParseInt(v, 10, 64)
	}
	var data []map[string]any
	for i := len(f.posts) - 1; i >= 0 && len(data) < limit; i-- {
		p := f.posts[i]
		if p.Created.Unix() < since {
			continue
		}
		data = append(data, map[string]any{"id": p.ID, "message": p.Message, "created_time": p.Created.Format(graphTimeLayout),
			"updated_time": p.Updated.Format(graphTimeLayout)})
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

func (f *fakeGraph) createPost(w http.ResponseWriter, r *http.Request, form url.Values) {
	if form == nil {
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) expected a form body")
		return
	}
	p := &fakePost{ID: f.pageID + "_" + f.id(), Message: form.Get("message"), Link: form.Get("link"), Created: f.now(), Updated: f.now()}
	for i := 0; ; i++ {
		v := form.Get(fmt.Sprintf("attached_media[%d]", i))
		if v == "" {
			break
		}
		var att struct {
			MediaFBID string `json:"media_fbid"`
		}
		if json.Unmarshal([]byte(v), &att) != nil || !f.photos[att.MediaFBID] {
			graphErr(w, 400, 100, 0, "OAuthException", "(#100) param attached_media must be an array of unpublished photo ids")
			return
		}
		p.Attached = append(p.Attached, att.MediaFBID)
	}
	if p.Message == "" && p.Link == "" && len(p.Attached) == 0 {
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) The parameter message or link is required")
		return
	}
	f.posts = append(f.posts, p)
	if f.afterPost != nil {
		after := f.afterPost
		f.mu.Unlock()
		handled := after(w, r)
		f.mu.Lock()
		if handled {
			return
		}
	}
	writeJSON(w, 200, map[string]string{"id": p.ID})
}

func (f *fakeGraph) uploadPhoto(w http.ResponseWriter, r *http.Request, form url.Values) {
	published, src := "", ""
	if form != nil {
		published, src = form.Get("published"), form.Get("url")
	} else if err := r.ParseMultipartForm(1 << 20); err == nil {
		published = r.FormValue("published")
		if file, _, err := r.FormFile("source"); err == nil {
			b, _ := io.ReadAll(file)
			file.Close()
			src = "bytes:" + string(b)
		}
	}
	if src == "" {
		graphErr(w, 400, 324, 0, "OAuthException", "(#324) Requires upload file")
		return
	}
	if published != "false" {
		graphErr(w, 400, 100, 0, "OAuthException", "test expects published=false")
		return
	}
	id := f.id()
	f.photos[id] = true
	writeJSON(w, 200, map[string]string{"id": id})
}

// listComments: toplevel = direct children of obj (post or comment);
// stream = every comment on the post, flat, chronological.
func (f *fakeGraph) listComments(w http.ResponseWriter, r *http.Request, obj string) {
	q := r.URL.Query()
	if !strings.Contains(q.Get("fields"), "from") {
		graphErr(w, 400, 100, 0, "OAuthException", "test expects fields with from")
		return
	}
	post := f.findPost(obj)
	parent := f.findComment(obj)
	if post == nil && parent == nil {
		notFound(w, obj)
		return
	}
	var list []*fakeComment
	for _, c := range f.comments {
		switch {
		case post != nil && q.Get("filter") == "stream":
			if c.PostID == post.ID {
				list = append(list, c)
			}
		case post != nil:
			if c.PostID == post.ID && c.ParentID == "" {
				list = append(list, c)
			}
		default:
			if c.ParentID == parent.ID {
				list = append(list, c)
			}
		}
	}
	switch q.Get("order") {
	case "", "chronological":
	case "reverse_chronological":
		slices.Reverse(list)
	default:
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) order must be one of chronological, reverse_chronological")
		return
	}
	if a := q.Get("after"); a != "" {
		id, err := base64.StdEncoding.DecodeString(a)
		i := slices.IndexFunc(list, func(c *fakeComment) bool { return c.ID == string(id) })
		if err != nil || i < 0 {
			graphErr(w, 400, 100, 0, "OAuthException", "(#100) invalid cursor")
			return
		}
		list = list[i+1:]
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 25
	}
	more := len(list) > limit
	list = list[:min(limit, len(list))]
	data := []map[string]any{}
	for _, c := range list {
		m := map[string]any{"id": c.ID, "message": c.Message, "created_time": c.Created.Format(graphTimeLayout),
			"from": map[string]string{"id": c.FromID, "name": c.FromName}, "permalink_url": "https://www.facebook.com/" + c.ID}
		if c.ParentID != "" {
			pc := f.findComment(c.ParentID)
			m["parent"] = map[string]any{"id": pc.ID, "from": map[string]string{"id": pc.FromID, "name": pc.FromName}}
		}
		data = append(data, m)
	}
	out := map[string]any{"data": data}
	if len(list) > 0 {
		pg := map[string]any{"cursors": map[string]string{
			"before": base64.StdEncoding.EncodeToString([]byte(list[0].ID)),
			"after":  base64.StdEncoding.EncodeToString([]byte(list[len(list)-1].ID))}}
		if more {
			nq := url.Values{"after": {base64.StdEncoding.EncodeToString([]byte(list[len(list)-1].ID))}, "limit": {strconv.Itoa(limit)}}
			pg["next"] = f.srv.URL + r.URL.Path + "?" + nq.Encode()
		}
		out["paging"] = pg
	}
	writeJSON(w, 200, out)
}
