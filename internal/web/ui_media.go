package web

import (
	"net/http"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// routesUIMedia registers the media library page. Uploads post the
// multipart form to /api/v1/media, which redirects back here.
func (s *Server) routesUIMedia() {
	s.uiPageRoute("GET /media", s.uiMedia)
}

type uiMediaData struct {
	uiPage
	Media  []publish.Media
	Units  []uiOption
	Unit   string
	Upload bool // the caller may upload somewhere
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
	d.Media = list
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
