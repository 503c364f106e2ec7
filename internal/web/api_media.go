package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// MaxUploadBytes bounds a media upload's request body: the largest video
// and room for the form's other fields. The 1 MiB JSON limit does not
// apply to it.
const MaxUploadBytes = publish.MaxVideoBytes + 1<<20

// routesMedia registers the media library's API and file routes.
func (s *Server) routesMedia() {
	// The upload's body limit must be in place before the CSRF check,
	// which may parse a multipart form: so not through s.api.
	s.routes = append(s.routes, route{"POST", "/api/v1/media"})
	s.mux.HandleFunc("POST /api/v1/media", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxUploadBytes)
		r, err := s.authenticate(r)
		if err == nil {
			err = s.apiUploadMedia(w, r)
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				err = &errs.Error{Code: errs.TooLarge, Field: "file", Message: fmt.Sprintf("the upload is larger than %d MB", MaxUploadBytes>>20)}
			}
			s.apiError(w, r, err)
		}
	})
	s.api("GET", "/api/v1/media", s.apiMediaList)
	s.api("GET", "/api/v1/media/{id}", s.apiMedia)
	s.api("DELETE", "/api/v1/media/{id}", s.apiDeleteMedia)
	s.mux.HandleFunc("GET /media/{id}/file", s.serveMedia)
	s.mux.HandleFunc("GET /media/{id}/thumb", s.serveMedia)
	// Signed links for platforms that fetch media themselves: no
	// session, the signature is the permission (see publish.PublicMediaURL).
	s.mux.HandleFunc("GET "+publish.PublicMediaPrefix+"{link...}", func(w http.ResponseWriter, r *http.Request) {
		s.Publish.PublicMediaHandler().ServeHTTP(w, r)
	})
}

// apiUploadMedia reads a multipart form: unit and alt_text (fields, or
// query parameters), then the file part, streamed to the library.
func (s *Server) apiUploadMedia(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	up := publish.MediaUpload{Unit: q.Get("unit"), AltText: q.Get("alt_text")}
	redirect := ""
	var m publish.Media
	if f := r.MultipartForm; f != nil {
		// The CSRF check of a browser form parsed it already (to disk
		// beyond 32 MB, under the body limit).
		if v := f.Value["unit"]; len(v) > 0 && v[0] != "" {
			up.Unit = v[0]
		}
		if v := f.Value["alt_text"]; len(v) > 0 {
			up.AltText = v[0]
		}
		if v := f.Value["redirect"]; len(v) > 0 {
			redirect = v[0]
		}
		fhs := f.File["file"]
		if len(fhs) == 0 {
			return errs.Field("file", "send the file in a part named file")
		}
		file, err := fhs[0].Open()
		if err != nil {
			return err
		}
		defer file.Close()
		up.Filename = fhs[0].Filename
		if m, err = s.Publish.UploadMedia(r.Context(), principalOf(r), up, file); err != nil {
			return err
		}
	} else {
		mr, err := r.MultipartReader()
		if err != nil {
			return errs.Field("body", "send multipart/form-data with the file in a part named file")
		}
		got := false
		for !got {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return mediaReadError(err)
			}
			switch name := part.FormName(); name {
			case "file":
				up.Filename = part.FileName()
				m, err = s.Publish.UploadMedia(r.Context(), principalOf(r), up, part)
				if err != nil {
					return mediaReadError(err)
				}
				got = true
			case "unit", "alt_text", "redirect", "csrf":
				v, err := formValue(part)
				if err != nil {
					return mediaReadError(err)
				}
				switch name {
				case "unit":
					up.Unit = v
				case "alt_text":
					up.AltText = v
				case "redirect":
					redirect = v
				}
			}
			part.Close()
		}
		if !got {
			return errs.Field("file", "send the file in a part named file (after unit and alt_text)")
		}
	}
	if strings.HasPrefix(redirect, "/") && !strings.HasPrefix(redirect, "//") {
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return nil
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/media/%d", m.ID))
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func formValue(part *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, 4097))
	if err != nil {
		return "", err
	}
	if len(b) > 4096 {
		return "", errs.Field(part.FormName(), "the field is longer than 4096 bytes")
	}
	return string(b), nil
}

// mediaReadError keeps an oversized body a 413.
func mediaReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &errs.Error{Code: errs.TooLarge, Field: "file", Message: fmt.Sprintf("the upload is larger than %d MB", MaxUploadBytes>>20)}
	}
	return err
}

func (s *Server) apiMediaList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errs.Field("limit", "%q is not a non-negative number", v)
		}
		limit = n
	}
	list, err := s.Publish.MediaLibrary(r.Context(), principalOf(r), q.Get("unit"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items[publish.Media]{Items: orEmpty(list)})
	return nil
}

func (s *Server) apiMedia(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := s.Publish.MediaByID(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// apiDeleteMedia deletes a library entry: 204, or 409 naming the posts
// not yet published that use it.
func (s *Server) apiDeleteMedia(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Publish.DeleteMedia(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveMedia answers /media/{id}/file and /media/{id}/thumb for a caller
// who may read the media's unit (404 otherwise), with the sniffed type.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) {
		code := statusOf(err)
		http.Error(w, http.StatusText(code), code)
	}
	ar, err := s.authenticate(r)
	if err != nil {
		fail(err)
		return
	}
	id, err := pathID(ar)
	if err != nil {
		fail(errs.E(errs.NotFound, "no such media"))
		return
	}
	m, err := s.Publish.MediaByID(ar.Context(), principalOf(ar), id)
	if err != nil {
		fail(err)
		return
	}
	path, ctype, etag := s.Publish.FilePath(m), m.ContentType, `"`+m.Hash+`"`
	if strings.HasSuffix(r.URL.Path, "/thumb") {
		if !m.HasThumb {
			fail(errs.E(errs.NotFound, "no thumbnail"))
			return
		}
		path, ctype, etag = s.Publish.ThumbPath(m), "image/jpeg", `"`+m.Hash+`-thumb"`
	}
	f, err := os.Open(path)
	if err != nil {
		s.Log.Error("media file", "id", m.ID, "err", err)
		fail(errs.E(errs.NotFound, "media file missing"))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fail(err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("ETag", etag)
	if m.Filename != "" && !strings.HasSuffix(r.URL.Path, "/thumb") {
		h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", m.Filename))
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}
