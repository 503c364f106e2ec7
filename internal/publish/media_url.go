package publish

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
)

// Public media links. Platforms that fetch attachments themselves
// (Instagram's container flow downloads image_url or video_url from the
// internet) need a URL that works without a session. The hub gives them
//
//	{public URL}/public/media/{id}/{expires}/{signature}{.ext}
//
// where expires is a unix time and signature an HMAC-SHA256, under a key
// derived from the hub's secret key, over the media id, the file's
// SHA-256 and expires. So a link names exactly one file (its bytes, not
// just its id), can't be guessed or altered, and stops working when it
// expires; nothing is stored per link. Every delivery attempt makes a
// fresh link.

// PublicMediaPrefix is where signed media links are served.
const PublicMediaPrefix = "/public/media/"

// DefaultMediaURLTTL is how long a signed media link works: long enough
// for a platform to fetch the file while it processes the post (Instagram
// does within minutes), short enough that a leaked link soon dies.
const DefaultMediaURLTTL = 6 * time.Hour

// mediaSignature is the link's HMAC, base64url without padding.
func mediaSignature(key []byte, id int64, hash string, expires int64) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "vernetzen media link v1\x00%d\x00%s\x00%d", id, hash, expires)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// SignedMediaPath is the path of a link to media id (whose bytes have
// SHA-256 hash) that works until expires; ext (".jpg") is a courtesy
// for fetchers that look at names.
func SignedMediaPath(key []byte, id int64, hash, ext string, expires time.Time) string {
	exp := expires.Unix()
	return fmt.Sprintf("%s%d/%d/%s%s", PublicMediaPrefix, id, exp, mediaSignature(key, id, hash, exp), ext)
}

// mediaExt is the usual file name extension for a content type.
func mediaExt(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "video/mp4":
		return ".mp4"
	case "video/quicktime":
		return ".mov"
	case "video/webm":
		return ".webm"
	case "video/3gpp":
		return ".3gp"
	case "video/3gpp2":
		return ".3g2"
	case "video/x-msvideo":
		return ".avi"
	case "video/mpeg":
		return ".mpg"
	}
	return ""
}

// publicURLProblem says why media have no public link, naming the
// setting that is missing; "" when links can be made.
func (s *Service) publicURLProblem() string {
	switch {
	case s.PublicURL == "":
		return "the platform fetches media from the internet, but this hub has no public address: start it with --public-url " +
			"(VERNETZEN_PUBLIC_URL) set to the https:// address the internet reaches it at"
	case len(s.MediaURLKey) == 0:
		return "the platform fetches media from the internet, but this hub has no secret key to sign media links with: " +
			"set VERNETZEN_SECRET_KEY or --secret-key-file"
	}
	return ""
}

// PublicMediaURL is a signed link to m under the hub's public URL,
// working for MediaURLTTL; an Unavailable error names the missing
// setting.
func (s *Service) PublicMediaURL(m Media) (string, error) {
	if msg := s.publicURLProblem(); msg != "" {
		return "", errs.E(errs.Unavailable, "%s", msg)
	}
	ttl := s.MediaURLTTL
	if ttl <= 0 {
		ttl = DefaultMediaURLTTL
	}
	return strings.TrimRight(s.PublicURL, "/") + SignedMediaPath(s.MediaURLKey, m.ID, m.Hash, mediaExt(m.ContentType), s.Now().Add(ttl)), nil
}

// PublicFile is what a signed link serves.
type PublicFile struct {
	Path        string // on disk
	Hash        string // SHA-256, hex: the link is signed over it
	ContentType string
	Filename    string
	ModTime     time.Time
}

// PublicMediaHandler serves signed media links (see PublicMediaPrefix)
// without a session: the signature is checked (in constant time) over
// the id, the file's hash and the expiry, then the expiry against now.
// A wrong, altered or unknown link is 404, an expired one 410; a good
// one gets the file with range requests (videos are fetched in parts).
func PublicMediaHandler(key []byte, now func() time.Time, lookup func(ctx context.Context, id int64) (PublicFile, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(code int, msg string) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, msg, code)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			fail(http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, PublicMediaPrefix)
		parts := strings.Split(rest, "/")
		if !ok || len(parts) != 3 || len(key) == 0 {
			fail(http.StatusNotFound, "no such media link")
			return
		}
		id, err1 := strconv.ParseInt(parts[0], 10, 64)
		exp, err2 := strconv.ParseInt(parts[1], 10, 64)
		sig, _, _ := strings.Cut(parts[2], ".")
		if err1 != nil || err2 != nil || id <= 0 {
			fail(http.StatusNotFound, "no such media link")
			return
		}
		f, err := lookup(r.Context(), id)
		if err != nil {
			if !errs.Is(err, errs.NotFound) {
				fail(http.StatusInternalServerError, "internal error")
				return
			}
			fail(http.StatusNotFound, "no such media link")
			return
		}
		if !hmac.Equal([]byte(sig), []byte(mediaSignature(key, id, f.Hash, exp))) {
			fail(http.StatusNotFound, "no such media link")
			return
		}
		left := time.Unix(exp, 0).Sub(now())
		if left <= 0 {
			fail(http.StatusGone, "this media link has expired")
			return
		}
		file, err := os.Open(f.Path)
		if err != nil {
			fail(http.StatusNotFound, "no such media link")
			return
		}
		defer file.Close()
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(min(left, time.Hour)/time.Second)))
		h.Set("ETag", `"`+f.Hash+`"`)
		h.Set("X-Robots-Tag", "noindex")
		if f.Filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", f.Filename))
		}
		http.ServeContent(w, r, "", f.ModTime, file)
	})
}

// PublicMediaHandler serves the service's signed media links.
func (s *Service) PublicMediaHandler() http.Handler {
	return PublicMediaHandler(s.MediaURLKey, func() time.Time { return s.Now() }, func(ctx context.Context, id int64) (PublicFile, error) {
		m, err := s.Store.MediaByID(ctx, id)
		if err != nil {
			return PublicFile{}, err
		}
		f := PublicFile{Path: s.FilePath(m), Hash: m.Hash, ContentType: m.ContentType, Filename: m.Filename, ModTime: m.CreatedAt}
		return f, nil
	})
}
