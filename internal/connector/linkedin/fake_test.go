package linkedin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLinkedIn answers like LinkedIn's versioned REST API and OAuth 2.0
// endpoints per learn.microsoft.com/linkedin: it requires LinkedIn-Version
// (YYYYMM) and X-Restli-Protocol-Version 2.0.0 on /rest, URL-encoded URNs
// in paths, answers POST /rest/posts with 201 and x-restli-id, lists posts
// with the author finder, socialActions comments with start/count/total
// paging, the Images API upload, networkSizes and share statistics with
// List(...) parameters, errors as {"status","serviceErrorCode","code",
// "message"}, and the accessToken endpoint with authorization_code and
// refresh_token grants. Every request is recorded.
type fakeLinkedIn struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu          sync.Mutex
	org         string
	access      map[string]bool
	refresh     string
	codes       map[string]bool
	posts       []*liPost
	comments    []*liComment
	images      map[string][]byte
	nextID      int
	tokens      int
	requests    []recorded
	override    func(w http.ResponseWriter, r *http.Request) bool
	afterCreate func(w http.ResponseWriter, r *http.Request) bool
}

type liPost struct {
	URN, Commentary string
	Content         map[string]any
	Created         time.Time
	Impressions     int64
	Likes, Shares   int64
}

type liComment struct {
	URN, Post, Parent, Actor, Text string
	Created                        time.Time
}

type recorded struct {
	Method, Path, RawPath, RawQuery string
	Header                          http.Header
	Body                            []byte
}

var versionRE = regexp.MustCompile(`^\d{6}$`)

func newFakeLinkedIn(t *testing.T, now func() time.Time) *fakeLinkedIn {
	f := &fakeLinkedIn{t: t, now: now, org: "urn:li:organization:2414183", access: map[string]bool{"tok-good": true},
		refresh: "rt-1", codes: map[string]bool{}, images: map[string][]byte{}, nextID: 7000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLinkedIn) id() string { f.nextID++; return strconv.Itoa(f.nextID) }

func (f *fakeLinkedIn) set(fn func()) { f.mu.Lock(); defer f.mu.Unlock(); fn() }

func (f *fakeLinkedIn) all(method, path string) []recorded {
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

func (f *fakeLinkedIn) last(method, path string) recorded {
	f.t.Helper()
	rs := f.all(method, path)
	if len(rs) == 0 {
		f.t.Fatalf("no %s %s", method, path)
	}
	return rs[len(rs)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

func liErr(w http.ResponseWriter, status, service int, code, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "serviceErrorCode": service, "code": code, "message": msg})
}

func (f *fakeLinkedIn) addPost(text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &liPost{URN: "urn:li:share:" + f.id(), Commentary: text, Created: f.now()}
	f.posts = append(f.posts, p)
	return p.URN
}

func activity(post string) string {
	return "urn:li:activity:" + post[strings.LastIndexByte(post, ':')+1:]
}

func (f *fakeLinkedIn) addComment(post, parent, actor, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addCommentLocked(post, parent, actor, text)
}

func (f *fakeLinkedIn) addCommentLocked(post, parent, actor, text string) string {
	c := &liComment{URN: "urn:li:comment:(" + activity(post) + "," + f.id() + ")", Post: post, Parent: parent, Actor: actor, Text: text, Created: f.now()}
	f.comments = append(f.comments, c)
	return c.URN
}

func (c *liComment) json() map[string]any {
	m := map[string]any{"actor": c.Actor, "commentUrn": c.URN, "$URN": c.URN, "id": c.URN[strings.LastIndexByte(c.URN, ',')+1 : len(c.URN)-1],
		"object": activity(c.Post), "message": map[string]any{"text": c.Text, "attributes": []any{}},
		"created": map[string]any{"actor": c.Actor, "time": c.Created.UnixMilli()}}
	if c.Parent != "" {
		m["parentComment"] = c.Parent
	}
	return m
}

func (f *fakeLinkedIn) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), body})
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if r.URL.Path == "/oauth/v2/accessToken" {
		f.token(w, r, body)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	valid := f.access[tok]
	f.mu.Unlock()
	if !valid {
		liErr(w, 401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/dms-uploads/") && r.Method == "PUT" {
		f.mu.Lock()
		f.images[strings.TrimPrefix(r.URL.Path, "/dms-uploads/")] = body
		f.mu.Unlock()
		w.WriteHeader(201)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/rest/") {
		liErr(w, 404, 0, "NOT_FOUND", "no such resource")
		return
	}
	if !versionRE.MatchString(r.Header.Get("Linkedin-Version")) {
		liErr(w, 400, 0, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
		return
	}
	if r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
		liErr(w, 400, 0, "PROTOCOL_VERSION", "X-Restli-Protocol-Version 2.0.0 is required")
		return
	}
	// URNs in paths must arrive URL-encoded.
	if strings.Contains(r.URL.Path, "urn:li:") && !strings.Contains(r.URL.RawPath, "urn%3Ali%3A") {
		liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "Syntax exception in path variables")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case r.Method == "POST" && p == "/rest/posts":
		f.createPost(w, r, body)
	case r.Method == "GET" && p == "/rest/posts":
		if q.Get("q") != "author" || q.Get("author") != f.org {
			liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "finder author requires author="+f.org)
			return
		}
		count, _ := strconv.Atoi(q.Get("count"))
		if count <= 0 {
			count = 10
		}
		els := []map[string]any{}
		for i := len(f.posts) - 1; i >= 0 && len(els) < count; i-- {
			pp := f.posts[i]
			els = append(els, map[string]any{"id": pp.URN, "author": f.org, "commentary": pp.Commentary, "visibility": "PUBLIC",
				"lifecycleState": "PUBLISHED", "createdAt": pp.Created.UnixMilli(), "publishedAt": pp.Created.UnixMilli()})
		}
		writeJSON(w, 200, map[string]any{"elements": els, "paging": map[string]any{"start": 0, "count": count, "links": []any{}}})
	case r.Method == "DELETE" && strings.HasPrefix(p, "/rest/posts/"):
		urn := strings.TrimPrefix(p, "/rest/posts/")
		i := slices.IndexFunc(f.posts, func(pp *liPost) bool { return pp.URN == urn })
		if i < 0 {
			liErr(w, 404, 0, "NOT_FOUND", "Post not found")
			return
		}
		f.posts = slices.Delete(f.posts, i, i+1)
		w.WriteHeader(204)
	case strings.HasPrefix(p, "/rest/socialActions/") && strings.HasSuffix(p, "/comments"):
		f.socialComments(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/rest/socialActions/"), "/comments"), body)
	case r.Method == "POST" && p == "/rest/images" && q.Get("action") == "initializeUpload":
		var in struct {
			Req struct {
				Owner string `json:"owner"`
			} `json:"initializeUploadRequest"`
		}
		if json.Unmarshal(body, &in) != nil || in.Req.Owner != f.org {
			liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "owner must be the organization")
			return
		}
		id := f.id()
		writeJSON(w, 200, map[string]any{"value": map[string]any{"uploadUrlExpiresAt": f.now().Add(time.Hour).UnixMilli(),
			"uploadUrl": f.srv.URL + "/dms-uploads/" + id, "image": "urn:li:image:C4E" + id}})
	case r.Method == "GET" && p == "/rest/organizationAcls":
		if q.Get("q") != "roleAssignee" || q.Get("role") != "ADMINISTRATOR" || q.Get("state") != "APPROVED" {
			liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "finder")
			return
		}
		writeJSON(w, 200, map[string]any{"elements": []map[string]any{
			{"organization": "urn:li:organization:1111", "role": "ADMINISTRATOR", "state": "APPROVED", "roleAssignee": "urn:li:person:abc"},
			{"organization": f.org, "role": "ADMINISTRATOR", "state": "APPROVED", "roleAssignee": "urn:li:person:abc"}}})
	case r.Method == "GET" && p == "/rest/organizations/1111":
		writeJSON(w, 200, map[string]any{"id": 1111, "vanityName": "bmw-motorrad", "localizedName": "BMW Motorrad"})
	case r.Method == "GET" && p == "/rest/organizations/"+strings.TrimPrefix(f.org, "urn:li:organization:"):
		writeJSON(w, 200, map[string]any{"id": 2414183, "vanityName": "bmw-group", "localizedName": "BMW Group"})
	case r.Method == "GET" && p == "/rest/networkSizes/"+f.org:
		if q.Get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER" {
			liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "edgeType")
			return
		}
		writeJSON(w, 200, map[string]any{"firstDegreeSize": 12345})
	case r.Method == "GET" && p == "/rest/organizationalEntityShareStatistics":
		f.shareStats(w, r)
	default:
		liErr(w, 404, 0, "NOT_FOUND", "no such resource "+p)
	}
}

func (f *fakeLinkedIn) createPost(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Author       string `json:"author"`
		Commentary   string `json:"commentary"`
		Visibility   string `json:"visibility"`
		Distribution struct {
			FeedDistribution string `json:"feedDistribution"`
		} `json:"distribution"`
		LifecycleState string         `json:"lifecycleState"`
		Content        map[string]any `json:"content"`
		Reshare        bool           `json:"isReshareDisabledByAuthor"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &in) != nil {
		liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "JSON body required")
		return
	}
	switch {
	case in.Author != f.org:
		liErr(w, 403, 100, "ACCESS_DENIED", "Not enough permissions to post as "+in.Author)
		return
	case in.Visibility != "PUBLIC" || in.Distribution.FeedDistribution != "MAIN_FEED" || in.LifecycleState != "PUBLISHED":
		liErr(w, 422, 0, "UNPROCESSABLE_ENTITY", "visibility, distribution and lifecycleState are required")
		return
	case len([]rune(in.Commentary)) > 3000:
		liErr(w, 422, 0, "UNPROCESSABLE_ENTITY", "commentary is too long")
		return
	}
	if m, ok := in.Content["media"].(map[string]any); ok {
		id, _ := m["id"].(string)
		if _, up := f.images[strings.TrimPrefix(id, "urn:li:image:C4E")]; !up {
			liErr(w, 422, 0, "UNPROCESSABLE_ENTITY", "image "+id+" was not uploaded")
			return
		}
	}
	p := &liPost{URN: "urn:li:share:" + f.id(), Commentary: in.Commentary, Content: in.Content, Created: f.now()}
	f.posts = append(f.posts, p)
	if f.afterCreate != nil {
		after := f.afterCreate
		f.mu.Unlock()
		handled := after(w, r)
		f.mu.Lock()
		if handled {
			return
		}
	}
	w.Header().Set("X-RestLi-Id", p.URN)
	w.WriteHeader(201)
}

func (f *fakeLinkedIn) socialComments(w http.ResponseWriter, r *http.Request, target string, body []byte) {
	if r.Method == "POST" {
		var in struct {
			Actor   string `json:"actor"`
			Object  string `json:"object"`
			Parent  string `json:"parentComment"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
		}
		json.Unmarshal(body, &in)
		i := slices.IndexFunc(f.comments, func(c *liComment) bool { return c.URN == target })
		switch {
		case i < 0:
			liErr(w, 404, 0, "NOT_FOUND", "comment not found")
		case in.Actor != f.org || in.Parent != target || in.Object != activity(f.comments[i].Post) || in.Message.Text == "":
			liErr(w, 422, 0, "UNPROCESSABLE_ENTITY", "actor, object, parentComment and message are required")
		default:
			urn := f.addCommentLocked(f.comments[i].Post, target, f.org, in.Message.Text)
			w.Header().Set("X-RestLi-Id", urn)
			writeJSON(w, 201, f.comments[len(f.comments)-1].json())
		}
		return
	}
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("start"))
	count, _ := strconv.Atoi(q.Get("count"))
	if count <= 0 {
		count = 10
	}
	var list []*liComment
	for _, c := range f.comments {
		if c.Post == target || c.Parent == target {
			list = append(list, c)
		}
	}
	if !slices.ContainsFunc(f.posts, func(p *liPost) bool { return p.URN == target }) &&
		!slices.ContainsFunc(f.comments, func(c *liComment) bool { return c.URN == target }) {
		liErr(w, 404, 0, "NOT_FOUND", "not found")
		return
	}
	total := len(list)
	page := list[min(start, total):min(start+count, total)]
	els := []map[string]any{}
	for _, c := range page {
		els = append(els, c.json())
	}
	writeJSON(w, 200, map[string]any{"elements": els, "paging": map[string]any{"start": start, "count": count, "total": total, "links": []any{}}})
}

var listRE = regexp.MustCompile(`(shares|ugcPosts)=List\(([^)]*)\)`)

func (f *fakeLinkedIn) shareStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("q") != "organizationalEntity" || q.Get("organizationalEntity") != f.org {
		liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "organizationalEntity finder")
		return
	}
	els := []map[string]any{}
	for _, m := range listRE.FindAllStringSubmatch(r.URL.RawQuery, -1) {
		for _, e := range strings.Split(m[2], ",") {
			urn, err := url.QueryUnescape(e)
			if err != nil || !strings.HasPrefix(e, "urn%3Ali%3A") {
				liErr(w, 400, 0, "ILLEGAL_ARGUMENT", "URNs in List() must be encoded")
				return
			}
			i := slices.IndexFunc(f.posts, func(p *liPost) bool { return p.URN == urn })
			if i < 0 {
				continue
			}
			p := f.posts[i]
			n := 0
			for _, c := range f.comments {
				if c.Post == p.URN {
					n++
				}
			}
			els = append(els, map[string]any{"share": urn, "organizationalEntity": f.org, "totalShareStatistics": map[string]any{
				"impressionCount": p.Impressions, "likeCount": p.Likes, "commentCount": n, "shareCount": p.Shares, "clickCount": 0, "engagement": 0.1}})
		}
	}
	writeJSON(w, 200, map[string]any{"elements": els, "paging": map[string]any{"start": 0, "count": 10}})
}

func (f *fakeLinkedIn) token(w http.ResponseWriter, r *http.Request, body []byte) {
	oauthErr := func(code, desc string) {
		writeJSON(w, 400, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != "POST" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthErr("invalid_request", "form POST required")
		return
	}
	form, _ := url.ParseQuery(string(body))
	if form.Get("client_id") != "cid-li" || form.Get("client_secret") != "csec-li" {
		writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch form.Get("grant_type") {
	case "authorization_code":
		if !f.codes[form.Get("code")] || form.Get("redirect_uri") == "" {
			oauthErr("invalid_request", "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.")
			return
		}
		delete(f.codes, form.Get("code"))
	case "refresh_token":
		if form.Get("refresh_token") != f.refresh {
			oauthErr("invalid_request", "The provided authorization grant or refresh token is invalid, expired or revoked.")
			return
		}
	default:
		oauthErr("unsupported_grant_type", "grant_type")
		return
	}
	f.tokens++
	acc := "tok-" + strconv.Itoa(f.tokens)
	f.access[acc] = true
	out := map[string]any{"access_token": acc, "expires_in": 5183999, "scope": "r_organization_social,w_organization_social"}
	if form.Get("grant_type") == "authorization_code" {
		out["refresh_token"], out["refresh_token_expires_in"] = f.refresh, 31535999
	}
	writeJSON(w, 200, out)
}
