package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vernetzen/vernetzen/internal/errs"
)

// routesInboxLabels registers the intent corrections: an agent's reading
// of a message, and their export as the classifier's training data.
func (s *Server) routesInboxLabels() {
	if s.Inbox == nil {
		return
	}
	s.api("PUT", "/api/v1/messages/{id}/intent", s.apiCorrectIntent)
	s.api("GET", "/api/v1/export/intent-corrections.jsonl", s.apiExportIntentCorrections)
}

func (s *Server) apiCorrectIntent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Intent string `json:"intent"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := s.Inbox.CorrectIntent(r.Context(), principalOf(r), id, in.Intent)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// apiExportIntentCorrections writes the corrections as JSON Lines in the
// format of the classifier's labelled data (intent-dev.jsonl): since
// (RFC 3339) and limit (default 10,000) page through them.
func (s *Server) apiExportIntentCorrections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return errs.Field("since", "must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
		}
		since = t
	}
	limit := 10000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errs.Field("limit", "must be a number")
		}
		limit = n
	}
	list, err := s.Inbox.IntentCorrections(r.Context(), principalOf(r), since, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="intent-corrections.jsonl"`)
	enc := json.NewEncoder(w)
	for _, c := range list {
		rec := struct {
			ID     string   `json:"id"`
			Text   string   `json:"text"`
			Lang   string   `json:"lang"`
			Intent string   `json:"intent"`
			Models []string `json:"models"`
		}{fmt.Sprintf("msg-%d", c.MessageID), c.Text, c.Lang, c.Intent, c.Models}
		if rec.Models == nil {
			rec.Models = []string{}
		}
		if err := enc.Encode(rec); err != nil {
			return nil // the client went away
		}
	}
	return nil
}
