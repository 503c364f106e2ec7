package publish

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for DecodeConfig and thumbnails
	"image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Media upload limits.
const (
	MaxImageBytes int64 = 20 << 20
	MaxVideoBytes int64 = 1 << 30
	// ThumbSize bounds a thumbnail's width and height.
	ThumbSize = 320
	// maxThumbPixels: larger images get no thumbnail (a decompression
	// bomb must not take the memory).
	maxThumbPixels = 60_000_000
)

// mediaTypes are the accepted types, as content sniffing names them.
var mediaTypes = map[string]connector.MediaKind{
	"image/jpeg":      connector.MediaImage,
	"image/png":       connector.MediaImage,
	"image/gif":       connector.MediaGIF,
	"image/webp":      connector.MediaImage,
	"video/mp4":       connector.MediaVideo,
	"video/webm":      connector.MediaVideo,
	"video/quicktime": connector.MediaVideo,
	"video/3gpp":      connector.MediaVideo,
	"video/3gpp2":     connector.MediaVideo,
	"video/x-msvideo": connector.MediaVideo,
	"video/mpeg":      connector.MediaVideo,
}

// acceptedTypesText says what mediaTypes accepts, for error messages.
const acceptedTypesText = "JPEG, PNG, GIF and WebP images and MP4, QuickTime (MOV), WebM, 3GP, AVI and MPEG videos"

// Media is one file of a unit's media library. The bytes live in the
// data directory under their SHA-256, so the same file is stored once.
type Media struct {
	ID          int64               `json:"id"`
	UnitID      int64               `json:"-"`
	Unit        string              `json:"unit"`
	UnitPath    string              `json:"-"`
	Hash        string              `json:"sha256"`
	Kind        connector.MediaKind `json:"kind"`
	ContentType string              `json:"content_type"`
	Filename    string              `json:"filename"`
	Size        int64               `json:"size"`
	Width       int                 `json:"width"`
	Height      int                 `json:"height"`
	// DurationMS is a video's length when its container says (MP4,
	// QuickTime, 3GP); 0 = unknown.
	DurationMS int64     `json:"duration_ms,omitempty"`
	AltText    string    `json:"alt_text"`
	HasThumb   bool      `json:"has_thumb"`
	UploadedBy string    `json:"uploaded_by"`
	CreatedAt  time.Time `json:"created_at"`
	URL        string    `json:"url"`
	ThumbURL   string    `json:"thumb_url,omitempty"`
}

func (m *Media) fill() {
	m.URL = fmt.Sprintf("/media/%d/file", m.ID)
	m.ThumbURL = ""
	if m.HasThumb {
		m.ThumbURL = fmt.Sprintf("/media/%d/thumb", m.ID)
	}
}

// IsImage says whether the file is an image (a GIF included).
func (m Media) IsImage() bool { return m.Kind == connector.MediaImage || m.Kind == connector.MediaGIF }

// MediaUpload describes an upload; the bytes come separately.
type MediaUpload struct {
	Unit     string
	Filename string
	AltText  string
}

func (s *Service) mediaDir() (string, error) {
	if s.MediaDir == "" {
		return "", errs.E(errs.Unavailable, "the media library is not configured (no media directory)")
	}
	return s.MediaDir, nil
}

// FilePath is where a media file's bytes are.
func (s *Service) FilePath(m Media) string {
	return filepath.Join(s.MediaDir, "files", m.Hash[:2], m.Hash)
}

// ThumbPath is where a media file's thumbnail is (JPEG).
func (s *Service) ThumbPath(m Media) string {
	return filepath.Join(s.MediaDir, "thumbs", m.Hash[:2], m.Hash+".jpg")
}

// UploadMedia stores a file in a unit's media library: streamed to disk
// while hashed, its type found by content sniffing, its size checked
// against the kind's limit, images measured and given a thumbnail. The
// same bytes uploaded again to the unit return the existing entry.
func (s *Service) UploadMedia(ctx context.Context, p *access.Principal, in MediaUpload, r io.Reader) (Media, error) {
	dir, err := s.mediaDir()
	if err != nil {
		return Media{}, err
	}
	if in.Unit == "" {
		return Media{}, errs.Field("unit", "name the unit whose library gets the file")
	}
	u, err := s.Org.Unit(ctx, p, in.Unit)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Media{}, &errs.Error{Code: errs.NotFound, Field: "unit", Message: fmt.Sprintf("unit %q not found", in.Unit)}
		}
		return Media{}, err
	}
	if !p.Can(access.WritePosts, u.Path) {
		return Media{}, errs.E(errs.Forbidden, "you may not add media to %q", in.Unit)
	}
	alt := strings.TrimSpace(in.AltText)
	if len(alt) > 1500 {
		return Media{}, errs.Field("alt_text", "the alt text is longer than 1500 bytes")
	}
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Media{}, fmt.Errorf("publish: read upload: %w", err)
	}
	if len(head) == 0 {
		return Media{}, errs.Field("file", "the file is empty")
	}
	ct := sniffContentType(head)
	kind, ok := mediaTypes[ct]
	if !ok {
		return Media{}, errs.Field("file", "the file is %s; accepted are %s", ct, acceptedTypesText)
	}
	limit := MaxImageBytes
	if kind == connector.MediaVideo {
		limit = MaxVideoBytes
	}
	for _, sub := range []string{"tmp", "files", "thumbs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return Media{}, fmt.Errorf("publish: media dir: %w", err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(dir, "tmp"), "upload-*")
	if err != nil {
		return Media{}, fmt.Errorf("publish: media temp: %w", err)
	}
	done := false
	defer func() {
		tmp.Close()
		if !done {
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(br, limit+1))
	if err != nil {
		return Media{}, fmt.Errorf("publish: store upload: %w", err)
	}
	if n > limit {
		return Media{}, &errs.Error{Code: errs.TooLarge, Field: "file", Message: fmt.Sprintf("the %s is larger than %d MB", kindWord(kind), limit>>20)}
	}
	m := Media{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path, Hash: hex.EncodeToString(h.Sum(nil)), Kind: kind, ContentType: ct,
		Filename: cleanFilename(in.Filename), Size: n, AltText: alt, UploadedBy: p.User.Email}
	if old, err := s.Store.MediaByHash(ctx, u.ID, m.Hash); err == nil {
		old.fill()
		return old, nil
	} else if !errs.Is(err, errs.NotFound) {
		return Media{}, err
	}
	if m.IsImage() && ct != "image/webp" {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return Media{}, err
		}
		cfg, _, err := image.DecodeConfig(bufio.NewReader(tmp))
		if err != nil {
			return Media{}, errs.Field("file", "the image can't be read: %v", err)
		}
		m.Width, m.Height = cfg.Width, cfg.Height
		if cfg.Width > 0 && cfg.Height > 0 && cfg.Width*cfg.Height <= maxThumbPixels {
			if _, err := tmp.Seek(0, io.SeekStart); err != nil {
				return Media{}, err
			}
			if err := s.writeThumb(tmp, s.ThumbPath(m)); err == nil {
				m.HasThumb = true
			} else {
				s.Log.Warn("media thumbnail", "hash", m.Hash, "err", err)
			}
		}
	}
	if kind == connector.MediaVideo && sniffISOBrand(head) != "" {
		if d, ok := isoDuration(tmp); ok {
			m.DurationMS = d.Milliseconds()
		}
	}
	if err := tmp.Sync(); err != nil {
		return Media{}, err
	}
	// Placing the bytes and adding the row happen under mediaFiles, so a
	// delete of another unit's entry with the same bytes can't remove
	// the file between the two.
	s.mediaFiles.Lock()
	defer s.mediaFiles.Unlock()
	final := s.FilePath(m)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return Media{}, err
	}
	if _, err := os.Stat(final); err == nil {
		// The bytes are stored already (another unit's upload).
	} else if err := os.Rename(tmp.Name(), final); err != nil {
		return Media{}, fmt.Errorf("publish: store media: %w", err)
	} else {
		done = true
	}
	if m.HasThumb {
		// The thumbnail was found made already but may have gone with a
		// delete since: make it again from the stored bytes.
		if _, err := os.Stat(s.ThumbPath(m)); err != nil {
			if err := s.thumbFrom(final, s.ThumbPath(m)); err != nil {
				s.Log.Warn("media thumbnail", "hash", m.Hash, "err", err)
				m.HasThumb = false
			}
		}
	}
	if err := s.Store.CreateMedia(ctx, &m); err != nil {
		if old, err2 := s.Store.MediaByHash(ctx, u.ID, m.Hash); err2 == nil {
			old.fill() // a concurrent upload of the same file won
			return old, nil
		}
		return Media{}, err
	}
	m.fill()
	return m, nil
}

// SizeText is the size for people: "2.4 MB".
func (m Media) SizeText() string {
	switch {
	case m.Size >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(m.Size)/(1<<20))
	case m.Size >= 1<<10:
		return fmt.Sprintf("%d KB", m.Size>>10)
	}
	return fmt.Sprintf("%d bytes", m.Size)
}

// DurationText is a video's length for people ("1:05"), "" if unknown.
func (m Media) DurationText() string {
	if m.DurationMS <= 0 {
		return ""
	}
	sec := (m.DurationMS + 500) / 1000
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}

func kindWord(k connector.MediaKind) string {
	if k == connector.MediaVideo {
		return "video"
	}
	return "image"
}

func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if r < 32 || r == 127 {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

// writeThumb decodes an image and writes it scaled down to ThumbSize as
// JPEG, through a temporary file.
func (s *Service) writeThumb(r io.Reader, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return err
	}
	th := Thumbnail(img, ThumbSize)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "thumb-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := jpeg.Encode(f, th, &jpeg.Options{Quality: 82}); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// thumbFrom writes the thumbnail of the image file at src.
func (s *Service) thumbFrom(src, path string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.writeThumb(f, path)
}

// Thumbnail scales img down to fit a size×size box (never up) with a box
// filter: each target pixel is the mean of (at most 4×4 samples of) the
// source pixels it covers. Transparent areas become white.
func Thumbnail(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if sw > size || sh > size {
		if sw >= sh {
			dw, dh = size, max(1, sh*size/sw)
		} else {
			dw, dh = max(1, sw*size/sh), size
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := b.Min.Y+y*sh/dh, b.Min.Y+(y+1)*sh/dh
		if y1 <= y0 {
			y1 = y0 + 1
		}
		ystep := max(1, (y1-y0)/4)
		for x := 0; x < dw; x++ {
			x0, x1 := b.Min.X+x*sw/dw, b.Min.X+(x+1)*sw/dw
			if x1 <= x0 {
				x1 = x0 + 1
			}
			xstep := max(1, (x1-x0)/4)
			var r, g, bl, n uint64
			for sy := y0; sy < y1; sy += ystep {
				for sx := x0; sx < x1; sx += xstep {
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					// over white
					r += uint64(cr + (0xffff - ca))
					g += uint64(cg + (0xffff - ca))
					bl += uint64(cb + (0xffff - ca))
					n++
				}
			}
			dst.SetRGBA(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), 0xff})
		}
	}
	return dst
}

// MediaByID returns a media file the caller may read (NotFound outside
// the caller's units).
func (s *Service) MediaByID(ctx context.Context, p *access.Principal, id int64) (Media, error) {
	m, err := s.Store.MediaByID(ctx, id)
	if err != nil {
		return Media{}, err
	}
	if !p.Can(access.ReadDirectory, m.UnitPath) {
		return Media{}, errs.E(errs.NotFound, "media %d not found", id)
	}
	m.fill()
	return m, nil
}

// MediaLibrary lists the media the caller may read, newest first; unit
// narrows to its subtree.
func (s *Service) MediaLibrary(ctx context.Context, p *access.Principal, unit string, limit int) ([]Media, error) {
	path := ""
	if unit != "" {
		u, err := s.Org.Unit(ctx, p, unit)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Field("unit", "unit %q not found", unit)
			}
			return nil, err
		}
		path = u.Path
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	list, err := s.Store.MediaList(ctx, p.Scope(access.ReadDirectory), path, limit)
	for i := range list {
		list[i].fill()
	}
	return list, err
}

// loadMedia resolves media ids the caller may read; field names the
// list ("media", "variants.x.media").
func (s *Service) loadMedia(ctx context.Context, p *access.Principal, field string, ids []int64, into map[int64]Media) error {
	if len(ids) > 20 {
		return errs.Field(field, "at most 20 media per post")
	}
	seen := map[int64]bool{}
	for i, id := range ids {
		if seen[id] {
			return errs.Field(fmt.Sprintf("%s[%d]", field, i), "media %d is listed twice", id)
		}
		seen[id] = true
		if _, ok := into[id]; ok {
			continue
		}
		m, err := s.MediaByID(ctx, p, id)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return &errs.Error{Code: errs.NotFound, Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("media %d not found", id)}
			}
			return err
		}
		into[id] = m
	}
	return nil
}

// connectorMedia describes media for a connector: Open reads the file;
// with link, URL is a fresh signed public link (for platforms that fetch
// media themselves), "" when the hub has no public URL (check says why).
func (s *Service) connectorMedia(m Media, link bool) connector.Media {
	path := s.FilePath(m)
	var public string
	if link {
		public, _ = s.PublicMediaURL(m)
	}
	return connector.Media{URL: public, Kind: m.Kind, ContentType: m.ContentType, Filename: m.Filename, Size: m.Size, AltText: m.AltText,
		Width: m.Width, Height: m.Height, Duration: time.Duration(m.DurationMS) * time.Millisecond, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// DeleteMedia removes a file from its unit's library: the row, and the
// bytes and thumbnail in the data directory unless another unit's library
// holds the same file. It is refused (Conflict, naming the posts) while a
// post that is not yet published everywhere uses the file: any of its
// deliveries that gets the file (its own media or its variant's) is
// still held, scheduled, publishing, unknown or failed (a failed one may
// be retried). Posts whose deliveries with the file are all published or
// cancelled keep their platform copies; the hub's record of such a post
// no longer lists the file, and its audit trail gets a "media deleted"
// step naming the file, who deleted it and when.
func (s *Service) DeleteMedia(ctx context.Context, p *access.Principal, id int64) error {
	m, err := s.MediaByID(ctx, p, id)
	if err != nil {
		return err
	}
	if !p.Can(access.WritePosts, m.UnitPath) {
		return errs.E(errs.Forbidden, "you may not delete media of %q", m.Unit)
	}
	s.mediaFiles.Lock()
	defer s.mediaFiles.Unlock()
	err = s.InTx(ctx, func(tx Store) error {
		users, err := tx.MediaUsers(ctx, id)
		if err != nil {
			return err
		}
		var open []string
		var published []int64
		for _, postID := range users {
			post, err := tx.PostByID(ctx, postID)
			if err != nil {
				return err
			}
			ds, err := tx.Deliveries(ctx, postID)
			if err != nil {
				return err
			}
			waiting := map[DeliveryStatus]int{}
			for _, d := range ds {
				if d.Status != DeliveryPublished && d.Status != DeliveryCancelled && slices.Contains(post.MediaFor(d.ChannelID, d.Platform), id) {
					waiting[d.Status]++
				}
			}
			if len(waiting) > 0 {
				open = append(open, fmt.Sprintf("post %d (%s)", postID, summary(waiting)))
			} else {
				published = append(published, postID)
			}
		}
		if len(open) > 0 {
			return &errs.Error{Code: errs.Conflict, Field: "media", Message: fmt.Sprintf("media %d (%s) is used by posts not yet published: %s; "+
				"remove it from them or cancel them first", id, m.displayName(), strings.Join(open, ", "))}
		}
		for _, postID := range published {
			if err := tx.AddApproval(ctx, Approval{PostID: postID, UserID: p.User.ID, Who: p.User.Email, Action: "media deleted",
				Comment: fmt.Sprintf("%s (media %d) was deleted from the library; the platforms keep their copies", m.displayName(), id)}); err != nil {
				return err
			}
		}
		return tx.DeleteMedia(ctx, id, published)
	})
	if err != nil {
		return err
	}
	used, err := s.Store.MediaHashUsed(ctx, m.Hash)
	if err != nil || used {
		return err // the row is gone; shared bytes stay
	}
	for _, path := range []string{s.FilePath(m), s.ThumbPath(m)} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			// The entry is deleted; a leftover file is only disk space.
			s.Log.Warn("media delete: file left behind", "path", path, "err", err)
		}
	}
	return nil
}

// displayName is how messages name a media file.
func (m Media) displayName() string {
	if m.Filename != "" {
		return m.Filename
	}
	return string(m.Kind)
}
