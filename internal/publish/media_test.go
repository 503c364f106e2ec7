package publish

import (
	"image"
	"image/color"
	"testing"
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
