package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// isoBox is an ISO base media box: 32-bit size, type, payload.
func isoBox(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// testMOV is a small QuickTime file as an iPhone lays it out (ftyp "qt  ",
// wide, mdat, then moov with the movie header) lasting d.
func testMOV(d time.Duration, filler int) []byte {
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 600)
	binary.BigEndian.PutUint32(mvhd[16:], uint32(d*600/time.Second))
	return bytes.Join([][]byte{
		isoBox("ftyp", []byte("qt  \x00\x00\x02\x00qt  ")), isoBox("wide"), isoBox("mdat", bytes.Repeat([]byte{0x42}, filler)),
		isoBox("moov", isoBox("mvhd", mvhd), isoBox("trak")),
	}, nil)
}

func TestUploadQuickTime(t *testing.T) {
	e := newTestEnv(t)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	var m publish.Media
	if code := e.upload(ed, "bmw-de", "IMG_0042.MOV", testMOV(7*time.Second, 2000), &m); code != 201 || m.ContentType != "video/quicktime" ||
		m.Kind != "video" || m.DurationMS != 7000 || m.HasThumb {
		t.Fatalf("mov: %d %+v", code, m)
	}
	if code, h, _ := e.getRaw(ed, m.URL); code != 200 || h.Get("Content-Type") != "video/quicktime" {
		t.Fatalf("file: %d %v", code, h)
	}
	// The simulator takes QuickTime; the rules use the sniffed type.
	own := e.channelByHandle("simulator", "bmw_de")
	var v struct {
		OK       bool              `json:"ok"`
		Problems []publish.Problem `json:"problems"`
	}
	if code := e.do(ed, "POST", "/api/v1/posts/validate", map[string]any{"text": "Clip", "channels": []int64{own}, "media": []int64{m.ID}}, &v); code != 200 || !v.OK {
		t.Fatalf("validate: %d %+v", code, v)
	}
}

func TestDeleteMedia(t *testing.T) {
	e := newTestEnv(t)
	e.startPublishing(t)
	ed := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	viewer := e.user("vi@example.com", "bmw-de", access.RoleViewer)
	mini := e.user("mini@example.com", "mini-de", access.RoleEditor)
	own := e.channelByHandle("simulator", "bmw_de")
	e.connectSim(own, "bmw_de")
	pic := testPNG(t, 60, 40)
	var a, b, shared publish.Media
	for _, up := range []struct {
		tok, unit string
		data      []byte
		into      *publish.Media
	}{{ed, "bmw-de", pic, &a}, {ed, "bmw-de", testPNG(t, 61, 40), &b}, {mini, "mini-de", pic, &shared}} {
		if code := e.upload(up.tok, up.unit, "bild.png", up.data, up.into); code != 201 {
			t.Fatalf("upload: %d", code)
		}
	}
	path := func(m publish.Media) string { return fmt.Sprintf("/api/v1/media/%d", m.ID) }
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	// Unit scope: another brand sees nothing; a viewer may not.
	if code := e.do(mini, "DELETE", path(a), nil, nil); code != 404 {
		t.Fatalf("other brand: %d", code)
	}
	if code := e.do(viewer, "DELETE", path(a), nil, nil); code != 403 {
		t.Fatalf("viewer: %d", code)
	}

	// A scheduled post uses a: refused, naming the post; nothing changes.
	var later, now publish.Post
	if code := e.do(ed, "POST", "/api/v1/posts", map[string]any{"text": "Später", "channels": []int64{own}, "media": []int64{a.ID},
		"scheduled_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, &later); code != 201 {
		t.Fatalf("post: %d", code)
	}
	var got apiErr
	if code := e.do(ed, "DELETE", path(a), nil, &got); code != 409 || got.Error.Field != "media" ||
		!strings.Contains(got.Error.Message, fmt.Sprintf("post %d (1 scheduled)", later.ID)) || !strings.Contains(got.Error.Message, "bild.png") {
		t.Fatalf("in use: %d %+v", code, got.Error)
	}
	if !exists(e.publish.FilePath(a)) || !exists(e.publish.ThumbPath(a)) || e.countRows("media") != 3 {
		t.Fatal("a refused delete changed something")
	}

	// b goes out with a published post (as the simulator variant's
	// media): deleting it is allowed; the platform keeps its copy, the
	// post no longer lists it and its trail says so.
	if code := e.do(ed, "POST", "/api/v1/posts", map[string]any{"text": "Jetzt", "channels": []int64{own},
		"variants": map[string]any{"simulator": map[string]any{"media": []int64{b.ID}}}}, &now); code != 201 {
		t.Fatalf("post: %d", code)
	}
	now = e.waitPost(ed, now.ID, 10*time.Second, func(p publish.Post) bool { return p.Status == publish.PostPublished })
	if _, ok := now.Variants["simulator"]; ok {
		t.Fatalf("a media-only variant keeps the post's text: %+v", now.Variants)
	}
	if code := e.do(ed, "DELETE", path(b), nil, nil); code != 204 {
		t.Fatalf("delete b: %d", code)
	}
	if exists(e.publish.FilePath(b)) || exists(e.publish.ThumbPath(b)) {
		t.Fatal("b's file or thumbnail is still on disk")
	}
	if code := e.do(ed, "GET", path(b), nil, nil); code != 404 {
		t.Fatalf("b after delete: %d", code)
	}
	var after publish.Post
	e.do(ed, "GET", fmt.Sprintf("/api/v1/posts/%d", now.ID), nil, &after)
	last := after.Approvals[len(after.Approvals)-1]
	if len(after.VariantMedia["simulator"]) != 0 || after.Status != publish.PostPublished || after.Deliveries[0].URL == "" ||
		last.Action != "media deleted" || !strings.Contains(last.Comment, "bild.png") || last.Who != "ed@example.com" {
		t.Fatalf("published post after the delete: %+v %+v", after.VariantMedia, last)
	}
	if n := e.simMediaCount("bmw_de", now.Deliveries[0].PlatformPostID); n != 1 {
		t.Fatalf("the platform's copy: %d media", n)
	}

	// Once the scheduled post is cancelled, a may go; its bytes stay for
	// mini's entry of the same file, until that goes too.
	if code := e.do(ed, "POST", fmt.Sprintf("/api/v1/posts/%d/cancel", later.ID), nil, nil); code != 200 {
		t.Fatalf("cancel: %d", code)
	}
	if code := e.do(ed, "DELETE", path(a), nil, nil); code != 204 {
		t.Fatalf("delete a: %d", code)
	}
	if !exists(e.publish.FilePath(shared)) || !exists(e.publish.ThumbPath(shared)) {
		t.Fatal("deleting a removed bytes mini's library still has")
	}
	if code := e.do(mini, "DELETE", path(shared), nil, nil); code != 204 {
		t.Fatalf("delete shared: %d", code)
	}
	left, _ := filepath.Glob(filepath.Join(e.publish.MediaDir, "*", "*", "*"))
	if len(left) != 0 || e.countRows("media") != 0 {
		t.Fatalf("left behind: %v, %d rows", left, e.countRows("media"))
	}
	if code := e.do(ed, "DELETE", path(a), nil, nil); code != 404 {
		t.Fatalf("twice: %d", code)
	}
}

func testJPEG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Instagram fetches media itself: without --public-url the composer says
// so (naming the flag); with it, the connector gets a signed link that
// works without a session, for that file only, until it expires.
func TestPublicMediaLinks(t *testing.T) {
	e := newTestEnv(t)
	ed := e.user("ed@example.com", "bmw", access.RoleEditor)
	pic := testJPEG(t)
	var m publish.Media
	if code := e.upload(ed, "bmw", "m3.jpg", pic, &m); code != 201 {
		t.Fatalf("upload: %d", code)
	}
	var mov publish.Media
	movBytes := testMOV(4*time.Second, 3000)
	if code := e.upload(ed, "bmw", "clip.mov", movBytes, &mov); code != 201 {
		t.Fatalf("upload: %d", code)
	}
	ig := e.channelByHandle("instagram", "BMW")
	type validation struct {
		OK       bool              `json:"ok"`
		Problems []publish.Problem `json:"problems"`
	}
	var v validation
	body := map[string]any{"text": "Der neue M3", "channels": []int64{ig}, "media": []int64{m.ID}}
	if code := e.do(ed, "POST", "/api/v1/posts/validate", body, &v); code != 200 || v.OK || len(v.Problems) != 1 ||
		v.Problems[0].Field != "media[0]" || !strings.Contains(v.Problems[0].Message, "--public-url") {
		t.Fatalf("without a public URL: %d %+v", code, v)
	}
	if _, err := e.publish.PublicMediaURL(m); err == nil || !strings.Contains(err.Error(), "--public-url") {
		t.Fatalf("link without a public URL: %v", err)
	}
	e.publish.PublicURL = e.http.URL + "/"
	if _, err := e.publish.PublicMediaURL(m); err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Fatalf("link without a key: %v", err)
	}
	e.publish.MediaURLKey = []byte("a key derived from the secret key")
	if code := e.do(ed, "POST", "/api/v1/posts/validate", body, &v); code != 200 || !v.OK {
		t.Fatalf("with a public URL: %d %+v", code, v)
	}

	link, err := e.publish.PublicMediaURL(m)
	if err != nil || !strings.HasPrefix(link, e.http.URL+publish.PublicMediaPrefix) || !strings.HasSuffix(link, ".jpg") {
		t.Fatalf("link %q: %v", link, err)
	}
	get := func(u, rng string) (int, http.Header, []byte) {
		req, _ := http.NewRequest("GET", u, nil) // no session, no token
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	if code, h, b := get(link, ""); code != 200 || h.Get("Content-Type") != "image/jpeg" || !bytes.Equal(b, pic) {
		t.Fatalf("link: %d %v", code, h)
	}
	movLink, _ := e.publish.PublicMediaURL(mov)
	if code, h, b := get(movLink, "bytes=100-199"); code != 206 || h.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(movBytes)) ||
		!bytes.Equal(b, movBytes[100:200]) || h.Get("Content-Type") != "video/quicktime" {
		t.Fatalf("range: %d %v", code, h)
	}
	// Only that file: its signature on another id, or altered, is 404.
	sig := link[strings.LastIndex(link, "/")+1:]
	movSig := movLink[strings.LastIndex(movLink, "/")+1:]
	altered := "A" + sig[1:]
	if sig[0] == 'A' {
		altered = "B" + sig[1:]
	}
	for _, u := range []string{
		strings.Replace(link, sig, altered, 1),
		strings.Replace(movLink, movSig, sig, 1),
		strings.Replace(link, fmt.Sprintf("/%d/", m.ID), fmt.Sprintf("/%d/", mov.ID), 1),
		e.http.URL + publish.PublicMediaPrefix + fmt.Sprint(m.ID),
	} {
		if code, _, b := get(u, ""); code != 404 || bytes.Contains(b, pic[:64]) {
			t.Errorf("%s: %d", u, code)
		}
	}
	// Past its expiry: 410.
	e.publish.Now = func() time.Time { return time.Now().Add(publish.DefaultMediaURLTTL + time.Minute) }
	if code, _, _ := get(link, ""); code != 410 {
		t.Fatalf("expired: %d", code)
	}
	e.publish.Now = time.Now
	// A deleted file's links die with it.
	if code := e.do(ed, "DELETE", fmt.Sprintf("/api/v1/media/%d", m.ID), nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _, _ := get(link, ""); code != 404 {
		t.Fatalf("deleted: %d", code)
	}
}

// The upload's body is documented as what it is: multipart/form-data.
func TestOpenAPIUploadIsMultipart(t *testing.T) {
	e := newTestEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema   map[string]any `json:"schema"`
					Encoding map[string]any `json:"encoding"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	e.do("", "GET", "/api/v1/openapi.json", nil, &doc)
	c := doc.Paths["/api/v1/media"]["post"].RequestBody.Content
	mp, ok := c["multipart/form-data"]
	if len(c) != 1 || !ok || mp.Schema["$ref"] != "#/components/schemas/MediaUpload" || mp.Encoding["file"] == nil {
		t.Fatalf("upload body: %+v", c)
	}
	if _, ok := doc.Paths["/api/v1/media/{id}"]["delete"]; !ok {
		t.Fatal("DELETE /api/v1/media/{id} is not documented")
	}
}
