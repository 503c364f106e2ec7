package publish

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"
)

// box is an ISO base media box: 32-bit size, type, payload.
func box(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// ftyp is a file type box: major brand, minor version, compatible brands.
func ftyp(major string, compat ...string) []byte {
	p := append([]byte(major), 0, 0, 2, 0)
	for _, c := range compat {
		p = append(p, c...)
	}
	return box("ftyp", p)
}

// mvhd0 is a version-0 movie header with timescale and duration.
func mvhd0(scale, units uint32) []byte {
	p := make([]byte, 100) // version 0, flags, times, scale, duration, rate…
	binary.BigEndian.PutUint32(p[12:], scale)
	binary.BigEndian.PutUint32(p[16:], units)
	return box("mvhd", p)
}

// mvhd1 is a version-1 movie header (64-bit times and duration).
func mvhd1(scale uint32, units uint64) []byte {
	p := make([]byte, 112)
	p[0] = 1
	binary.BigEndian.PutUint32(p[20:], scale)
	binary.BigEndian.PutUint64(p[24:], units)
	return box("mvhd", p)
}

// These are the leading boxes as cameras and phones write them: an
// iPhone .mov ("qt  " with a "wide" atom before mdat), an iPhone/Android
// MP4 ("isom"/"mp42"), an iTunes .m4v, an Android 3GP, and a file whose
// only known brand is a compatible one.
func TestSniffVideoContainers(t *testing.T) {
	wide := box("wide")
	cases := []struct {
		name string
		head []byte
		want string
	}{
		{"iphone mov", bytes.Join([][]byte{ftyp("qt  ", "qt  "), wide, box("mdat", make([]byte, 64))}, nil), "video/quicktime"},
		{"isom mp4", bytes.Join([][]byte{ftyp("isom", "isom", "iso2", "avc1", "mp41"), box("free"), box("mdat", make([]byte, 64))}, nil), "video/mp4"},
		{"mp42 mp4", ftyp("mp42", "mp42", "isom"), "video/mp4"},
		{"m4v", ftyp("M4V ", "M4V ", "M4A ", "mp42", "isom"), "video/mp4"},
		{"3gp", ftyp("3gp4", "isom", "3gp4"), "video/3gpp"},
		{"compatible brand", ftyp("XXXX", "YYYY", "qt  "), "video/quicktime"},
		{"heif image is not a video", ftyp("heic", "mif1", "heic"), "application/octet-stream"},
		{"webm", append([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84}, "webm"...), "video/webm"},
		{"avi", append([]byte("RIFF\x24\x00\x00\x00AVI LIST"), make([]byte, 32)...), "video/x-msvideo"},
		{"mpeg ps", append([]byte{0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1}, make([]byte, 32)...), "video/mpeg"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"text", []byte("ftyp qt   but only text"), "text/plain"},
	}
	for _, c := range cases {
		if got := sniffContentType(c.head); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if got, want := mediaTypes[sniffContentType(c.head)], c.want; got == "" && strings.HasPrefix(want, "video/") {
			t.Errorf("%s: %s is not accepted", c.name, want)
		}
	}
}

func TestISODuration(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want time.Duration
		ok   bool
	}{
		// QuickTime's usual 600 units per second: 3050/600 s.
		{"mov, moov first", bytes.Join([][]byte{ftyp("qt  ", "qt  "), box("moov", mvhd0(600, 3050), box("trak")), box("mdat", make([]byte, 256))}, nil),
			5083 * time.Millisecond, true},
		// moov after a large mdat: the walk skips the media data by size.
		{"mp4, moov last", bytes.Join([][]byte{ftyp("isom", "isom", "avc1"), box("mdat", make([]byte, 4096)), box("moov", box("udta"), mvhd1(90000, 90000*754))}, nil),
			754 * time.Second, true},
		{"no moov", bytes.Join([][]byte{ftyp("isom"), box("mdat", make([]byte, 32))}, nil), 0, false},
		{"unknown duration", bytes.Join([][]byte{ftyp("qt  "), box("moov", mvhd0(600, 0xFFFFFFFF))}, nil), 0, false},
		{"truncated", bytes.Join([][]byte{ftyp("qt  "), box("moov", mvhd0(600, 3000))}, nil)[:40], 0, false},
	}
	for _, c := range cases {
		got, ok := isoDuration(bytes.NewReader(c.file))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
	// A 64-bit box size (largesize) before moov.
	big := binary.BigEndian.AppendUint32(nil, 1)
	big = append(big, "mdat"...)
	big = binary.BigEndian.AppendUint64(big, 16+64)
	big = append(big, make([]byte, 64)...)
	file := bytes.Join([][]byte{ftyp("qt  "), big, box("moov", mvhd0(1000, 2500))}, nil)
	if d, ok := isoDuration(io.ReadSeeker(bytes.NewReader(file))); !ok || d != 2500*time.Millisecond {
		t.Fatalf("largesize: %v %v", d, ok)
	}
}
