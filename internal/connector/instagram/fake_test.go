package instagram

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

	"github.com/vernetzen/vernetzen/internal/connector/facebook"
)

// fakeIG answers like the Instagram Graph API (Facebook Login, v21.0) per
// developers.facebook.com: /{page-id}?fields=instagram_business_account,
// /{ig-user-id} fields, POST /{ig-user-id}/media (image_url or
// media_type=REELS + video_url, caption) creating a container whose
// status_code goes IN_PROGRESS → FINISHED, POST /{ig-user-id}/media_publish
// (creation_id, only when FINISHED), /{ig-user-id}/media listing,
// /{media-id} fields, /{media-id}/comments (newest first, nested replies,
// cursors.after / paging.next), /{comment-id}/replies GET and POST,
// /{media-id}/insights, Graph error bodies; it checks the Bearer token and
// appsecret_proof and records every request.
type fakeIG struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu           sync.Mutex
	pageID, igID string
	username     string
	token        string
	appSecret    string
	containers   map[string]*container
	media        []*igMedia // ascending
	comments     []*igComment
	nextID       int
	requests     []recorded
	override     func(w http.ResponseWriter, r *http.Request) bool
	afterPublish func(w http.ResponseWriter, r *http.Request) bool
	pollsNeeded  int
	failStatus   string
	// fetchMedia makes container creation download image_url or
	// video_url as Instagram does (a video by ranges first); a failed
	// download is the container's ERROR status.
	fetchMedia bool
	fetches    []fetched
	// demographics: follower counts per age and gender value as Graph
	// names them ("18-24", "F"); nil answers empty breakdowns (a small
	// account). noInsights refuses the metric as without
	// instagram_manage_insights.
	demographics map[string]map[string]int
	noInsights   bool
}

// fetched is one download of a container's media by the fake.
type fetched struct {
	URL, Range, ContentType string
	Status                  int
	Body                    []byte
}

type container struct {
	ID, Caption, ImageURL, VideoURL, MediaType, Status string
	polls                                              int
	Err                                                string // why the media could not be fetched
}

type igMedia struct {
	ID, Caption, Permalink string
	Created                time.Time
	Likes, Views           int64
}

type igComment struct {
	ID, MediaID, ParentID, Text, FromID, Username string
	Created                                       time.Time
}

type recorded struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Form         url.Values
}

const tsLayout = "2006-01-02T15:04:05-0700"

func newFakeIG(t *testing.T, now func() time.Time) *fakeIG {
	f := &fakeIG{t: t, now: now, pageID: "104000000000001", igID: "17841400000000001", username: "bmw_nl",
		token: "page-tok", appSecret: "app-secret", containers: map[string]*container{}, nextID: 17900000, pollsNeeded: 1}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIG) id() string { f.nextID++; return strconv.Itoa(f.nextID) }

func (f *fakeIG) set(fn func()) { f.mu.Lock(); defer f.mu.Unlock(); fn() }

func (f *fakeIG) all(method, path string) []recorded {
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

func (f *fakeIG) last(method, path string) recorded {
	f.t.Helper()
	rs := f.all(method, path)
	if len(rs) == 0 {
		f.t.Fatalf("no %s %s received", method, path)
	}
	return rs[len(rs)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func graphErr(w http.ResponseWriter, status, code, sub int, typ, msg string) {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbC"}
	if sub != 0 {
		e["error_subcode"] = sub
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func (f *fakeIG) addMedia(caption string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &igMedia{ID: f.id(), Caption: caption, Created: f.now()}
	m.Permalink = "https://www.instagram.com/p/" + m.ID + "/"
	f.media = append(f.media, m)
	return m.ID
}

func (f *fakeIG) addComment(mediaID, parentID, fromID, username, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &igComment{ID: f.id(), MediaID: mediaID, ParentID: parentID, Text: text, FromID: fromID, Username: username, Created: f.now()}
	f.comments = append(f.comments, c)
	return c.ID
}

func (f *fakeIG) findMedia(id string) *igMedia {
	for _, m := range f.media {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func (f *fakeIG) findComment(id string) *igComment {
	for _, c := range f.comments {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (f *fakeIG) commentJSON(c *igComment) map[string]any {
	return map[string]any{"id": c.ID, "text": c.Text, "timestamp": c.Created.Format(tsLayout), "username": c.Username,
		"from": map[string]string{"id": c.FromID, "username": c.Username}}
}

func (f *fakeIG) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		rec.Form, _ = url.ParseQuery(string(body))
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v21.0/")
	if !ok {
		graphErr(w, 400, 2500, 0, "OAuthException", "Unknown path components")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		graphErr(w, 400, 190, 460, "OAuthException", "Error validating access token: The session has been invalidated because the user changed their password.")
		return
	}
	if r.URL.Query().Get("appsecret_proof") != facebook.AppSecretProof(f.token, f.appSecret) {
		graphErr(w, 400, 100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument")
		return
	}
	parts := strings.Split(path, "/")
	fields := r.URL.Query().Get("fields")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "GET" && len(parts) == 1 && parts[0] == f.pageID:
		writeJSON(w, 200, map[string]any{"id": f.pageID, "instagram_business_account": map[string]string{"id": f.igID}})
	case r.Method == "GET" && len(parts) == 1 && parts[0] == f.igID:
		out := map[string]any{"id": f.igID}
		for _, fl := range strings.Split(fields, ",") {
			switch fl {
			case "username":
				out["username"] = f.username
			case "name":
				out["name"] = "BMW Niederlassung"
			case "followers_count":
				out["followers_count"] = 8800
			case "follows_count":
				out["follows_count"] = 120
			case "media_count":
				out["media_count"] = len(f.media)
			}
		}
		writeJSON(w, 200, out)
	case r.Method == "POST" && len(parts) == 2 && parts[0] == f.igID && parts[1] == "media":
		f.createContainer(w, rec.Form)
	case r.Method == "POST" && len(parts) == 2 && parts[0] == f.igID && parts[1] == "media_publish":
		f.publish(w, r, rec.Form)
	case r.Method == "GET" && len(parts) == 2 && parts[0] == f.igID && parts[1] == "media":
		f.listMedia(w, r)
	case r.Method == "GET" && len(parts) == 1 && f.containers[parts[0]] != nil:
		c := f.containers[parts[0]]
		if !strings.Contains(fields, "status_code") {
			graphErr(w, 400, 100, 0, "OAuthException", "test expects fields=status_code")
			return
		}
		if c.Status == "IN_PROGRESS" {
			c.polls++
			if c.polls > f.pollsNeeded {
				c.Status = "FINISHED"
				if f.failStatus != "" {
					c.Status = "ERROR"
				}
			}
		}
		out := map[string]any{"id": c.ID, "status_code": c.Status}
		if c.Status == "ERROR" {
			out["status"] = f.failStatus
			if c.Err != "" {
				out["status"] = c.Err
			}
		}
		writeJSON(w, 200, out)
	case r.Method == "GET" && len(parts) == 1 && f.findMedia(parts[0]) != nil:
		m := f.findMedia(parts[0])
		n := 0
		for _, c := range f.comments {
			if c.MediaID == m.ID {
				n++
			}
		}
		out := map[string]any{"id": m.ID}
		for _, fl := range strings.Split(fields, ",") {
			switch fl {
			case "permalink":
				out["permalink"] = m.Permalink
			case "timestamp":
				out["timestamp"] = m.Created.Format(tsLayout)
			case "like_count":
				out["like_count"] = m.Likes
			case "comments_count":
				out["comments_count"] = n
			}
		}
		writeJSON(w, 200, out)
	case r.Method == "GET" && len(parts) == 2 && parts[1] == "comments" && f.findMedia(parts[0]) != nil:
		f.listComments(w, r, parts[0])
	case r.Method == "GET" && len(parts) == 2 && parts[1] == "insights" && f.findMedia(parts[0]) != nil:
		m := f.findMedia(parts[0])
		if r.URL.Query().Get("metric") != "views,shares" {
			graphErr(w, 400, 100, 0, "OAuthException", "(#100) metric must be one of the following values: ...")
			return
		}
		writeJSON(w, 200, map[string]any{"data": []any{
			map[string]any{"name": "views", "period": "lifetime", "values": []any{map[string]any{"value": m.Views}}},
			map[string]any{"name": "shares", "period": "lifetime", "values": []any{map[string]any{"value": 3}}}}})
	case r.Method == "GET" && len(parts) == 2 && parts[0] == f.igID && parts[1] == "insights":
		f.accountInsights(w, r)
	case len(parts) == 2 && parts[1] == "replies" && f.findComment(parts[0]) != nil:
		parent := f.findComment(parts[0])
		if r.Method == "POST" {
			if strings.TrimSpace(rec.Form.Get("message")) == "" {
				graphErr(w, 400, 100, 0, "OAuthException", "(#100) The parameter message is required")
				return
			}
			c := &igComment{ID: f.id(), MediaID: parent.MediaID, ParentID: parent.ID, Text: rec.Form.Get("message"),
				FromID: f.igID, Username: f.username, Created: f.now()}
			f.comments = append(f.comments, c)
			writeJSON(w, 200, map[string]string{"id": c.ID})
			return
		}
		data := []map[string]any{}
		for _, c := range f.comments {
			if c.ParentID == parent.ID {
				data = append(data, f.commentJSON(c))
			}
		}
		writeJSON(w, 200, map[string]any{"data": data})
	default:
		graphErr(w, 400, 100, 33, "GraphMethodException", "Unsupported "+r.Method+" request. Object with ID '"+parts[0]+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.")
	}
}

func (f *fakeIG) createContainer(w http.ResponseWriter, form url.Values) {
	caption := form.Get("caption")
	if len([]rune(caption)) > 2200 {
		graphErr(w, 400, 100, 2207010, "OAuthException", "The caption is too long.")
		return
	}
	c := &container{ID: f.id(), Caption: caption, Status: "IN_PROGRESS"}
	switch {
	case form.Get("media_type") == "REELS" && form.Get("video_url") != "":
		c.MediaType, c.VideoURL = "REELS", form.Get("video_url")
	case form.Get("image_url") != "" && form.Get("media_type") == "":
		c.MediaType, c.ImageURL = "IMAGE", form.Get("image_url")
	default:
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) The parameter image_url or video_url is required")
		return
	}
	if f.fetchMedia {
		if err := f.download(c); err != "" {
			c.Status, c.Err = "ERROR", err
		}
	}
	f.containers[c.ID] = c
	writeJSON(w, 200, map[string]string{"id": c.ID})
}

// download fetches a container's media from the internet, as Instagram
// does before it processes it: a video first by its first kilobyte (a
// range request, to read the container's header), then whole.
func (f *fakeIG) download(c *container) string {
	u, wantType := c.ImageURL, "image/jpeg"
	ranges := []string{""}
	if c.VideoURL != "" {
		u, wantType, ranges = c.VideoURL, "video/", []string{"bytes=0-1023", ""}
	}
	for _, rg := range ranges {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return "2207052: invalid media URI"
		}
		if rg != "" {
			req.Header.Set("Range", rg)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "2207052: the media could not be fetched from this URI: " + err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		f.fetches = append(f.fetches, fetched{URL: u, Range: rg, ContentType: ct, Status: resp.StatusCode, Body: body})
		want := http.StatusOK
		if rg != "" {
			want = http.StatusPartialContent
		}
		if resp.StatusCode != want {
			return fmt.Sprintf("2207052: the media could not be fetched from this URI (HTTP %d)", resp.StatusCode)
		}
		if !strings.HasPrefix(ct, wantType) {
			return "2207026: unsupported media format " + ct
		}
	}
	return ""
}

func (f *fakeIG) publish(w http.ResponseWriter, r *http.Request, form url.Values) {
	c := f.containers[form.Get("creation_id")]
	if c == nil || c.Status != "FINISHED" {
		graphErr(w, 400, 9007, 2207027, "OAuthException", "The media is not ready for publishing, please wait for a moment")
		return
	}
	c.Status = "PUBLISHED"
	m := &igMedia{ID: f.id(), Caption: c.Caption, Created: f.now()}
	m.Permalink = "https://www.instagram.com/p/" + m.ID + "/"
	f.media = append(f.media, m)
	if after := f.afterPublish; after != nil {
		f.mu.Unlock()
		handled := after(w, r)
		f.mu.Lock()
		if handled {
			return
		}
	}
	writeJSON(w, 200, map[string]string{"id": m.ID})
}

func (f *fakeIG) listMedia(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 25
	}
	data := []map[string]any{}
	for i := len(f.media) - 1; i >= 0 && len(data) < limit; i-- {
		m := f.media[i]
		if m.Created.Unix() < since {
			continue
		}
		n := 0
		for _, c := range f.comments {
			if c.MediaID == m.ID {
				n++
			}
		}
		data = append(data, map[string]any{"id": m.ID, "caption": m.Caption, "comments_count": n,
			"timestamp": m.Created.Format(tsLayout), "permalink": m.Permalink})
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

// listComments: top-level comments newest first, each with its replies
// when asked for, paged by cursors.after.
func (f *fakeIG) listComments(w http.ResponseWriter, r *http.Request, mediaID string) {
	q := r.URL.Query()
	var top []*igComment
	for i := len(f.comments) - 1; i >= 0; i-- {
		if c := f.comments[i]; c.MediaID == mediaID && c.ParentID == "" {
			top = append(top, c)
		}
	}
	if a := q.Get("after"); a != "" {
		id, _ := base64.StdEncoding.DecodeString(a)
		i := slices.IndexFunc(top, func(c *igComment) bool { return c.ID == string(id) })
		if i < 0 {
			graphErr(w, 400, 100, 0, "OAuthException", "invalid cursor")
			return
		}
		top = top[i+1:]
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 25
	}
	more := len(top) > limit
	top = top[:min(limit, len(top))]
	withReplies := strings.Contains(q.Get("fields"), "replies{")
	data := []map[string]any{}
	for _, c := range top {
		m := f.commentJSON(c)
		if withReplies {
			var rs []map[string]any
			for _, rc := range f.comments {
				if rc.ParentID == c.ID {
					rs = append(rs, f.commentJSON(rc))
				}
			}
			if rs != nil {
				m["replies"] = map[string]any{"data": rs}
			}
		}
		data = append(data, m)
	}
	out := map[string]any{"data": data}
	if len(top) > 0 {
		after := base64.StdEncoding.EncodeToString([]byte(top[len(top)-1].ID))
		pg := map[string]any{"cursors": map[string]string{"before": base64.StdEncoding.EncodeToString([]byte(top[0].ID)), "after": after}}
		if more {
			pg["next"] = fmt.Sprintf("%s%s?after=%s&limit=%d", f.srv.URL, r.URL.Path, url.QueryEscape(after), limit)
		}
		out["paging"] = pg
	}
	writeJSON(w, 200, out)
}

// accountInsights answers GET /{ig-user-id}/insights for
// follower_demographics as the Instagram Account Insights reference
// describes it: period=lifetime, metric_type=total_value and one
// breakdown (age, gender, country, city) are required, and the values come
// as total_value.breakdowns[].results[] with dimension_values.
func (f *fakeIG) accountInsights(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("metric") != "follower_demographics" {
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) metric[0] must be one of the following values: ...")
		return
	}
	if q.Get("period") != "lifetime" || q.Get("metric_type") != "total_value" {
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) The following metrics (follower_demographics) should be specified with parameter metric_type=total_value")
		return
	}
	breakdown := q.Get("breakdown")
	if breakdown != "age" && breakdown != "gender" && breakdown != "country" && breakdown != "city" {
		graphErr(w, 400, 100, 0, "OAuthException", "(#100) Incompatible breakdowns")
		return
	}
	if f.noInsights {
		graphErr(w, 403, 10, 0, "OAuthException", "(#10) Application does not have permission for this action")
		return
	}
	results := []any{}
	keys := make([]string, 0, len(f.demographics[breakdown]))
	for k := range f.demographics[breakdown] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		results = append(results, map[string]any{"dimension_values": []string{k}, "value": f.demographics[breakdown][k]})
	}
	breakdowns := []any{}
	if len(results) > 0 {
		breakdowns = append(breakdowns, map[string]any{"dimension_keys": []string{breakdown}, "results": results})
	}
	writeJSON(w, 200, map[string]any{"data": []any{map[string]any{
		"name": "follower_demographics", "period": "lifetime", "title": "Follower demographics",
		"description": "The demographic characteristics of followers, including countries, cities and gender distribution.",
		"total_value": map[string]any{"breakdowns": breakdowns}, "id": f.igID + "/insights/follower_demographics/lifetime"}}})
}
