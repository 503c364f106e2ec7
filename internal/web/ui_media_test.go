package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// TestUIMediaComposeAndCampaigns: the library page's upload form (the
// browser's multipart post with the CSRF field), the composer's picker
// and per-platform preview, cancelling, and the campaign forms.
func TestUIMediaComposeAndCampaigns(t *testing.T) {
	e := newTestEnv(t)
	e.user("mgr@example.com", "bmw-de", access.RoleManager)
	b := e.browser()
	b.login("mgr@example.com")
	ch := e.channelByHandle("simulator", "bmw_de")

	st, body := b.get("/media")
	if st != 200 || !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, "No media yet") {
		t.Fatalf("media page: %d\n%s", st, body)
	}
	// The form as a browser sends it: csrf as a field, then the file.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	mw.WriteField("redirect", "/media")
	mw.WriteField("unit", "bmw-de")
	mw.WriteField("alt_text", "Der neue X3")
	fw, _ := mw.CreateFormFile("file", "x3.png")
	fw.Write(testPNG(t, 640, 480))
	mw.Close()
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/media" {
		t.Fatalf("upload form: %d %v", resp.StatusCode, resp.Header)
	}
	var lib items[publish.Media]
	tok := e.user("tok@example.com", "bmw-de", access.RoleEditor)
	if e.do(tok, "GET", "/api/v1/media", nil, &lib); len(lib.Items) != 1 {
		t.Fatalf("library: %+v", lib)
	}
	m := lib.Items[0]
	st, body = b.get("/media")
	if st != 200 || !strings.Contains(body, m.ThumbURL) || !strings.Contains(body, "640×480") {
		t.Fatalf("media page after upload: %d\n%s", st, body)
	}
	// The composer offers it; the preview shows text, count and thumbnail per platform.
	st, body = b.get("/posts/new")
	if st != 200 || !strings.Contains(body, fmt.Sprintf(`name="media" value="%d"`, m.ID)) || !strings.Contains(body, m.ThumbURL) {
		t.Fatalf("composer picker: %d\n%s", st, body)
	}
	_, _, frag := b.post("/posts/validate", url.Values{"text": {"Grüße 👋🏽"}, "channels": {fmt.Sprint(ch)}, "media": {fmt.Sprint(m.ID)}})
	if !strings.Contains(frag, `class="preview`) || !strings.Contains(frag, "Grüße 👋🏽") || !strings.Contains(frag, "7 / 500") ||
		!strings.Contains(frag, m.ThumbURL) || !strings.Contains(frag, "Fits every target") {
		t.Fatalf("preview:\n%s", frag)
	}
	// Post it for later, then cancel it from its page.
	loc, _ := time.LoadLocation("Europe/Berlin")
	local := time.Now().In(loc).AddDate(0, 0, 2).Format("2006-01-02") + "T09:00"
	st, where, body := b.post("/posts", url.Values{"text": {"Mit Bild"}, "channels": {fmt.Sprint(ch)}, "media": {fmt.Sprint(m.ID)},
		"scheduled_local": {local}, "zone": {"Europe/Berlin"}})
	if st != http.StatusSeeOther {
		t.Fatalf("post: %d\n%s", st, body)
	}
	st, body = b.get(where)
	if st != 200 || !strings.Contains(body, m.ThumbURL) || !strings.Contains(body, where+"/cancel") {
		t.Fatalf("post page: %d\n%s", st, body)
	}
	if st, _, _ := b.post(where+"/cancel", nil); st != http.StatusSeeOther {
		t.Fatalf("cancel: %d", st)
	}
	if _, body = b.get(where); !strings.Contains(body, "cancelled") || strings.Contains(body, where+"/cancel") {
		t.Fatalf("after cancel:\n%s", body)
	}
	// Campaigns: create, a bad edit, a good edit.
	st, body = b.get("/campaigns/new")
	if st != 200 || !strings.Contains(body, `<option value="bmw-de"`) {
		t.Fatalf("campaign form: %d\n%s", st, body)
	}
	st, where, _ = b.post("/campaigns", url.Values{"unit": {"bmw-de"}, "name": {"Frühling"}, "topic": {"X3"}, "tags": {"suv, neu"},
		"starts_at": {"2026-03-01"}, "ends_at": {"2026-04-30"}})
	if st != http.StatusSeeOther || !strings.HasPrefix(where, "/campaigns/") {
		t.Fatalf("create campaign: %d %q", st, where)
	}
	st, body = b.get(where + "/edit")
	if st != 200 || !strings.Contains(body, `value="Frühling"`) || !strings.Contains(body, `value="neu, suv"`) || !strings.Contains(body, `value="2026-03-01"`) {
		t.Fatalf("edit form: %d\n%s", st, body)
	}
	st, _, body = b.post(where, url.Values{"unit": {"bmw-de"}, "name": {"Frühling"}, "starts_at": {"2026-05-01"}, "ends_at": {"2026-04-30"}})
	if st != 400 || !strings.Contains(body, "ends before it starts") {
		t.Fatalf("bad edit: %d\n%s", st, body)
	}
	if st, _, _ = b.post(where, url.Values{"unit": {"bmw-de"}, "name": {"Frühling 2026"}, "goal": {"Probefahrten"}}); st != http.StatusSeeOther {
		t.Fatalf("edit: %d", st)
	}
	if _, body = b.get(where); !strings.Contains(body, "Frühling 2026") || !strings.Contains(body, "Probefahrten") {
		t.Fatalf("campaign page:\n%s", body)
	}
}
