package publish

import (
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/all"
)

func TestThumbnail(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 1000, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 1000; x++ {
			if x < 500 {
				src.Set(x, y, color.NRGBA{255, 0, 0, 255})
			} // the right half stays transparent: white in the JPEG
		}
	}
	th := Thumbnail(src, 320)
	if b := th.Bounds(); b.Dx() != 320 || b.Dy() != 128 {
		t.Fatalf("size %v", b)
	}
	if c := th.RGBAAt(10, 10); c.R < 250 || c.G > 5 || c.B > 5 {
		t.Fatalf("left %v", c)
	}
	if c := th.RGBAAt(300, 100); c.R < 250 || c.G < 250 || c.B < 250 {
		t.Fatalf("right %v", c)
	}
	// Never scaled up.
	if b := Thumbnail(image.NewGray(image.Rect(0, 0, 30, 90)), 320).Bounds(); b.Dx() != 30 || b.Dy() != 90 {
		t.Fatalf("small %v", b)
	}
	if b := Thumbnail(image.NewGray(image.Rect(0, 0, 300, 9000)), 320).Bounds(); b.Dx() != 10 || b.Dy() != 320 {
		t.Fatalf("tall %v", b)
	}
}

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{"../../etc/passwd": "passwd", `C:\Users\a\bild.jpg`: "bild.jpg", "a\nb.png": "ab.png", "": ""} {
		if got := cleanFilename(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// Instagram's variant carries a signed link under the public URL; the
// platforms that receive bytes get none.
func TestVariantMediaLinks(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	key := []byte("a key derived from the secret key")
	s := NewService(Config{Registry: all.Registry(connector.Options{}), MediaDir: t.TempDir(), PublicURL: "https://hub.example/",
		MediaURLKey: key, Now: func() time.Time { return now }})
	hash := strings.Repeat("ab", 32)
	media := map[int64]Media{7: {ID: 7, Hash: hash, Kind: connector.MediaImage, ContentType: "image/jpeg"}}
	post := &Post{Text: "x", Media: []int64{7}}
	ig := s.variantFor(post, 1, "instagram", media)
	want := "https://hub.example" + SignedMediaPath(key, 7, hash, ".jpg", now.Add(DefaultMediaURLTTL))
	if len(ig.Media) != 1 || ig.Media[0].URL != want || !strings.HasPrefix(want, "https://hub.example/public/media/7/") {
		t.Fatalf("instagram: %+v, want %s", ig.Media, want)
	}
	if m := s.variantFor(post, 1, "mastodon", media); len(m.Media) != 1 || m.Media[0].URL != "" || m.Media[0].Open == nil {
		t.Fatalf("mastodon: %+v", m.Media)
	}
	// The signature covers the bytes' hash: another file's is different.
	if SignedMediaPath(key, 7, strings.Repeat("cd", 32), ".jpg", now) == SignedMediaPath(key, 7, hash, ".jpg", now) {
		t.Fatal("the link does not depend on the file")
	}
}
