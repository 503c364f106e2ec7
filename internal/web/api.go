package web

import (
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

// routesAPI registers the JSON API under /api/v1. Every route is listed in
// the OpenAPI document (openapi.go); a test checks the two agree.
func (s *Server) routesAPI() {
	s.mux.HandleFunc("GET /api/v1/openapi.json", s.serveOpenAPI)

	s.api("GET", "/api/v1/me", s.apiMe)
	s.api("GET", "/api/v1/platforms", s.apiPlatforms)

	s.api("GET", "/api/v1/units", s.apiUnits)
	s.api("POST", "/api/v1/units", s.apiCreateUnit)
	s.api("GET", "/api/v1/units/{key}", s.apiUnit)
	s.api("PATCH", "/api/v1/units/{key}", s.apiUpdateUnit)
	s.api("POST", "/api/v1/units/{key}/move", s.apiMoveUnit)
	s.api("DELETE", "/api/v1/units/{key}", s.apiDeleteUnit)

	s.api("GET", "/api/v1/channels", s.apiChannels)
	s.api("POST", "/api/v1/channels", s.apiCreateChannel)
	s.api("GET", "/api/v1/channels/{id}", s.apiChannel)
	s.api("PATCH", "/api/v1/channels/{id}", s.apiUpdateChannel)
	s.api("POST", "/api/v1/channels/{id}/retire", s.apiRetireChannel)
	s.api("DELETE", "/api/v1/channels/{id}", s.apiDeleteChannel)
	s.api("GET", "/api/v1/channels/{id}/audience", s.apiAudience)
	s.api("POST", "/api/v1/channels/{id}/audience", s.apiAddAudience)

	s.api("GET", "/api/v1/export/organisation.yaml", s.apiExportMap)
	s.api("GET", "/api/v1/export/channels.csv", s.apiExportChannelsCSV)

	s.api("GET", "/api/v1/users", s.apiUsers)
	s.api("POST", "/api/v1/users", s.apiCreateUser)
	s.api("GET", "/api/v1/users/{id}", s.apiUser)
	s.api("PATCH", "/api/v1/users/{id}", s.apiUpdateUser)
	s.api("DELETE", "/api/v1/users/{id}", s.apiDeleteUser)

	s.api("GET", "/api/v1/grants", s.apiGrants)
	s.api("POST", "/api/v1/grants", s.apiCreateGrant)
	s.api("DELETE", "/api/v1/grants/{id}", s.apiDeleteGrant)

	s.api("GET", "/api/v1/tokens", s.apiTokens)
	s.api("POST", "/api/v1/tokens", s.apiCreateToken)
	s.api("DELETE", "/api/v1/tokens/{id}", s.apiDeleteToken)

	// Anything else under /api/ is a JSON 404, not the HTML one.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.apiError(w, r, errs.E(errs.NotFound, "no such API route: %s %s", r.Method, r.URL.Path))
	})
}

// items is the shape of every list answer.
type items[T any] struct {
	Items []T  `json:"items"`
	Total *int `json:"total,omitempty"`
}

func list[T any](v []T) items[T] {
	if v == nil {
		v = []T{}
	}
	return items[T]{Items: v}
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Field("id", "%q is not an id", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	writeJSON(w, http.StatusOK, map[string]any{"user": p.User, "grants": orEmpty(p.Grants)})
	return nil
}

func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (s *Server) apiPlatforms(w http.ResponseWriter, r *http.Request) error {
	pl, err := s.Org.PlatformList(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(pl))
	return nil
}

// ---- units ----

func (s *Server) apiUnits(w http.ResponseWriter, r *http.Request) error {
	units, err := s.Org.Tree(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(units))
	return nil
}

func (s *Server) apiUnit(w http.ResponseWriter, r *http.Request) error {
	u, err := s.Org.Unit(r.Context(), principalOf(r), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) apiCreateUnit(w http.ResponseWriter, r *http.Request) error {
	var in org.UnitInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Org.CreateUnit(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/units/"+u.Key)
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) apiUpdateUnit(w http.ResponseWriter, r *http.Request) error {
	var in org.UnitPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Org.UpdateUnit(r.Context(), principalOf(r), r.PathValue("key"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) apiMoveUnit(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Parent string `json:"parent"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Org.MoveUnit(r.Context(), principalOf(r), r.PathValue("key"), in.Parent)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) apiDeleteUnit(w http.ResponseWriter, r *http.Request) error {
	if err := s.Org.DeleteUnit(r.Context(), principalOf(r), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- channels ----

// channelFilter reads the list filters from the query string.
func channelFilter(r *http.Request) (org.ChannelFilter, error) {
	q := r.URL.Query()
	f := org.ChannelFilter{Unit: q.Get("unit"), Platform: q.Get("platform"), Status: org.Status(q.Get("status")), Text: q.Get("q")}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &f.Limit}, {"offset", &f.Offset}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, errs.Field(p.name, "%q is not a non-negative number", v)
			}
			*p.dst = n
		}
	}
	return f, nil
}

func (s *Server) apiChannels(w http.ResponseWriter, r *http.Request) error {
	f, err := channelFilter(r)
	if err != nil {
		return err
	}
	chs, total, err := s.Org.Channels(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	res := list(chs)
	res.Total = &total
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) apiChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Org.Channel(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiCreateChannel(w http.ResponseWriter, r *http.Request) error {
	var in org.ChannelInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Org.CreateChannel(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/channels/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) apiUpdateChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in org.ChannelPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Org.UpdateChannel(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiRetireChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Org.RetireChannel(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiDeleteChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Org.DeleteChannel(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAudience(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pts, err := s.Org.Audience(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(pts))
	return nil
}

func (s *Server) apiAddAudience(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Points []org.AudiencePoint `json:"points"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Org.AddAudience(r.Context(), principalOf(r), id, in.Points); err != nil {
		return err
	}
	return s.apiAudience(w, r)
}

// ---- export ----

func (s *Server) apiExportMap(w http.ResponseWriter, r *http.Request) error {
	m, err := s.Org.Export(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="organisation.yaml"`)
	return org.WriteMap(w, m)
}

func (s *Server) apiExportChannelsCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := channelFilter(r)
	if err != nil {
		return err
	}
	chs, _, err := s.Org.Channels(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="channels.csv"`)
	return org.WriteChannelsCSV(csv.NewWriter(w), chs)
}

// ---- users, grants, tokens ----

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.Access.Users(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(us))
	return nil
}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.Access.User(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in access.UserInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	generated := in.Password == ""
	u, password, err := s.Access.CreateUser(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	res := map[string]any{"user": u}
	if generated {
		res["password"] = password // shown once
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in access.UserPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Access.UpdateUser(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) apiDeleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Access.DeleteUser(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiGrants(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.Access.Grants(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(gs))
	return nil
}

func (s *Server) apiCreateGrant(w http.ResponseWriter, r *http.Request) error {
	var in access.GrantInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := s.Access.Grant(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) apiDeleteGrant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Access.Revoke(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Access.Tokens(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ts))
	return nil
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in access.TokenInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, secret, err := s.Access.CreateToken(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
	return nil
}

func (s *Server) apiDeleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Access.RevokeToken(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
