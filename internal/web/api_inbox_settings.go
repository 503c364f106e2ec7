package web

import (
	"net/http"
	"strconv"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// routesInboxSettings registers the API of the inbox's settings: saved
// replies (editing and preview), routing rules and the vehicle model
// catalogues. The settings pages call the same service methods.
func (s *Server) routesInboxSettings() {
	if s.Inbox == nil {
		return
	}
	s.api("GET", "/api/v1/inbox/saved-replies/{id}", s.apiSavedReply)
	s.api("PUT", "/api/v1/inbox/saved-replies/{id}", s.apiUpdateSavedReply)
	s.api("POST", "/api/v1/inbox/saved-replies/preview", s.apiPreviewSavedReply)
	s.api("GET", "/api/v1/inbox/routing-rules", s.apiRoutingRules)
	s.api("POST", "/api/v1/inbox/routing-rules", s.apiCreateRoutingRule)
	s.api("GET", "/api/v1/inbox/routing-rules/{id}", s.apiRoutingRule)
	s.api("PUT", "/api/v1/inbox/routing-rules/{id}", s.apiUpdateRoutingRule)
	s.api("DELETE", "/api/v1/inbox/routing-rules/{id}", s.apiDeleteRoutingRule)
	s.api("GET", "/api/v1/messages/{id}/assignees", s.apiAssignees)
	s.api("GET", "/api/v1/catalogue", s.apiCatalogues)
	s.api("GET", "/api/v1/catalogue/{unit}", s.apiCatalogue)
	s.api("POST", "/api/v1/catalogue/{unit}/models", s.apiCreateModel)
	s.api("PUT", "/api/v1/catalogue/{unit}/models/{name}", s.apiUpdateModel)
	s.api("DELETE", "/api/v1/catalogue/{unit}/models/{name}", s.apiDeleteModel)
}

func (s *Server) apiSavedReply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sr, err := s.Inbox.SavedReply(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sr)
	return nil
}

func (s *Server) apiUpdateSavedReply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in inbox.SavedReplyInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	sr, err := s.Inbox.UpdateSavedReply(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sr)
	return nil
}

func (s *Server) apiPreviewSavedReply(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Unit string `json:"unit"`
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	text, err := s.Inbox.PreviewSavedReply(r.Context(), principalOf(r), in.Unit, in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"rendered": text})
	return nil
}

func (s *Server) apiRoutingRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.Inbox.RoutingRules(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rules})
	return nil
}

func (s *Server) apiCreateRoutingRule(w http.ResponseWriter, r *http.Request) error {
	var in inbox.RoutingRuleInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rule, err := s.Inbox.CreateRoutingRule(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rule)
	return nil
}

func (s *Server) apiRoutingRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rule, err := s.Inbox.RoutingRule(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (s *Server) apiUpdateRoutingRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in inbox.RoutingRuleInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rule, err := s.Inbox.UpdateRoutingRule(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (s *Server) apiDeleteRoutingRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteRoutingRule(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAssignees(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	list, err := s.Inbox.Assignees(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *Server) apiCatalogues(w http.ResponseWriter, r *http.Request) error {
	cats, err := s.Inbox.Catalogues(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": cats})
	return nil
}

func (s *Server) apiCatalogue(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Inbox.Catalogue(r.Context(), principalOf(r), r.PathValue("unit"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiCreateModel(w http.ResponseWriter, r *http.Request) error {
	var in inbox.ModelInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Inbox.SetModel(r.Context(), principalOf(r), r.PathValue("unit"), "", in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) apiUpdateModel(w http.ResponseWriter, r *http.Request) error {
	var in inbox.ModelInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Inbox.SetModel(r.Context(), principalOf(r), r.PathValue("unit"), r.PathValue("name"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiDeleteModel(w http.ResponseWriter, r *http.Request) error {
	version, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil || version < 0 {
		return errs.Field("version", "give the catalogue's version you edit (?version=N, 0 for the built-in one)")
	}
	c, err := s.Inbox.DeleteModel(r.Context(), principalOf(r), r.PathValue("unit"), r.PathValue("name"), version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
