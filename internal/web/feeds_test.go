package web

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector/rss"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// A unit's Atom feed carries its published posts, readable by the RSS
// connector, and nothing that was not published.
func TestUnitFeedOfPublishedPosts(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	id := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(id, "bmw_de")
	var created publish.Post
	if code := e.do(adm, "POST", "/api/v1/posts", map[string]any{"text": "Der neue BMW iX3 <kommt> & rollt.", "channels": []int64{id}}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var draft publish.Post
	if code := e.do(adm, "POST", "/api/v1/posts", map[string]any{"text": "Not published yet", "channels": []int64{id},
		"scheduled_at": "2099-01-01T10:00:00Z"}, &draft); code != 201 {
		t.Fatalf("create future: %d", code)
	}
	var full publish.Post
	e.do(adm, "GET", "/api/v1/posts/"+strconv.FormatInt(created.ID, 10), nil, &full)
	if _, err := e.publish.DeliverOnce(ctx, full.Deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.http.URL + "/units/bmw/feed.atom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(string(body), "Not published yet") || strings.Contains(string(body), "<kommt>") {
		t.Fatalf("feed shows a draft or unescaped text:\n%s", body)
	}
	feed, err := rss.Parse(body)
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	if len(feed.Entries) != 1 || feed.Title != "BMW" || feed.Entries[0].Link == "" ||
		!strings.Contains(feed.Entries[0].Content+feed.Entries[0].Summary+feed.Entries[0].Title, "iX3") {
		t.Fatalf("entries: %+v", feed)
	}
	if resp, _ := http.Get(e.http.URL + "/units/nowhere/feed.atom"); resp.StatusCode != 404 {
		t.Fatalf("unknown unit: %d", resp.StatusCode)
	}
}
