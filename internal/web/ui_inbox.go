package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
)

// routesUIInbox registers the inbox and leads pages.
func (s *Server) routesUIInbox() {
	if s.Inbox != nil {
		s.uiPageRoute("GET /inbox", s.uiInbox)
		s.uiPageRoute("GET /inbox/new", s.uiInboxNew)
		s.uiPageRoute("GET /inbox/rows", s.uiInboxRows)
		s.uiPageRoute("GET /inbox/{id}", s.uiInboxMessage)
		s.uiPageRoute("POST /inbox/{id}", s.uiInboxUpdate)
		s.uiPageRoute("POST /inbox/{id}/notes", s.uiInboxNote)
		s.uiPageRoute("POST /inbox/{id}/intent", s.uiInboxIntent)
		s.uiPageRoute("POST /inbox/{id}/replies", s.uiInboxReply)
		s.uiPageRoute("GET /inbox/events", s.uiInboxEvents)
		s.uiPageRoute("POST /inbox/bulk", s.uiInboxBulk)
	}
	if s.Leads != nil {
		s.uiPageRoute("GET /leads", s.uiLeads)
		s.uiPageRoute("POST /leads/{id}", s.uiLeadUpdate)
	}
}

type uiInboxPage struct {
	uiPage
	Filter   map[string]string
	Items    []inbox.Message
	Total    int
	Intents  []string
	Langs    []string
	Queues   []string
	Statuses []string
	Prev     string
	Next     string
	NewestID int64
	Query    string
	Capped   bool
	Units    []uiOption // the unit filter's choices: the caller's units
	Teams    []uiOption // the team filter's choices: my teams, the teams of the caller's units
	// BulkTeams are the teams the checked conversations may be given
	// (each must be of a conversation's unit or above; the service says
	// which is not).
	BulkTeams []uiOption
	// LiveRows: new messages are inserted into the table as they arrive
	// (the first page of a list that shows any).
	LiveRows bool
}

const uiInboxPageSize = 50

// uiInboxCountLimit caps the page's count ("10000+ messages").
const uiInboxCountLimit = 10000

func uiInboxFilter(r *http.Request) (inbox.Filter, map[string]string) {
	q := r.URL.Query()
	vals := map[string]string{}
	for _, n := range []string{"intent", "lang", "queue", "status", "unit", "q", "sla", "tag", "team"} {
		vals[n] = strings.TrimSpace(q.Get(n))
	}
	if _, ok := q["status"]; !ok {
		vals["status"] = inbox.StatusOpen
	}
	if vals["status"] == "all" {
		vals["status"] = ""
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	if offset < 0 {
		offset = 0
	}
	return inbox.Filter{Intent: vals["intent"], Lang: vals["lang"], Queue: vals["queue"], Status: vals["status"], Unit: vals["unit"], Text: vals["q"], SLA: vals["sla"], Tag: vals["tag"],
		Limit: uiInboxPageSize, Offset: offset, CountLimit: uiInboxCountLimit}, vals
}

// uiInboxTeamOptions lists the team filter's choices.
func (s *Server) uiInboxTeamOptions(r *http.Request, p *access.Principal, selected string) ([]uiOption, error) {
	teams, err := s.Inbox.Teams(r.Context(), p, "")
	if err != nil {
		return nil, err
	}
	opts := []uiOption{{Value: "", Label: "any"}, {Value: "mine", Label: "my teams"}}
	for _, t := range teams {
		opts = append(opts, uiOption{Value: strconv.FormatInt(t.ID, 10), Label: t.Name + " (" + t.Unit + ")"})
	}
	for i := range opts {
		opts[i].Selected = opts[i].Value == selected
	}
	return opts, nil
}

func (s *Server) uiInbox(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	f, vals := uiInboxFilter(r)
	err := s.Inbox.TeamFilter(r.Context(), p, vals["team"], &f)
	var items []inbox.Message
	var total int
	if err == nil {
		items, total, err = s.Inbox.List(r.Context(), p, f)
	}
	if err != nil && errs.Is(err, errs.Invalid) {
		items, total = nil, 0 // a bad filter value shows an empty list
	} else if err != nil {
		return err
	}
	d := uiInboxPage{uiPage: s.uiBase(r, "Inbox", "inbox"), Filter: vals, Items: items, Total: total,
		Intents:  []string{"purchase", "support", "complaint", "question", "praise", "spam", "other"},
		Langs:    []string{"de", "en", "fr", "es", "it", "nl", "pt", "pl"},
		Queues:   inbox.Queues,
		Statuses: []string{inbox.StatusOpen, inbox.StatusPending, inbox.StatusClosed}}
	if q := vals["queue"]; q != "" && !slices.Contains(d.Queues, q) {
		d.Queues = append(slices.Clip(d.Queues), q) // a rule's own queue
	}
	qs := url.Values{}
	for k, v := range vals {
		if v != "" {
			qs.Set(k, v)
		}
	}
	if vals["status"] == "" {
		qs.Set("status", "all")
	}
	d.Query = qs.Encode()
	if f.Offset > 0 {
		qs.Set("offset", strconv.Itoa(max(0, f.Offset-uiInboxPageSize)))
		d.Prev = "/inbox?" + qs.Encode()
	}
	if f.Offset+len(items) < total {
		qs.Set("offset", strconv.Itoa(f.Offset+uiInboxPageSize))
		d.Next = "/inbox?" + qs.Encode()
	}
	if len(items) > 0 {
		d.NewestID = items[0].ID
	}
	d.Capped = total >= uiInboxCountLimit
	d.LiveRows = d.Prev == "" && len(items) > 0
	if d.Units, err = s.uiInboxUnits(r, p, access.ReadInbox, "all my units"); err != nil {
		return err
	}
	for i := range d.Units {
		d.Units[i].Selected = d.Units[i].Value == vals["unit"]
	}
	if d.Teams, err = s.uiInboxTeamOptions(r, p, vals["team"]); err != nil {
		return err
	}
	for _, o := range d.Teams {
		if _, err := strconv.ParseInt(o.Value, 10, 64); err == nil {
			d.BulkTeams = append(d.BulkTeams, uiOption{Value: o.Value, Label: o.Label})
		}
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "inbox_list", d)
	return nil
}

// uiInboxNew answers the list's poll (htmx, every few seconds): how many
// messages matching the filter arrived after the newest one shown.
func (s *Server) uiInboxNew(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	f, vals := uiInboxFilter(r)
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	f.Offset, f.Limit, f.AfterID = 0, 1, after
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if after <= 0 {
		return nil
	}
	if err := s.Inbox.TeamFilter(r.Context(), p, vals["team"], &f); err != nil {
		return nil // a bad filter value: the list shows nothing either
	}
	_, newer, err := s.Inbox.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	if newer > 0 {
		qs := url.Values{}
		for k, v := range vals {
			if v != "" {
				qs.Set(k, v)
			}
		}
		if vals["status"] == "" {
			qs.Set("status", "all")
		}
		fmt.Fprintf(w, `<a class="inbox-new" href="/inbox?%s">%d new message%s · show</a>`, html.EscapeString(qs.Encode()), newer, plural(newer))
	}
	return nil
}

// uiInboxRows answers the list's live update (htmx, on a new-message
// event): the rows of the messages matching the filter that arrived after
// the newest one shown, newest first.
func (s *Server) uiInboxRows(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	f, vals := uiInboxFilter(r)
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	w.Header().Set("Cache-Control", "no-store")
	if after <= 0 || s.Inbox.TeamFilter(r.Context(), p, vals["team"], &f) != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return nil
	}
	f.Offset, f.AfterID, f.CountLimit = 0, after, 1
	items, _, err := s.Inbox.List(r.Context(), p, f)
	if err != nil && !errs.Is(err, errs.Invalid) {
		return err
	}
	s.uiRenderBlock(w, r, http.StatusOK, "inbox_list", "inbox-rows", items)
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

type uiInboxMessagePage struct {
	uiPage
	Message      inbox.Message
	Conversation inbox.Conversation
	SavedReplies []inbox.SavedReply
	MayAnswer    bool
	Statuses     []string
	Intents      []string
	// Assignees are who may take the conversation; AssignedName names
	// the one who has it.
	Assignees    []inbox.Assignee
	AssignedName string
	// Teams are the teams the conversation may go to.
	Teams []inbox.Team
}

func uiID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "%q not found", r.PathValue("id"))
	}
	return id, nil
}

// uiOptionalID is the path's id on an edit page, 0 on a "new" page.
func uiOptionalID(r *http.Request) (int64, error) {
	if r.PathValue("id") == "" {
		return 0, nil
	}
	return uiID(r)
}

func (s *Server) uiInboxMessage(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	m, err := s.Inbox.Message(r.Context(), p, id)
	if err != nil {
		return err
	}
	c, err := s.Inbox.Conversation(r.Context(), p, id)
	if err != nil {
		return err
	}
	saved, err := s.Inbox.SavedRepliesFor(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := uiInboxMessagePage{uiPage: s.uiBase(r, "Conversation", "inbox"), Message: m, Conversation: c, SavedReplies: saved,
		MayAnswer: p.CanAnywhere(access.AnswerInbox), Statuses: []string{inbox.StatusOpen, inbox.StatusPending, inbox.StatusClosed},
		Intents: classify.Intents[:]}
	if d.Assignees, err = s.Inbox.Assignees(r.Context(), p, id); err != nil {
		return err
	}
	if d.Teams, err = s.Inbox.TeamsFor(r.Context(), p, id); err != nil {
		return err
	}
	if c.Assigned != 0 {
		d.AssignedName = fmt.Sprintf("user %d", c.Assigned)
		for _, a := range d.Assignees {
			if a.ID == c.Assigned {
				d.AssignedName = a.Email
				if a.Name != "" {
					d.AssignedName = a.Name
				}
			}
		}
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "inbox_message", d)
	return nil
}

// uiInboxUpdate sets a conversation's status, or assigns it to the caller
// ("assign": "me"), to nobody ("assign": "none"), to a colleague
// ("assign_to") or to a team ("assign_team", 0: none).
func (s *Server) uiInboxUpdate(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	var patch inbox.Patch
	if st := r.PostFormValue("status"); st != "" {
		patch.Status = &st
	}
	if v := r.PostFormValue("assign_to"); v != "" {
		to, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			to = -1 // refused by the service, beside the flash
		}
		patch.AssignedTo = &to
	}
	if v := r.PostFormValue("assign_team"); v != "" {
		team, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			team = -1 // refused by the service, beside the flash
		}
		patch.AssignedTeam = &team
	}
	switch r.PostFormValue("assign") {
	case "me":
		me := p.User.ID
		patch.AssignedTo = &me
	case "none":
		var none int64
		patch.AssignedTo = &none
	}
	if t := strings.TrimSpace(r.PostFormValue("tag")); t != "" {
		patch.AddTags = strings.Fields(strings.ReplaceAll(t, ",", " "))
	}
	if t := r.PostFormValue("untag"); t != "" {
		patch.RemoveTags = []string{t}
	}
	if _, err := s.Inbox.Update(r.Context(), p, id, patch); err != nil {
		if errs.Is(err, errs.Invalid) {
			s.uiSetFlash(w, err.Error())
			http.Redirect(w, r, fmt.Sprintf("/inbox/%d", id), http.StatusSeeOther)
			return nil
		}
		return err
	}
	s.uiSetFlash(w, "Conversation updated.")
	http.Redirect(w, r, fmt.Sprintf("/inbox/%d", id), http.StatusSeeOther)
	return nil
}

// uiInboxIntent corrects the message's intent (see inbox.CorrectIntent).
func (s *Server) uiInboxIntent(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	m, err := s.Inbox.CorrectIntent(r.Context(), p, id, r.PostFormValue("intent"))
	switch {
	case errs.Is(err, errs.Invalid):
		s.uiSetFlash(w, err.Error())
	case err != nil:
		return err
	default:
		s.uiSetFlash(w, fmt.Sprintf("Intent set to %s; kept as a correction for the classifier.", m.Intent))
	}
	http.Redirect(w, r, fmt.Sprintf("/inbox/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) uiInboxNote(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	if _, err := s.Inbox.AddNote(r.Context(), p, id, r.PostFormValue("text")); err != nil {
		return err
	}
	s.uiSetFlash(w, "Note added.")
	http.Redirect(w, r, fmt.Sprintf("/inbox/%d", id), http.StatusSeeOther)
	return nil
}

type uiLeadsPage struct {
	uiPage
	Filter map[string]string
	Items  []leads.Lead
	Total  int
	States []leads.State
	Query  string
	Units  []uiOption // the unit filter's choices: markets and dealers the caller sees leads of
}

func (s *Server) uiLeads(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	q := r.URL.Query()
	vals := map[string]string{"state": strings.TrimSpace(q.Get("state")), "unit": strings.TrimSpace(q.Get("unit"))}
	f := leads.Filter{State: leads.State(vals["state"]), Unit: vals["unit"], Limit: 200}
	items, total, err := s.Leads.List(r.Context(), p, f)
	if err != nil && errs.Is(err, errs.Invalid) {
		items, total = nil, 0
	} else if err != nil {
		return err
	}
	qs := url.Values{}
	for k, v := range vals {
		if v != "" {
			qs.Set(k, v)
		}
	}
	d := uiLeadsPage{uiPage: s.uiBase(r, "Leads", "leads"), Filter: vals, Items: items, Total: total, States: leads.States, Query: qs.Encode()}
	if d.Units, err = s.uiInboxUnits(r, p, access.ReadLeads, "all my units"); err != nil {
		return err
	}
	for i := range d.Units {
		d.Units[i].Selected = d.Units[i].Value == vals["unit"]
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "leads_list", d)
	return nil
}

func (s *Server) uiLeadUpdate(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	l, err := s.Leads.SetState(r.Context(), p, id, leads.Patch{State: leads.State(r.PostFormValue("state")), Outcome: r.PostFormValue("outcome")})
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			s.uiSetFlash(w, "Lead "+strconv.FormatInt(id, 10)+": "+err.Error())
			http.Redirect(w, r, "/leads", http.StatusSeeOther)
			return nil
		}
		return err
	}
	s.uiSetFlash(w, fmt.Sprintf("Lead %d (%s) is now %s.", l.ID, l.AuthorName, l.State))
	http.Redirect(w, r, "/leads", http.StatusSeeOther)
	return nil
}
