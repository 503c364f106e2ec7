package web

import (
	"net/http"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

// routesInboxTeams registers the API of the inbox's teams: a unit's teams
// and their members (managers), and the teams a conversation may go to.
// A conversation is assigned to a team by PATCH /api/v1/messages/{id}.
func (s *Server) routesInboxTeams() {
	if s.Inbox == nil {
		return
	}
	s.api("GET", "/api/v1/inbox/teams", s.apiTeams)
	s.api("POST", "/api/v1/inbox/teams", s.apiCreateTeam)
	s.api("GET", "/api/v1/inbox/teams/{id}", s.apiTeam)
	s.api("PATCH", "/api/v1/inbox/teams/{id}", s.apiRenameTeam)
	s.api("DELETE", "/api/v1/inbox/teams/{id}", s.apiDeleteTeam)
	s.api("PUT", "/api/v1/inbox/teams/{id}/members", s.apiSetTeamMembers)
	s.api("GET", "/api/v1/messages/{id}/teams", s.apiTeamsFor)
}

func (s *Server) apiTeams(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.Inbox.Teams(r.Context(), principalOf(r), r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(teams))
	return nil
}

func (s *Server) apiCreateTeam(w http.ResponseWriter, r *http.Request) error {
	var in inbox.TeamInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := s.Inbox.CreateTeam(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) apiTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	t, err := s.Inbox.Team(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) apiRenameTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := s.Inbox.RenameTeam(r.Context(), principalOf(r), id, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) apiDeleteTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteTeam(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSetTeamMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Members []int64 `json:"members"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := s.Inbox.SetTeamMembers(r.Context(), principalOf(r), id, in.Members)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) apiTeamsFor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	teams, err := s.Inbox.TeamsFor(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(teams))
	return nil
}
