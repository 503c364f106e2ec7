package instagram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	stdjpeg "image/jpeg"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// hubFiles stands in for the hub's media library behind its signed-link
// handler (publish.PublicMediaHandler, the code the hub serves them with).
type hubFiles struct {
	key   []byte
	now   time.Time
	files map[int64]publish.PublicFile
	srv   *httptest.Server
}

func newHubFiles(t *testing.T, now time.Time) *hubFiles {
	h := &hubFiles{key: []byte("0123456789abcdef0123456789abcdef"), now: now, files: map[int64]publish.PublicFile{}}
	h.srv = httptest.NewServer(publish.PublicMediaHandler(h.key, func() time.Time { return h.now },
		func(_ context.Context, id int64) (publish.PublicFile, error) {
			f, ok := h.files[id]
			if !ok {
				return f, errs.E(errs.NotFound, "media %d not found", id)
			}
			return f, nil
		}))
	t.Cleanup(h.srv.Close)
	return h
}

// add stores a file and returns its hash.
func (h *hubFiles) add(t *testing.T, id int64, contentType string, data []byte) string {
	sum := sha256.Sum256(data)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	h.files[id] = publish.PublicFile{Path: path, Hash: hex.EncodeToString(sum[:]), ContentType: contentType, ModTime: h.now}
	return h.files[id].Hash
}

func (h *hubFiles) link(id int64, ext string, expires time.Time) string {
	return h.srv.URL + publish.SignedMediaPath(h.key, id, h.files[id].Hash, ext, expires)
}

func smallJPEG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := stdjpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 9)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Instagram downloads what it is given: the signed link the hub makes is
// fetchable by it (a video by ranges too), and an altered or expired
// link fails the post with Instagram's fetch error.
func TestInstagramFetchesSignedMediaLinks(t *testing.T) {
	e := setup(t)
	e.f.set(func() { e.f.fetchMedia = true })
	hub := newHubFiles(t, time.Now())
	pic := smallJPEG(t)
	hub.add(t, 7, "image/jpeg", pic)
	mov := append([]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  \x00\x00\x00\x08wide"), bytes.Repeat([]byte{0x42}, 5000)...)
	hub.add(t, 8, "video/quicktime", mov)

	publishWith := func(key string, m connector.Media) error {
		_, err := e.c.Publish(context.Background(), e.acct, connector.PublishRequest{IdempotencyKey: key,
			Variant: connector.Variant{Text: "Signed", Media: []connector.Media{m}}})
		return err
	}
	img := connector.Media{Kind: connector.MediaImage, ContentType: "image/jpeg", URL: hub.link(7, ".jpg", hub.now.Add(time.Hour))}
	if err := publishWith("ok-img", img); err != nil {
		t.Fatalf("image: %v", err)
	}
	if got := e.f.fetches[len(e.f.fetches)-1]; got.URL != img.URL || got.Status != 200 || got.ContentType != "image/jpeg" || !bytes.Equal(got.Body, pic) {
		t.Fatalf("instagram's download: %+v", got)
	}
	vid := connector.Media{Kind: connector.MediaVideo, ContentType: "video/quicktime", URL: hub.link(8, ".mov", hub.now.Add(time.Hour))}
	if err := publishWith("ok-vid", vid); err != nil {
		t.Fatalf("video: %v", err)
	}
	n := len(e.f.fetches)
	if head, whole := e.f.fetches[n-2], e.f.fetches[n-1]; head.Status != 206 || !bytes.Equal(head.Body, mov[:1024]) ||
		whole.Status != 200 || whole.ContentType != "video/quicktime" || !bytes.Equal(whole.Body, mov) {
		t.Fatalf("video downloads: %d %d %q", head.Status, whole.Status, whole.ContentType)
	}
	published := len(e.f.media)

	// Altered links: another signature, the signature on another file,
	// a later expiry. Then a link past its expiry.
	sig := img.URL[strings.LastIndex(img.URL, "/")+1:]
	flipped := []byte(sig)
	flipped[3] ^= 1
	other := hub.link(8, ".mov", hub.now.Add(time.Hour))
	bad := map[string]string{
		"altered signature": strings.Replace(img.URL, sig, string(flipped), 1),
		"another file":      strings.Replace(img.URL, sig, other[strings.LastIndex(other, "/")+1:], 1),
		"later expiry":      strings.Replace(img.URL, "/7/", "/7/9", 1),
		"another id":        strings.Replace(img.URL, "/7/", "/8/", 1),
		"expired":           hub.link(7, ".jpg", hub.now.Add(-time.Second)),
	}
	for name, u := range bad {
		m := img
		m.URL = u
		err := publishWith("bad-"+name, m)
		var ce *connector.Error
		if !errors.As(err, &ce) || ce.Kind != connector.KindPermanent || !strings.Contains(ce.Message, "could not be fetched") {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := "HTTP 404"
		if name == "expired" {
			want = "HTTP 410"
		}
		if !strings.Contains(ce.Message, want) {
			t.Errorf("%s: %q, want %s", name, ce.Message, want)
		}
	}
	if len(e.f.media) != published {
		t.Fatal("a post with an unfetchable link was published")
	}
	// A link made a while ago stops working once its time is up.
	hub.now = hub.now.Add(2 * time.Hour)
	if err := publishWith("late", img); err == nil || !strings.Contains(err.Error(), "HTTP 410") {
		t.Fatalf("after expiry: %v", err)
	}
}
