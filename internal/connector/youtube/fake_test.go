package youtube

import (
	"encoding/json"
	"fmt"
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

// fakeYouTube answers like the YouTube Data API v3 and Google's OAuth
// token endpoint per developers.google.com: the resumable upload protocol
// (POST …/upload/youtube/v3/videos?uploadType=resumable → 200 + Location;
// PUT chunks with Content-Range, 308 + Range while incomplete, 256 KiB
// multiples, "bytes */N" status queries, 200 + video when complete),
// commentThreads.list (allThreadsRelatedToChannelId, order=time, newest
// first, offset pageToken/nextPageToken), comments.insert/list (parentId),
// channels.list (statistics, contentDetails), playlistItems.list,
// videos.list statistics (counts as strings), videos.delete, error bodies
// {"error": {"code", "message", "errors": [{"reason"}]}} and the token
// endpoint's refresh_token and authorization_code grants. Every request
// is recorded.
type fakeYouTube struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu        sync.Mutex
	channel   string
	access    map[string]bool
	refresh   string
	codes     map[string]string // code → PKCE verifier expected
	sessions  map[string]*session
	videos    []*ytVideo
	comments  []*ytComment // ascending
	nextID    int
	tokens    int
	requests  []recorded
	override  func(w http.ResponseWriter, r *http.Request) bool
	onChunk   func(n int, s *session, body []byte) (store int, abort bool) // n counts chunk PUTs
	onStatus  func(n int) (abort bool)
	chunkPuts int
	statusQs  int
	// viewers are the YouTube Analytics report's rows (ageGroup, gender,
	// viewerPercentage); noAnalytics refuses the report as for a token
	// without the yt-analytics.readonly scope.
	viewers     [][3]any
	noAnalytics bool
}

type session struct {
	ID, Title, Description, Privacy, ContentType string
	Total                                        int64
	Data                                         []byte
	Video                                        *ytVideo
}

type ytVideo struct {
	ID, Title, Description string
	Data                   []byte
	Published              time.Time
	Views, Likes, Comments int64
}

type ytComment struct {
	ID, VideoID, ParentID, AuthorChannel, Author, Text string
	Published                                          time.Time
}

type recorded struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

func newFakeYouTube(t *testing.T, now func() time.Time) *fakeYouTube {
	f := &fakeYouTube{t: t, now: now, channel: "UCvernetzen0000000000000", access: map[string]bool{"ya29.good": true}, refresh: "1//rt",
		codes: map[string]string{}, sessions: map[string]*session{}, nextID: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeYouTube) id() string { f.nextID++; return "id" + strconv.Itoa(f.nextID) }

func (f *fakeYouTube) set(fn func()) { f.mu.Lock(); defer f.mu.Unlock(); fn() }

func (f *fakeYouTube) all(method, path string) []recorded {
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

func (f *fakeYouTube) last(method, path string) recorded {
	f.t.Helper()
	rs := f.all(method, path)
	if len(rs) == 0 {
		f.t.Fatalf("no %s %s", method, path)
	}
	return rs[len(rs)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func gErr(w http.ResponseWriter, status int, reason, domain, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []any{map[string]any{"message": msg, "domain": domain, "reason": reason}}}})
}

func (f *fakeYouTube) addComment(videoID, authorChannel, author, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &ytComment{ID: "Ugz" + f.id(), VideoID: videoID, AuthorChannel: authorChannel, Author: author, Text: text, Published: f.now()}
	f.comments = append(f.comments, c)
	return c.ID
}

func (c *ytComment) json() map[string]any {
	sn := map[string]any{"videoId": c.VideoID, "textDisplay": c.Text, "textOriginal": c.Text, "authorDisplayName": c.Author,
		"authorChannelUrl": "http://www.youtube.com/channel/" + c.AuthorChannel, "authorChannelId": map[string]string{"value": c.AuthorChannel},
		"canRate": true, "likeCount": 0, "publishedAt": c.Published.Format(time.RFC3339), "updatedAt": c.Published.Format(time.RFC3339)}
	if c.ParentID != "" {
		sn["parentId"] = c.ParentID
	}
	return map[string]any{"kind": "youtube#comment", "etag": "e", "id": c.ID, "snippet": sn}
}

var rangeRE = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+)$`)

func (f *fakeYouTube) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body})
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if r.URL.Path == "/token" {
		f.token(w, r, body)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok := f.access[tok]
	f.mu.Unlock()
	if !ok {
		gErr(w, 401, "authError", "global", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	q := r.URL.Query()
	switch p := r.URL.Path; {
	case p == "/v2/reports" && r.Method == "GET":
		f.report(w, r)
	case p == "/upload/youtube/v3/videos" && r.Method == "POST":
		f.startUpload(w, r, body)
	case p == "/upload/youtube/v3/videos" && r.Method == "PUT":
		f.putChunk(w, r, body)
	case p == "/youtube/v3/commentThreads" && r.Method == "GET":
		f.threads(w, r)
	case p == "/youtube/v3/comments" && r.Method == "POST":
		var in struct {
			Snippet struct {
				ParentID     string `json:"parentId"`
				TextOriginal string `json:"textOriginal"`
			} `json:"snippet"`
		}
		json.Unmarshal(body, &in)
		f.mu.Lock()
		defer f.mu.Unlock()
		i := slices.IndexFunc(f.comments, func(c *ytComment) bool { return c.ID == in.Snippet.ParentID && c.ParentID == "" })
		if q.Get("part") != "snippet" || i < 0 || in.Snippet.TextOriginal == "" {
			gErr(w, 400, "invalidCommentMetadata", "youtube.comment", "The request metadata is invalid.")
			return
		}
		c := &ytComment{ID: in.Snippet.ParentID + "." + f.id(), VideoID: f.comments[i].VideoID, ParentID: in.Snippet.ParentID,
			AuthorChannel: f.channel, Author: "Vernetzen", Text: in.Snippet.TextOriginal, Published: f.now()}
		f.comments = append(f.comments, c)
		writeJSON(w, 200, c.json())
	case p == "/youtube/v3/comments" && r.Method == "GET":
		f.mu.Lock()
		defer f.mu.Unlock()
		items := []any{}
		for _, c := range f.comments {
			if c.ParentID != "" && c.ParentID == q.Get("parentId") {
				items = append(items, c.json())
			}
		}
		writeJSON(w, 200, map[string]any{"kind": "youtube#commentListResponse", "items": items})
	case p == "/youtube/v3/channels" && r.Method == "GET":
		f.channels(w, r)
	case p == "/youtube/v3/playlistItems" && r.Method == "GET":
		f.mu.Lock()
		defer f.mu.Unlock()
		if q.Get("playlistId") != "UU"+strings.TrimPrefix(f.channel, "UC") {
			gErr(w, 404, "playlistNotFound", "youtube.playlistItem", "The playlist identified with the request's playlistId parameter cannot be found.")
			return
		}
		items := []any{}
		for i := len(f.videos) - 1; i >= 0; i-- {
			v := f.videos[i]
			items = append(items, map[string]any{"id": "PLI" + v.ID, "snippet": map[string]any{"title": v.Title, "description": v.Description,
				"publishedAt": v.Published.Format(time.RFC3339), "resourceId": map[string]string{"kind": "youtube#video", "videoId": v.ID}}})
		}
		writeJSON(w, 200, map[string]any{"items": items})
	case p == "/youtube/v3/videos" && r.Method == "GET":
		f.mu.Lock()
		defer f.mu.Unlock()
		if q.Get("part") != "statistics" {
			gErr(w, 400, "invalidPart", "youtube.parameter", "part")
			return
		}
		items := []any{}
		for _, id := range strings.Split(q.Get("id"), ",") {
			for _, v := range f.videos {
				if v.ID == id {
					items = append(items, map[string]any{"id": v.ID, "statistics": map[string]string{"viewCount": strconv.FormatInt(v.Views, 10),
						"likeCount": strconv.FormatInt(v.Likes, 10), "favoriteCount": "0", "commentCount": strconv.FormatInt(v.Comments, 10)}})
				}
			}
		}
		writeJSON(w, 200, map[string]any{"items": items})
	case p == "/youtube/v3/videos" && r.Method == "DELETE":
		f.mu.Lock()
		defer f.mu.Unlock()
		i := slices.IndexFunc(f.videos, func(v *ytVideo) bool { return v.ID == q.Get("id") })
		if i < 0 {
			gErr(w, 404, "videoNotFound", "youtube.video", "The video identified by the id parameter could not be found.")
			return
		}
		f.videos = slices.Delete(f.videos, i, i+1)
		w.WriteHeader(204)
	default:
		gErr(w, 404, "notFound", "global", "Not Found")
	}
}

func (f *fakeYouTube) startUpload(w http.ResponseWriter, r *http.Request, body []byte) {
	q := r.URL.Query()
	if q.Get("uploadType") != "resumable" || q.Get("part") != "snippet,status" {
		gErr(w, 400, "invalidParameter", "global", "uploadType=resumable and part=snippet,status expected")
		return
	}
	total, err := strconv.ParseInt(r.Header.Get("X-Upload-Content-Length"), 10, 64)
	if err != nil || total <= 0 || !strings.HasPrefix(r.Header.Get("X-Upload-Content-Type"), "video/") ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		gErr(w, 400, "badRequest", "global", "X-Upload-Content-Length, X-Upload-Content-Type and JSON metadata are required")
		return
	}
	var in struct {
		Snippet struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"snippet"`
		Status struct {
			PrivacyStatus string `json:"privacyStatus"`
		} `json:"status"`
	}
	if json.Unmarshal(body, &in) != nil || in.Snippet.Title == "" || len([]rune(in.Snippet.Title)) > 100 || in.Status.PrivacyStatus == "" {
		gErr(w, 400, "invalidTitle", "youtube.video", "The request metadata specifies an invalid or empty video title.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &session{ID: "sess" + f.id(), Title: in.Snippet.Title, Description: in.Snippet.Description, Privacy: in.Status.PrivacyStatus,
		ContentType: r.Header.Get("X-Upload-Content-Type"), Total: total}
	f.sessions[s.ID] = s
	w.Header().Set("Location", f.srv.URL+"/upload/youtube/v3/videos?uploadType=resumable&upload_id="+s.ID)
	w.WriteHeader(200)
}

func (f *fakeYouTube) finish(s *session) map[string]any {
	if s.Video == nil {
		s.Video = &ytVideo{ID: "vid" + f.id(), Title: s.Title, Description: s.Description, Data: s.Data, Published: f.now()}
		f.videos = append(f.videos, s.Video)
	}
	return map[string]any{"kind": "youtube#video", "id": s.Video.ID, "snippet": map[string]any{"title": s.Title, "description": s.Description,
		"publishedAt": s.Video.Published.Format(time.RFC3339), "channelId": f.channel}, "status": map[string]any{"uploadStatus": "uploaded", "privacyStatus": s.Privacy}}
}

func (f *fakeYouTube) incomplete(w http.ResponseWriter, s *session) {
	if len(s.Data) > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", len(s.Data)-1))
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusPermanentRedirect)
}

func (f *fakeYouTube) putChunk(w http.ResponseWriter, r *http.Request, body []byte) {
	f.mu.Lock()
	s := f.sessions[r.URL.Query().Get("upload_id")]
	f.mu.Unlock()
	if s == nil {
		gErr(w, 404, "notFound", "global", "upload session not found")
		return
	}
	cr := r.Header.Get("Content-Range")
	if status, ok := strings.CutPrefix(cr, "bytes */"); ok { // status query
		f.mu.Lock()
		f.statusQs++
		n, hook := f.statusQs, f.onStatus
		f.mu.Unlock()
		if hook != nil && hook(n) {
			panic(http.ErrAbortHandler)
		}
		if status != strconv.FormatInt(s.Total, 10) || len(body) != 0 {
			gErr(w, 400, "badRequest", "global", "bad status query")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.Video != nil {
			writeJSON(w, 200, f.finish(s))
			return
		}
		f.incomplete(w, s)
		return
	}
	m := rangeRE.FindStringSubmatch(cr)
	if m == nil && len(body) == int(s.Total) { // one PUT without Content-Range
		m = []string{"", "0", strconv.Itoa(len(body) - 1), strconv.FormatInt(s.Total, 10)}
	}
	if m == nil {
		gErr(w, 400, "badRequest", "global", "Content-Range required")
		return
	}
	a, _ := strconv.ParseInt(m[1], 10, 64)
	b, _ := strconv.ParseInt(m[2], 10, 64)
	total, _ := strconv.ParseInt(m[3], 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case total != s.Total || b-a+1 != int64(len(body)) || r.ContentLength != int64(len(body)):
		gErr(w, 400, "badRequest", "global", "Content-Range does not match the body")
		return
	case a != int64(len(s.Data)):
		gErr(w, 400, "badRequest", "global", "chunk does not continue the upload")
		return
	case b+1 < total && len(body)%(256<<10) != 0:
		gErr(w, 400, "badRequest", "global", "chunks must be multiples of 256 KiB")
		return
	}
	f.chunkPuts++
	store, abort := len(body), false
	if f.onChunk != nil {
		store, abort = f.onChunk(f.chunkPuts, s, body)
	}
	s.Data = append(s.Data, body[:store]...)
	if int64(len(s.Data)) == s.Total {
		res := f.finish(s)
		if abort {
			f.mu.Unlock()
			defer f.mu.Lock()
			panic(http.ErrAbortHandler)
		}
		writeJSON(w, 201, res)
		return
	}
	if abort {
		f.mu.Unlock()
		defer f.mu.Lock()
		panic(http.ErrAbortHandler)
	}
	f.incomplete(w, s)
}

// threads: top-level comments on the channel's videos, newest first;
// pageToken continues below the previous page's last comment.
func (f *fakeYouTube) threads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("allThreadsRelatedToChannelId") != f.channel || !strings.Contains(q.Get("part"), "snippet") || q.Get("order") != "time" {
		gErr(w, 400, "invalidParameter", "youtube.parameter", "unexpected parameters")
		return
	}
	n, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || n < 1 || n > 100 {
		gErr(w, 400, "invalidParameter", "youtube.parameter", "maxResults must be 1–100")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var top []*ytComment
	for i := len(f.comments) - 1; i >= 0; i-- {
		if f.comments[i].ParentID == "" {
			top = append(top, f.comments[i])
		}
	}
	// Page tokens are offsets into the newest-first list, so a comment
	// arriving between two pages shifts the next page by one (the
	// connector must not deliver the repeated comment twice).
	off := 0
	if tok := q.Get("pageToken"); tok != "" {
		o, err := strconv.Atoi(strings.TrimPrefix(tok, "off-"))
		if err != nil || !strings.HasPrefix(tok, "off-") || o > len(top) {
			gErr(w, 400, "invalidPageToken", "youtube.commentThread", "The request specifies an invalid page token.")
			return
		}
		off = o
	}
	top = top[off:]
	more := len(top) > n
	top = top[:min(n, len(top))]
	items := []any{}
	for _, c := range top {
		items = append(items, map[string]any{"kind": "youtube#commentThread", "id": c.ID, "snippet": map[string]any{
			"channelId": f.channel, "videoId": c.VideoID, "topLevelComment": c.json(), "canReply": true, "totalReplyCount": 0, "isPublic": true}})
	}
	out := map[string]any{"kind": "youtube#commentThreadListResponse", "items": items,
		"pageInfo": map[string]int{"totalResults": len(items), "resultsPerPage": n}}
	if more {
		out["nextPageToken"] = "off-" + strconv.Itoa(off+n)
	}
	writeJSON(w, 200, out)
}

func (f *fakeYouTube) channels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("mine") != "true" && q.Get("id") != f.channel {
		gErr(w, 400, "missingRequiredParameter", "youtube.parameter", "mine or id required")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	item := map[string]any{"kind": "youtube#channel", "id": f.channel}
	for _, part := range strings.Split(q.Get("part"), ",") {
		switch part {
		case "snippet":
			item["snippet"] = map[string]any{"title": "Vernetzen", "customUrl": "@vernetzen"}
		case "statistics":
			item["statistics"] = map[string]any{"viewCount": "90000", "subscriberCount": "1500", "hiddenSubscriberCount": false,
				"videoCount": strconv.Itoa(len(f.videos))}
		case "contentDetails":
			item["contentDetails"] = map[string]any{"relatedPlaylists": map[string]string{"likes": "", "uploads": "UU" + strings.TrimPrefix(f.channel, "UC")}}
		default:
			gErr(w, 400, "invalidPart", "youtube.part", "unknown part "+part)
			return
		}
	}
	writeJSON(w, 200, map[string]any{"kind": "youtube#channelListResponse", "items": []any{item}})
}

func (f *fakeYouTube) token(w http.ResponseWriter, r *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body))
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthErr(400, "invalid_request", "form expected")
		return
	}
	if form.Get("client_id") != "cid.apps.googleusercontent.com" || form.Get("client_secret") != "GOCSPX-secret" {
		oauthErr(401, "invalid_client", "The OAuth client was not found.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]any{"expires_in": 3599, "scope": strings.Join(DefaultScopes, " "), "token_type": "Bearer"}
	switch form.Get("grant_type") {
	case "refresh_token":
		if form.Get("refresh_token") != f.refresh {
			oauthErr(400, "invalid_grant", "Token has been expired or revoked.")
			return
		}
	case "authorization_code":
		verifier, ok := f.codes[form.Get("code")]
		if !ok || verifier != form.Get("code_verifier") || form.Get("redirect_uri") == "" {
			oauthErr(400, "invalid_grant", "Bad Request")
			return
		}
		delete(f.codes, form.Get("code"))
		out["refresh_token"] = f.refresh
	default:
		oauthErr(400, "unsupported_grant_type", "Invalid grant_type")
		return
	}
	f.tokens++
	acc := "ya29.new" + strconv.Itoa(f.tokens)
	f.access[acc] = true
	out["access_token"] = acc
	writeJSON(w, 200, out)
}

// report answers the YouTube Analytics API's reports.query
// (youtubeanalytics.googleapis.com/v2/reports) for the viewer demographics
// report as developers.google.com describes it: ids, startDate, endDate
// (YYYY-MM-DD, not after each other) and metrics are required; the
// demographics dimensions ageGroup and gender go with the metric
// viewerPercentage only; the answer is a resultTable with columnHeaders
// and rows in the order of dimensions then metrics.
func (f *fakeYouTube) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err1 := time.Parse("2006-01-02", q.Get("startDate"))
	end, err2 := time.Parse("2006-01-02", q.Get("endDate"))
	switch {
	case q.Get("ids") != "channel==MINE" && q.Get("ids") != "channel=="+f.channel:
		gErr(w, 400, "invalid", "global", "Invalid value for ids")
		return
	case err1 != nil || err2 != nil || end.Before(start):
		gErr(w, 400, "invalid", "global", "Invalid startDate or endDate")
		return
	case q.Get("metrics") != "viewerPercentage" || q.Get("dimensions") != "ageGroup,gender":
		gErr(w, 400, "badRequest", "global", "The query is not supported. Check the documentation at https://developers.google.com/youtube/analytics/v2/available_reports for a list of supported queries.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noAnalytics {
		gErr(w, 403, "insufficientPermissions", "global", "Insufficient permission")
		return
	}
	rows := [][]any{}
	for _, v := range f.viewers {
		rows = append(rows, []any{v[0], v[1], v[2]})
	}
	writeJSON(w, 200, map[string]any{"kind": "youtubeAnalytics#resultTable", "columnHeaders": []any{
		map[string]string{"name": "ageGroup", "columnType": "DIMENSION", "dataType": "STRING"},
		map[string]string{"name": "gender", "columnType": "DIMENSION", "dataType": "STRING"},
		map[string]string{"name": "viewerPercentage", "columnType": "METRIC", "dataType": "FLOAT"}}, "rows": rows})
}
