package web

import (
	"net/http"
	"strconv"

	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
)

// routesInbox registers the inbox and leads API (messages, conversations,
// leads).
func (s *Server) routesInbox() {
	if s.Inbox != nil {
		s.api("POST", "/api/v1/messages", s.apiIngestMessages)
		s.api("GET", "/api/v1/messages", s.apiMessages)
		s.api("GET", "/api/v1/messages/{id}", s.apiMessage)
		s.api("PATCH", "/api/v1/messages/{id}", s.apiUpdateMessage)
		s.api("GET", "/api/v1/messages/{id}/conversation", s.apiConversation)
		s.api("POST", "/api/v1/messages/{id}/notes", s.apiAddNote)
		s.api("POST", "/api/v1/messages/{id}/replies", s.apiReply)
		s.api("GET", "/api/v1/messages/{id}/saved-replies", s.apiSavedRepliesFor)
		s.api("POST", "/api/v1/messages/bulk", s.apiBulkMessages)
		s.api("GET", "/api/v1/inbox/saved-replies", s.apiSavedReplies)
		s.api("POST", "/api/v1/inbox/saved-replies", s.apiCreateSavedReply)
		s.api("DELETE", "/api/v1/inbox/saved-replies/{id}", s.apiDeleteSavedReply)
		s.api("GET", "/api/v1/inbox/sla", s.apiSLA)
		s.api("PUT", "/api/v1/inbox/sla", s.apiSetSLA)
	}
	if s.Leads != nil {
		s.api("GET", "/api/v1/leads", s.apiLeads)
		s.api("GET", "/api/v1/leads/{id}", s.apiLead)
		s.api("PATCH", "/api/v1/leads/{id}", s.apiUpdateLead)
		s.api("GET", "/api/v1/export/leads.csv", s.apiExportLeadsCSV)
		s.api("PUT", "/api/v1/settings/crm", s.apiSetCRM)
	}
}

func (s *Server) apiIngestMessages(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Messages []inbox.MessageInput `json:"messages"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.Inbox.Ingest(r.Context(), principalOf(r), in.Messages)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

// queryInts reads non-negative integer query parameters.
func queryInts(r *http.Request, dst map[string]*int) error {
	q := r.URL.Query()
	for name, p := range dst {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errs.Field(name, "%q is not a non-negative number", v)
			}
			*p = n
		}
	}
	return nil
}

// messageFilter reads the message list's filters from the query string.
func messageFilter(r *http.Request) (inbox.Filter, error) {
	q := r.URL.Query()
	f := inbox.Filter{Unit: q.Get("unit"), Intent: q.Get("intent"), Lang: q.Get("lang"), Queue: q.Get("queue"), Status: q.Get("status"), Text: q.Get("q"), SLA: q.Get("sla"), Tag: q.Get("tag")}
	if f.Lang == "" {
		f.Lang = q.Get("language")
	}
	var channel, assigned int
	if err := queryInts(r, map[string]*int{"limit": &f.Limit, "offset": &f.Offset, "channel": &channel, "assigned_to": &assigned,
		"count_limit": &f.CountLimit}); err != nil {
		return f, err
	}
	f.ChannelID, f.Assigned = int64(channel), int64(assigned)
	// An exact count of a broad filter over millions of messages costs
	// more than the page it comes with: total stops at 10,000 unless the
	// caller asks for more (count_limit=0: count all).
	if _, given := q["count_limit"]; !given {
		f.CountLimit = apiMessageCountLimit
	}
	return f, nil
}

// apiMessageCountLimit is where the message list's total stops counting by
// default.
const apiMessageCountLimit = 10000

func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request) error {
	f, err := messageFilter(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.TeamFilter(r.Context(), principalOf(r), r.URL.Query().Get("team"), &f); err != nil {
		return err
	}
	msgs, total, err := s.Inbox.List(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	out := list(msgs)
	out.Total = &total
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := s.Inbox.Message(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) apiUpdateMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var patch inbox.Patch
	if err := decodeJSON(w, r, &patch); err != nil {
		return err
	}
	m, err := s.Inbox.Update(r.Context(), principalOf(r), id, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Inbox.Conversation(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiAddNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := s.Inbox.AddNote(r.Context(), principalOf(r), id, in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, n)
	return nil
}

func (s *Server) apiReply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Text       string `json:"text"`
		SavedReply int64  `json:"saved_reply"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var rep inbox.Reply
	if in.SavedReply != 0 && in.Text == "" {
		rep, err = s.Inbox.ReplyWithSaved(r.Context(), principalOf(r), id, in.SavedReply)
	} else {
		rep, err = s.Inbox.Reply(r.Context(), principalOf(r), id, in.Text)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rep)
	return nil
}

func (s *Server) apiBulkMessages(w http.ResponseWriter, r *http.Request) error {
	var in inbox.BulkInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.Inbox.Bulk(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) apiSavedRepliesFor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	list, err := s.Inbox.SavedRepliesFor(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *Server) apiSavedReplies(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Inbox.SavedReplies(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *Server) apiCreateSavedReply(w http.ResponseWriter, r *http.Request) error {
	var in inbox.SavedReplyInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	sr, err := s.Inbox.CreateSavedReply(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sr)
	return nil
}

func (s *Server) apiDeleteSavedReply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteSavedReply(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSLA(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Inbox.SLA(r.Context(), principalOf(r), r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiSetSLA(w http.ResponseWriter, r *http.Request) error {
	var in inbox.SLAInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.Inbox.SetSLA(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func leadFilter(r *http.Request) (leads.Filter, error) {
	q := r.URL.Query()
	f := leads.Filter{Unit: q.Get("unit"), State: leads.State(q.Get("state"))}
	err := queryInts(r, map[string]*int{"limit": &f.Limit, "offset": &f.Offset})
	return f, err
}

func (s *Server) apiLeads(w http.ResponseWriter, r *http.Request) error {
	f, err := leadFilter(r)
	if err != nil {
		return err
	}
	ls, total, err := s.Leads.List(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	out := list(ls)
	out.Total = &total
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := s.Leads.Lead(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) apiUpdateLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var patch leads.Patch
	if err := decodeJSON(w, r, &patch); err != nil {
		return err
	}
	l, err := s.Leads.SetState(r.Context(), principalOf(r), id, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) apiExportLeadsCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := leadFilter(r)
	if err != nil {
		return err
	}
	// Check the caller first, so that a refusal is a JSON error, not a
	// half-written CSV.
	if _, _, err := s.Leads.List(r.Context(), principalOf(r), leads.Filter{Unit: f.Unit, State: f.State, Limit: 1}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="leads.csv"`)
	if err := s.Leads.ExportCSV(r.Context(), principalOf(r), f, w); err != nil {
		s.Log.Error("leads export", "err", err)
	}
	return nil
}

func (s *Server) apiSetCRM(w http.ResponseWriter, r *http.Request) error {
	var in leads.CRMInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	out, err := s.Leads.SetCRM(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
