package rss

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// feedServer serves a feed the way careful publishers do: ETag and
// Last-Modified, 304 for a matching If-None-Match / If-Modified-Since.
type feedServer struct {
	mu       sync.Mutex
	body     string
	ctype    string
	etag     string
	modified string
	status   int // forced status, 0 = normal
	headers  http.Header
	reqs     []http.Header
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r.Header.Clone())
	for k, v := range f.headers {
		w.Header()[k] = v
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && r.Header.Get("If-None-Match") == "" && ims == f.modified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Last-Modified", f.modified)
	w.Write([]byte(f.body))
}

func (f *feedServer) set(body, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.etag = body, etag
	f.modified = "Sat, 01 Mar 2025 12:00:00 GMT"
}

func rssItems(items ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Auto-Blog</title><link>https://blog.example/</link>` + strings.Join(items, "") + `</channel></rss>`
}

func item(guid, title, date, body string) string {
	return `<item><title>` + title + `</title><link>https://blog.example/` + guid + `</link><guid isPermaLink="false">` + guid +
		`</guid><pubDate>` + date + `</pubDate><dc:creator>Jana Blog</dc:creator><description><![CDATA[` + body + `]]></description></item>`
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return ctx.Err()
}

func newConn(clk *fakeClock) *Connector {
	return New(connector.Options{Now: clk.Now, Sleep: clk.Sleep, Limiter: connector.NewLimiter()})
}

func TestRSSConditionalGetAndDedupeAcrossRestart(t *testing.T) {
	fs := &feedServer{ctype: "application/rss+xml"}
	fs.set(rssItems(
		item("g2", "Zweiter Test", "Sat, 01 Mar 2025 10:00:00 +0100", "<p>Der <b>i5</b> im Test&nbsp;&amp; mehr</p>"),
		item("g1", "Erster Test", "Fri, 28 Feb 2025 10:00:00 +0100", "Hallo"),
	), `"v1"`)
	ts := httptest.NewServer(fs)
	defer ts.Close()
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	acct := &connector.Account{ChannelID: "feed-1", BaseURL: ts.URL + "/feed.xml"}

	c := newConn(clk)
	page, err := c.FetchInbound(context.Background(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].ExternalID != "g1" || page.Items[1].ExternalID != "g2" {
		t.Fatalf("want g1, g2 oldest first: %+v", page.Items)
	}
	it := page.Items[1]
	if it.Kind != connector.KindEntry || it.Title != "Zweiter Test" || it.Text != "Der i5 im Test & mehr" ||
		it.URL != "https://blog.example/g2" || it.Author.Name != "Jana Blog" || !it.CreatedAt.Equal(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", it)
	}
	if a := fs.reqs[0].Get("Accept"); !strings.Contains(a, "application/rss+xml") || fs.reqs[0].Get("Authorization") != "" {
		t.Fatalf("request headers %v", fs.reqs[0])
	}

	// Unchanged: a conditional GET, a 304, nothing new, cursor kept.
	p2, err := c.FetchInbound(context.Background(), acct, page.Cursor)
	if err != nil || len(p2.Items) != 0 || p2.Cursor != page.Cursor {
		t.Fatalf("304: %+v %v", p2, err)
	}
	if h := fs.reqs[1]; h.Get("If-None-Match") != `"v1"` || h.Get("If-Modified-Since") != "Sat, 01 Mar 2025 12:00:00 GMT" {
		t.Fatalf("conditional headers %v", h)
	}

	// A new entry; the old ones are repeated by the feed. A new process
	// with the persisted cursor returns only the new one.
	fs.set(rssItems(
		item("g3", "Dritter", "Sat, 01 Mar 2025 11:30:00 +0100", "Neu"),
		item("g2", "Zweiter Test", "Sat, 01 Mar 2025 10:00:00 +0100", "x"),
		item("g1", "Erster Test", "Fri, 28 Feb 2025 10:00:00 +0100", "x"),
	), `"v2"`)
	p3, err := newConn(clk).FetchInbound(context.Background(), acct, p2.Cursor)
	if err != nil || len(p3.Items) != 1 || p3.Items[0].ExternalID != "g3" {
		t.Fatalf("after update: %+v %v", p3.Items, err)
	}
	// A server that ignores validators still yields nothing twice.
	fs.mu.Lock()
	fs.etag = ""
	fs.mu.Unlock()
	p4, err := newConn(clk).FetchInbound(context.Background(), acct, p3.Cursor)
	if err != nil || len(p4.Items) != 0 {
		t.Fatalf("full refetch: %+v %v", p4.Items, err)
	}
}

const atomFeed = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">Motor-News</title>
  <link href="https://news.example/" rel="alternate"/>
  <link href="https://news.example/atom.xml" rel="self"/>
  <author><name>Redaktion</name></author>
  <entry>
    <id>tag:news.example,2025:2</id>
    <title type="html">&lt;em&gt;X3&lt;/em&gt; erwischt</title>
    <link href="https://news.example/2"/>
    <updated>2025-03-01T09:00:00Z</updated>
    <content type="html">&lt;p&gt;Erlkönig gesichtet.&lt;/p&gt;</content>
  </entry>
  <entry>
    <id>tag:news.example,2025:1</id>
    <title>Ältere Meldung</title>
    <link rel="alternate" href="https://news.example/1"/>
    <published>2025-02-28T09:00:00+01:00</published>
    <author><name>Max</name></author>
    <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Kurz <b>gesagt</b></div></summary>
  </entry>
</feed>`

func TestAtom(t *testing.T) {
	fs := &feedServer{ctype: "application/atom+xml"}
	fs.set(atomFeed, `"a1"`)
	ts := httptest.NewServer(fs)
	defer ts.Close()
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	page, err := newConn(clk).FetchInbound(context.Background(), &connector.Account{ChannelID: "f", BaseURL: ts.URL}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("%+v", page.Items)
	}
	old, recent := page.Items[0], page.Items[1]
	if old.ExternalID != "tag:news.example,2025:1" || old.Author.Name != "Max" || old.Text != "Kurz gesagt" || old.URL != "https://news.example/1" {
		t.Fatalf("old %+v", old)
	}
	if recent.Title != "X3 erwischt" || recent.Text != "Erlkönig gesichtet." || recent.Author.Name != "Redaktion" {
		t.Fatalf("recent %+v", recent)
	}
}

func TestLatin1Feed(t *testing.T) {
	body := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>T</title><item><guid>x</guid><title>Gr` + "\xfc\xdf" + `e</title></item></channel></rss>`)
	f, err := Parse(body)
	if err != nil || len(f.Entries) != 1 || f.Entries[0].Title != "Grüße" {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := Parse([]byte(`<html><body>nope</body></html>`)); err == nil {
		t.Fatal("HTML accepted as a feed")
	}
}

func TestFeedServerErrors(t *testing.T) {
	fs := &feedServer{status: http.StatusTooManyRequests, headers: http.Header{"Retry-After": {"600"}}}
	ts := httptest.NewServer(fs)
	defer ts.Close()
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	c := newConn(clk)
	acct := &connector.Account{ChannelID: "f", BaseURL: ts.URL}
	_, err := c.FetchInbound(context.Background(), acct, "")
	var e *connector.Error
	if !errors.As(err, &e) || e.Kind != connector.KindRateLimited || !e.RetryAt.Equal(clk.t.Add(600*time.Second)) {
		t.Fatalf("%v", err)
	}
	if _, err := c.FetchInbound(context.Background(), acct, ""); connector.KindOf(err) != connector.KindRateLimited || len(fs.reqs) != 1 {
		t.Fatalf("hammered: %d requests", len(fs.reqs))
	}

	fs2 := &feedServer{status: http.StatusServiceUnavailable}
	ts2 := httptest.NewServer(fs2)
	defer ts2.Close()
	_, err = c.FetchInbound(context.Background(), &connector.Account{ChannelID: "g", BaseURL: ts2.URL}, "")
	if connector.KindOf(err) != connector.KindTransient || len(fs2.reqs) != 3 {
		t.Fatalf("%v after %d requests", err, len(fs2.reqs))
	}
}

func TestWriteAtomRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	pub := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	err := WriteAtom(&buf, OutFeed{ID: "tag:hub.example,2025:unit/bmw", Title: "BMW — Beiträge", Link: "https://hub.example/units/bmw",
		Self: "https://hub.example/units/bmw/feed.atom",
		Entries: []OutEntry{
			{ID: "tag:hub.example,2025:post/2", Link: "https://bsky.app/profile/bmw/post/x", Published: pub,
				Text: "Der neue M5 <script>alert(1)</script> & mehr\nZweite Zeile", Categories: []string{"M"}},
			{ID: "tag:hub.example,2025:post/1", Title: "Älter", Published: pub.Add(-time.Hour)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "<script>") || !strings.Contains(out, "&lt;script&gt;") {
		t.Fatalf("text must be escaped: %s", out)
	}
	if !strings.Contains(out, "<updated>2025-03-01T09:00:00Z</updated>") || !strings.Contains(out, `rel="self"`) {
		t.Fatalf("feed updated/self: %s", out)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "BMW — Beiträge" || len(f.Entries) != 2 || f.Entries[0].Title != "Der neue M5 <script>alert(1)</script> & mehr" ||
		!f.Entries[0].Published.Equal(pub) || f.Entries[1].Title != "Älter" {
		t.Fatalf("round trip %+v", f)
	}
	if err := WriteAtom(&buf, OutFeed{ID: "x", Title: "y", Entries: []OutEntry{{}}}); err == nil {
		t.Fatal("entry without ID accepted")
	}
}
