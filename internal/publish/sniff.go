package publish

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Content sniffing for the media library. Go's http.DetectContentType
// knows JPEG, PNG, GIF, WebP, WebM and MP4 files whose brand starts with
// "mp4", but not QuickTime (.mov, brand "qt  "), iPhone and camera MP4s
// branded "isom", "avc1", "M4V " and the like, or 3GPP phone videos: all
// ISO base media files (ISO/IEC 14496-12) that the platforms accept. So
// the file's ftyp box is read first and its brands decide.

// isoBrands maps ISO base media brands to the MIME type of the file.
var isoBrands = map[string]string{
	"qt  ": "video/quicktime",
	"isom": "video/mp4", "iso2": "video/mp4", "iso3": "video/mp4", "iso4": "video/mp4", "iso5": "video/mp4", "iso6": "video/mp4",
	"mp41": "video/mp4", "mp42": "video/mp4", "mp71": "video/mp4", "avc1": "video/mp4", "hvc1": "video/mp4",
	"dash": "video/mp4", "MSNV": "video/mp4", "NDAS": "video/mp4", "F4V ": "video/mp4",
	"M4V ": "video/mp4", "M4VH": "video/mp4", "M4VP": "video/mp4", // iTunes video: MP4 with another name
	"3gp4": "video/3gpp", "3gp5": "video/3gpp", "3gp6": "video/3gpp", "3gp7": "video/3gpp", "3ge6": "video/3gpp",
	"3ge7": "video/3gpp", "3gg6": "video/3gpp", "3g2a": "video/3gpp2", "3g2b": "video/3gpp2", "3g2c": "video/3gpp2",
}

// sniffISOBrand returns the MIME type an ISO base media file's leading
// ftyp box names: the major brand if known, else the first known
// compatible brand. "" means head is no such file (or one of another
// kind: HEIF images, audio).
func sniffISOBrand(head []byte) string {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return ""
	}
	size := int(binary.BigEndian.Uint32(head[:4]))
	if size < 16 || size%4 != 0 {
		return ""
	}
	if ct, ok := isoBrands[string(head[8:12])]; ok {
		return ct
	}
	end := min(size, len(head))
	for i := 16; i+4 <= end; i += 4 {
		if ct, ok := isoBrands[string(head[i:i+4])]; ok {
			return ct
		}
	}
	return ""
}

// sniffContentType names a file's type from its first bytes (512 suffice).
func sniffContentType(head []byte) string {
	if ct := sniffISOBrand(head); ct != "" {
		return ct
	}
	// MPEG program stream (pack header): .mpg/.mpeg, accepted by YouTube.
	if len(head) >= 4 && bytes.Equal(head[:4], []byte{0, 0, 1, 0xBA}) {
		return "video/mpeg"
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if ct == "video/avi" {
		ct = "video/x-msvideo" // the name platforms list
	}
	return ct
}

// isoDuration reads an ISO base media file's duration from its movie
// header (moov/mvhd): the top-level boxes are walked by their sizes, so a
// moov at the end of a large file costs a few seeks, not a read. ok is
// false when the file has no readable mvhd.
func isoDuration(r io.ReadSeeker) (d time.Duration, ok bool) {
	moov, moovSize, err := findBox(r, 0, -1, "moov")
	if err != nil {
		return 0, false
	}
	mvhd, mvhdSize, err := findBox(r, moov, moovSize, "mvhd")
	if err != nil || mvhdSize < 32 {
		return 0, false
	}
	if _, err := r.Seek(mvhd, io.SeekStart); err != nil {
		return 0, false
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, false
	}
	// version(1) flags(3), then v0: created(4) modified(4) timescale(4)
	// duration(4); v1: created(8) modified(8) timescale(4) duration(8).
	var scale, units uint64
	switch b[0] {
	case 0:
		scale, units = uint64(binary.BigEndian.Uint32(b[12:16])), uint64(binary.BigEndian.Uint32(b[16:20]))
	case 1:
		scale, units = uint64(binary.BigEndian.Uint32(b[20:24])), binary.BigEndian.Uint64(b[24:32])
	default:
		return 0, false
	}
	if scale == 0 || units == 0 || units == 1<<32-1 || units == 1<<64-1 { // all ones: unknown
		return 0, false
	}
	if units/scale > uint64(100*24*time.Hour/time.Second) { // nonsense
		return 0, false
	}
	ms := units/scale*1000 + units%scale*1000/scale
	return time.Duration(ms) * time.Millisecond, true
}

var errNoBox = errors.New("box not found")

// findBox finds the box named typ among the boxes in [start, start+size)
// (size < 0: to the end of the file) and returns where its payload starts
// and how long it is.
func findBox(r io.ReadSeeker, start, size int64, typ string) (int64, int64, error) {
	end := int64(-1)
	if size >= 0 {
		end = start + size
	}
	pos := start
	for n := 0; n < 10000 && (end < 0 || pos+8 <= end); n++ {
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return 0, 0, err
		}
		var h [16]byte
		if _, err := io.ReadFull(r, h[:8]); err != nil {
			return 0, 0, errNoBox
		}
		boxSize, header := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch boxSize {
		case 1: // 64-bit size follows the type
			if _, err := io.ReadFull(r, h[8:16]); err != nil {
				return 0, 0, errNoBox
			}
			boxSize, header = int64(binary.BigEndian.Uint64(h[8:16])), 16
		case 0: // to the end of the enclosing space
			if end < 0 {
				cur, err := r.Seek(0, io.SeekEnd)
				if err != nil {
					return 0, 0, err
				}
				boxSize = cur - pos
			} else {
				boxSize = end - pos
			}
		}
		if boxSize < header || (end >= 0 && pos+boxSize > end) {
			return 0, 0, errNoBox
		}
		if string(h[4:8]) == typ {
			return pos + header, boxSize - header, nil
		}
		pos += boxSize
	}
	return 0, 0, errNoBox
}
