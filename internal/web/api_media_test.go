package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// testPNG is a w×h PNG with a gradient.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload sends a multipart upload and decodes the answer.
func (e *testEnv) upload(token, unit, filename string, data []byte, out any) int {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("unit", unit)
	mw.WriteField("alt_text", "Ein Auto")
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/media", &b)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			e.t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
	}
	return resp.StatusCode
}

func (e *testEnv) getRaw(token, path string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.http.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestMediaLibrary(t *testing.T) {
	e := newTestEnv(t)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	mini := e.user("mini@example.com", "mini-de", access.RoleEditor)
	pic := testPNG(t, 800, 600)

	var m publish.Media
	if code := e.upload(ed, "bmw-de", "auto.txt", pic, &m); code != 201 || m.ContentType != "image/png" || m.Kind != "image" ||
		m.Width != 800 || m.Height != 600 || !m.HasThumb || m.Size != int64(len(pic)) || m.AltText != "Ein Auto" {
		t.Fatalf("upload: %d %+v", code, m)
	}
	// The same file again is the same entry, stored once.
	var again publish.Media
	if code := e.upload(ed, "bmw-de", "other.png", pic, &again); code != 201 || again.ID != m.ID {
		t.Fatalf("same file again: %d %+v", code, again)
	}
	if n := e.countRows("media"); n != 1 {
		t.Fatalf("%d media rows", n)
	}
	// The thumbnail is a JPEG within 320×320; the file comes back as sent.
	code, h, body := e.getRaw(ed, m.ThumbURL)
	if code != 200 || h.Get("Content-Type") != "image/jpeg" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("thumb: %d %v", code, h)
	}
	th, err := jpeg.Decode(bytes.NewReader(body))
	if err != nil || th.Bounds().Dx() != 320 || th.Bounds().Dy() != 240 {
		t.Fatalf("thumb: %v %v", err, th)
	}
	if code, h, body := e.getRaw(ed, m.URL); code != 200 || h.Get("Content-Type") != "image/png" || !bytes.Equal(body, pic) {
		t.Fatalf("file: %d %v", code, h)
	}
	// Outside the caller's units it does not exist.
	for _, path := range []string{fmt.Sprintf("/api/v1/media/%d", m.ID), m.URL, m.ThumbURL} {
		if code, _, _ := e.getRaw(mini, path); code != 404 {
			t.Errorf("%s by another brand: %d", path, code)
		}
	}
	var l items[publish.Media]
	if e.do(mini, "GET", "/api/v1/media", nil, &l); len(l.Items) != 0 {
		t.Fatalf("mini's library: %+v", l.Items)
	}
	if e.do(ed, "GET", "/api/v1/media?unit=bmw-de", nil, &l); len(l.Items) != 1 || l.Items[0].ID != m.ID {
		t.Fatalf("library: %+v", l.Items)
	}
	if code := e.upload(mini, "bmw-de", "x.png", pic, nil); code != 404 {
		t.Fatalf("upload to another brand: %d", code)
	}
	// Another unit's upload of the same file is its own entry, with the
	// bytes still stored once.
	var theirs publish.Media
	if code := e.upload(mini, "mini-de", "x.png", pic, &theirs); code != 201 || theirs.ID == m.ID || theirs.Unit != "mini-de" || !theirs.HasThumb {
		t.Fatalf("same file, other unit: %d %+v", code, theirs)
	}
	files, _ := filepath.Glob(filepath.Join(e.publish.MediaDir, "files", "*", "*"))
	if len(files) != 1 {
		t.Fatalf("files on disk: %v", files)
	}
	// The type is the content's, not the name's.
	var bad apiErr
	if code := e.upload(ed, "bmw-de", "auto.jpg", []byte("just some text, not a picture at all"), &bad); code != 400 || bad.Error.Field != "file" ||
		!strings.Contains(bad.Error.Message, "text/plain") {
		t.Fatalf("text as jpg: %d %+v", code, bad)
	}
	// Over the image limit (streamed, never held): 413 on the file.
	p, err := e.access.Authenticate(context.Background(), ed)
	if err != nil {
		t.Fatal(err)
	}
	big := io.MultiReader(bytes.NewReader(pic[:64]), io.LimitReader(zeros{}, publish.MaxImageBytes))
	if _, err := e.publish.UploadMedia(context.Background(), p, publish.MediaUpload{Unit: "bmw-de"}, big); !errs.Is(err, errs.TooLarge) {
		t.Fatalf("too large: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func TestPostWithMedia(t *testing.T) {
	e := newTestEnv(t)
	e.startPublishing(t)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	mini := e.user("mini@example.com", "mini-de", access.RoleEditor)
	own := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(own, "bmw_de")
	var pics []publish.Media
	for i := range 5 {
		var m publish.Media
		if code := e.upload(ed, "bmw-de", "p.png", testPNG(t, 40+i, 30), &m); code != 201 {
			t.Fatalf("upload %d: %d", i, code)
		}
		pics = append(pics, m)
	}
	webm := append([]byte{0x1A, 0x45, 0xDF, 0xA3}, make([]byte, 200)...)
	var vid publish.Media
	if code := e.upload(ed, "bmw-de", "clip.webm", webm, &vid); code != 201 || vid.ContentType != "video/webm" || vid.Kind != "video" {
		t.Fatalf("video: %d %+v", code, vid)
	}
	ids := func(ms ...publish.Media) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		field  string
		says   string
	}{
		{"too many", map[string]any{"text": "hi", "channels": []int64{own}, "media": ids(pics...)}, 400, "media", "4"},
		{"type", map[string]any{"text": "hi", "channels": []int64{own}, "media": ids(pics[0], vid)}, 400, "media[1]", fmt.Sprintf("channel %d", own)},
		{"variant", map[string]any{"text": "hi", "channels": []int64{own}, "variants": map[string]any{"simulator": map[string]any{"text": "x", "media": ids(vid)}}},
			400, "variants.simulator.media[0]", "video/webm"},
	}
	for _, c := range cases {
		var got apiErr
		if code := e.do(ed, "POST", "/api/v1/posts", c.body, &got); code != c.status || got.Error.Field != c.field || !strings.Contains(got.Error.Message, c.says) {
			t.Errorf("%s: %d %+v, want %d field %q saying %q", c.name, code, got.Error, c.status, c.field, c.says)
		}
	}
	// Another brand can't use the library's files.
	var got apiErr
	if code := e.do(mini, "POST", "/api/v1/posts", map[string]any{"text": "hi", "channels": []int64{e.channelByHandle("simulator", "mini_de")},
		"media": ids(pics[0])}, &got); code != 404 || got.Error.Field != "media[0]" {
		t.Fatalf("foreign media: %d %+v", code, got)
	}
	if n := e.countRows("posts"); n != 0 {
		t.Fatalf("%d posts after bad input", n)
	}
	// Two images, published with the post.
	var p publish.Post
	if code := e.do(ed, "POST", "/api/v1/posts", map[string]any{"text": "Mit Bildern", "channels": []int64{own}, "media": ids(pics[1], pics[0])}, &p); code != 201 {
		t.Fatalf("post: %d %+v", code, p)
	}
	if len(p.Media) != 2 || p.Media[0] != pics[1].ID {
		t.Fatalf("media of the post: %v", p.Media)
	}
	p = e.waitPost(ed, p.ID, 10*time.Second, func(p publish.Post) bool { return p.Status == publish.PostPublished })
	if n := e.simMediaCount("bmw_de", p.Deliveries[0].PlatformPostID); n != 2 {
		t.Fatalf("the simulator got %d media", n)
	}
}

// simMediaCount is a simulator post's number of media.
func (e *testEnv) simMediaCount(handle, id string) int {
	e.t.Helper()
	tok, _, _, err := e.sim.Session(handle, "")
	if err != nil {
		e.t.Fatal(err)
	}
	code, _, body := e.getRaw(tok, "/sim/api/posts/"+id)
	var out struct {
		MediaCount int `json:"media_count"`
	}
	if err := json.Unmarshal(body, &out); err != nil || code != 200 {
		e.t.Fatalf("sim post: %d %s", code, body)
	}
	return out.MediaCount
}

func TestCancelPost(t *testing.T) {
	e := newTestEnv(t)
	e.startPublishing(t)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	mini := e.user("mini@example.com", "mini-de", access.RoleEditor)
	own := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(own, "bmw_de")
	var p publish.Post
	if code := e.do(ed, "POST", "/api/v1/posts", map[string]any{"text": "Später", "channels": []int64{own},
		"scheduled_at": time.Now().Add(2 * time.Second).Format(time.RFC3339)}, &p); code != 201 {
		t.Fatalf("post: %d", code)
	}
	path := fmt.Sprintf("/api/v1/posts/%d/cancel", p.ID)
	if code := e.do(mini, "POST", path, nil, nil); code != 404 {
		t.Fatalf("cancel by another brand: %d", code)
	}
	if code := e.do(ed, "POST", path, map[string]any{"comment": "verschoben"}, &p); code != 200 || p.Status != publish.PostCancelled ||
		p.Deliveries[0].Status != publish.DeliveryCancelled {
		t.Fatalf("cancel: %d %+v", code, p)
	}
	if code := e.do(ed, "POST", path, nil, nil); code != 409 {
		t.Fatalf("cancel twice: %d", code)
	}
	before := e.simPosts("bmw_de")
	time.Sleep(3 * time.Second)
	if e.do(ed, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil, &p); p.Deliveries[0].Status != publish.DeliveryCancelled || e.simPosts("bmw_de") != before {
		t.Fatalf("the cancelled post was published: %+v", p.Deliveries)
	}
}
