package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// inboxHeartbeat is how often an idle event stream sends a comment, so
// that proxies keep it open and a dead client is noticed.
var inboxHeartbeat = 20 * time.Second

// uiInboxEvents streams new messages in the caller's units to open inbox
// pages (server-sent events: "event: message", data {id, intent,
// channel}). It ends when the client goes away, when the request's
// context ends, or when the inbox service closes (server shutdown).
func (s *Server) uiInboxEvents(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if !p.CanAnywhere(access.ReadInbox) {
		return errs.E(errs.Forbidden, "you may not read the inbox")
	}
	events, stop := s.Inbox.Subscribe()
	defer stop()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 5000\n: connected\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	tick := time.NewTicker(inboxHeartbeat)
	defer tick.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		case ev, ok := <-events:
			if !ok {
				return nil // the service closed: the server is shutting down
			}
			if !p.Can(access.ReadInbox, ev.UnitPath) {
				continue
			}
			data, _ := json.Marshal(ev)
			if _, err := fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", ev.ID, data); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// uiInboxReply sends a reply from the conversation page.
func (s *Server) uiInboxReply(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/inbox/%d", id)
	text := r.PostFormValue("text")
	var err2 error
	if saved, _ := strconv.ParseInt(r.PostFormValue("saved"), 10, 64); saved > 0 && strings.TrimSpace(text) == "" {
		_, err2 = s.Inbox.ReplyWithSaved(r.Context(), p, id, saved)
	} else {
		_, err2 = s.Inbox.Reply(r.Context(), p, id, text)
	}
	if err := err2; err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			s.uiSetFlash(w, "The reply was not sent: "+err.Error())
			http.Redirect(w, r, path, http.StatusSeeOther)
			return nil
		}
		return err
	}
	s.uiSetFlash(w, "Reply scheduled: it is sent through the channel's connector.")
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// uiInboxBulk applies one action to the checked rows of the inbox list:
// close, reopen, assign to me, unassign, or add a tag.
func (s *Server) uiInboxBulk(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	back := "/inbox"
	if q := r.PostFormValue("return"); q != "" {
		back += "?" + q
	}
	var in inbox.BulkInput
	for _, v := range r.PostForm["ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		in.IDs = append(in.IDs, id)
	}
	switch r.PostFormValue("action") {
	case "close":
		st := inbox.StatusClosed
		in.Status = &st
	case "open":
		st := inbox.StatusOpen
		in.Status = &st
	case "pending":
		st := inbox.StatusPending
		in.Status = &st
	case "assign_me":
		me := p.User.ID
		in.AssignedTo = &me
	case "unassign":
		var none int64
		in.AssignedTo = &none
	case "tag":
		in.AddTags = strings.Fields(strings.ReplaceAll(r.PostFormValue("tag"), ",", " "))
	case "assign_team":
		team, err := strconv.ParseInt(r.PostFormValue("bulk_team"), 10, 64)
		if err != nil || team < 0 {
			team = -1 // refused by the service, beside the flash
		}
		in.AssignedTeam = &team
	}
	res, err := s.Inbox.Bulk(r.Context(), p, in)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) {
			s.uiSetFlash(w, "Nothing changed: "+err.Error())
			http.Redirect(w, r, back, http.StatusSeeOther)
			return nil
		}
		return err
	}
	s.uiSetFlash(w, fmt.Sprintf("%d conversation%s updated.", res.Updated, plural(res.Updated)))
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
