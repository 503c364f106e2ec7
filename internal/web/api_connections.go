package web

import (
	"io"
	"net/http"
	"strings"

	"github.com/vernetzen/vernetzen/internal/connection"
)

// routesConnections registers connecting channels to their platforms:
// credentials by token (API), platform apps, notices, the OAuth callback
// and the webhook receivers.
func (s *Server) routesConnections() {
	if s.Connections == nil {
		return
	}
	s.api("GET", "/api/v1/channels/{id}/connection", s.apiConnection)
	s.api("PUT", "/api/v1/channels/{id}/credentials", s.apiPutCredentials)
	s.api("DELETE", "/api/v1/channels/{id}/credentials", s.apiDeleteCredentials)
	s.api("GET", "/api/v1/platforms/{key}/app", s.apiPlatformApp)
	s.api("PUT", "/api/v1/platforms/{key}/app", s.apiPutPlatformApp)
	s.api("GET", "/api/v1/notices", s.apiNotices)
	s.mux.HandleFunc("GET /hooks/{platform}", s.serveHook)
	s.mux.HandleFunc("POST /hooks/{platform}", s.serveHook)
}

func (s *Server) apiConnection(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := s.Connections.Status(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) apiPutCredentials(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in connection.TokenInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	st, err := s.Connections.ConnectWithToken(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) apiDeleteCredentials(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Connections.Disconnect(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiPlatformApp(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Connections.AppStatus(r.Context(), principalOf(r), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) apiPutPlatformApp(w http.ResponseWriter, r *http.Request) error {
	var in connection.AppInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	st, err := s.Connections.SetApp(r.Context(), principalOf(r), r.PathValue("key"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) apiNotices(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.Connections.Notices(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ns))
	return nil
}

// serveHook receives a platform's webhook: the handshake or a signed
// delivery. It answers plain text, since platforms read the status only
// (and, for the handshake, the challenge echoed back).
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := s.Connections.HandleWebhook(r.Context(), strings.ToLower(r.PathValue("platform")), r, body)
	if err != nil {
		e := s.publicError(r, err)
		http.Error(w, e.Error(), statusOf(e))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(resp))
}
