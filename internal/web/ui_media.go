package web

import (
	"fmt"
	"net/http"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// routesUIMedia registers the media library page. Uploads post the
// multipart form to /api/v1/media, which redirects back here.
func (s *Server) routesUIMedia() {
	s.uiPageRoute("GET /media", s.uiMedia)
	s.uiPageRoute("POST /media/{id}/delete", s.uiDeleteMedia)
}

// uiDeleteMedia deletes a library entry (the page asks for confirmation
// first) and says so, or why not, on the library page.
func (s *Server) uiDeleteMedia(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := s.Publish.MediaByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := s.Publish.DeleteMedia(r.Context(), p, id); err != nil {
		if !errs.Is(err, errs.Conflict) && !errs.Is(err, errs.Forbidden) {
			return err
		}
		s.uiSetFlash(w, s.publicError(r, err).Error())
	} else {
		name := m.Filename
		if name == "" {
			name = fmt.Sprintf("media %d", id)
		}
		s.uiSetFlash(w, "Deleted "+name+" from the library.")
	}
	http.Redirect(w, r, "/media", http.StatusSeeOther)
	return nil
}

type uiMediaData struct {
	uiPage
	Media  []uiMediaItem
	Units  []uiOption
	Unit   string
	Upload bool // the caller may upload somewhere
}

// uiMediaItem is a library entry as the page shows it.
type uiMediaItem struct {
	publish.Media
	CanDelete bool
}

func (s *Server) uiMedia(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d := uiMediaData{uiPage: s.uiBase(r, "Media library", "publish"), Unit: r.URL.Query().Get("unit")}
	list, err := s.Publish.MediaLibrary(r.Context(), p, d.Unit, 500)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return errs.E(errs.NotFound, "unit %q not found", d.Unit)
		}
		return err
	}
	for _, m := range list {
		d.Media = append(d.Media, uiMediaItem{Media: m, CanDelete: p.Can(access.WritePosts, m.UnitPath)})
	}
	units, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return err
	}
	for _, u := range units {
		if p.Can(access.WritePosts, u.Path) {
			d.Units = append(d.Units, uiOption{Value: u.Key, Label: u.Name + " (" + u.Key + ")", Selected: u.Key == d.Unit})
		}
	}
	d.Upload = len(d.Units) > 0
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "publish_media", d)
	return nil
}
