package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// routesPublish registers the publishing API (posts, campaigns, approvals,
// offers, calendar).
func (s *Server) routesPublish() {
	if s.Publish == nil {
		return
	}
	s.api("GET", "/api/v1/posts", s.apiPosts)
	s.api("POST", "/api/v1/posts", s.apiCreatePost)
	s.api("POST", "/api/v1/posts/validate", s.apiValidatePost)
	s.api("GET", "/api/v1/posts/{id}", s.apiPost)
	s.api("PATCH", "/api/v1/posts/{id}", s.apiEditPost)
	s.api("POST", "/api/v1/posts/{id}/approve", s.apiApprovePost)
	s.api("POST", "/api/v1/posts/{id}/reject", s.apiRejectPost)
	s.api("POST", "/api/v1/posts/{id}/retry", s.apiRetryPost)
	s.api("POST", "/api/v1/posts/{id}/offers", s.apiOfferPost)
	s.api("GET", "/api/v1/offers", s.apiOffers)
	s.api("POST", "/api/v1/offers/{id}/take", s.apiTakeUp)
	s.api("GET", "/api/v1/calendar", s.apiCalendar)
	s.api("GET", "/api/v1/units/{key}/approval-policy", s.apiApprovalPolicy)
	s.api("PUT", "/api/v1/units/{key}/approval-policy", s.apiSetApprovalPolicy)
	s.api("GET", "/api/v1/campaigns", s.apiCampaigns)
	s.api("POST", "/api/v1/campaigns", s.apiCreateCampaign)
	s.api("GET", "/api/v1/campaigns/{id}", s.apiCampaign)
	s.api("PATCH", "/api/v1/campaigns/{id}", s.apiUpdateCampaign)
	s.api("DELETE", "/api/v1/campaigns/{id}", s.apiDeleteCampaign)
	s.mux.HandleFunc("GET /calendar/{file}", s.serveICal)
	s.mux.HandleFunc("GET /units/{key}/feed.atom", s.serveUnitFeed)
	s.api("POST", "/api/v1/posts/{id}/cancel", s.apiCancelPost)
	s.routesMedia()
}

func (s *Server) apiCancelPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Comment string `json:"comment"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	p, err := s.Publish.CancelPost(r.Context(), principalOf(r), id, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiPosts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := publish.PostFilter{Status: publish.PostStatus(q.Get("status"))}
	if v := q.Get("campaign"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errs.Field("campaign", "%q is not an id", v)
		}
		f.CampaignID = id
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errs.Field("limit", "%q is not a non-negative number", v)
		}
		f.Limit = n
	}
	posts, err := s.Publish.Posts(r.Context(), principalOf(r), q.Get("unit"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(posts))
	return nil
}

func (s *Server) apiCreatePost(w http.ResponseWriter, r *http.Request) error {
	var in publish.PostInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Publish.CreatePost(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/posts/%d", p.ID))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) apiValidatePost(w http.ResponseWriter, r *http.Request) error {
	var in publish.PostInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ps, err := s.Publish.Validate(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": len(ps) == 0, "problems": orEmpty(ps)})
	return nil
}

func (s *Server) apiPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.Publish.Post(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiEditPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in publish.PostPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Publish.EditPost(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

type commentInput struct {
	Comment string `json:"comment"`
}

// decodeOptionalJSON reads a JSON body if there is one.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(w, r, v)
}

func (s *Server) apiApprovePost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in commentInput
	if err := decodeOptionalJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Publish.Approve(r.Context(), principalOf(r), id, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiRejectPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in commentInput
	if err := decodeOptionalJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Publish.Reject(r.Context(), principalOf(r), id, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiRetryPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.Publish.Retry(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiOfferPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in publish.OfferInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	offers, err := s.Publish.OfferPost(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, list(offers))
	return nil
}

func (s *Server) apiOffers(w http.ResponseWriter, r *http.Request) error {
	offers, err := s.Publish.Offers(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(offers))
	return nil
}

func (s *Server) apiTakeUp(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in publish.PostInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Publish.TakeUp(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/posts/%d", p.ID))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

// parseDay reads an RFC 3339 time or a date (midnight UTC).
func parseDay(field, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, errs.Field(field, "%q is not a date (2026-05-01) or an RFC 3339 time", v)
}

func (s *Server) apiCalendar(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := time.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = parseDay("from", v); err != nil {
			return err
		}
		if q.Get("to") == "" {
			to = from.AddDate(0, 1, 0)
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parseDay("to", v); err != nil {
			return err
		}
	}
	posts, err := s.Publish.Calendar(r.Context(), principalOf(r), q.Get("unit"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "items": orEmpty(posts)})
	return nil
}

func (s *Server) apiApprovalPolicy(w http.ResponseWriter, r *http.Request) error {
	req, err := s.Publish.ApprovalPolicy(r.Context(), principalOf(r), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"unit": r.PathValue("key"), "required": req})
	return nil
}

func (s *Server) apiSetApprovalPolicy(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Required bool `json:"required"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Publish.SetApprovalPolicy(r.Context(), principalOf(r), r.PathValue("key"), in.Required); err != nil {
		return err
	}
	return s.apiApprovalPolicy(w, r)
}

func (s *Server) apiCampaigns(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.Publish.Campaigns(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(cs))
	return nil
}

func (s *Server) apiCreateCampaign(w http.ResponseWriter, r *http.Request) error {
	var in publish.CampaignInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Publish.CreateCampaign(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/campaigns/%d", c.ID))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) apiCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Publish.Campaign(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiUpdateCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in publish.CampaignInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Publish.UpdateCampaign(r.Context(), principalOf(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) apiDeleteCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Publish.DeleteCampaign(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveICal answers a unit's posts of the last 30 and next 365 days as an
// iCalendar feed (GET /calendar/{unit}.ics), for a bearer token or a
// session.
func (s *Server) serveICal(w http.ResponseWriter, r *http.Request) {
	unit, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		s.uiNotFound(w, r)
		return
	}
	r, err := s.authenticate(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	now := time.Now().UTC()
	posts, err := s.Publish.Calendar(r.Context(), principalOf(r), unit, now.AddDate(0, 0, -30), now.AddDate(1, 0, 0))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//vernetzen//publishing//EN\r\nX-WR-CALNAME:" + icalEscape("vernetzen "+unit) + "\r\n")
	stamp := now.Format("20060102T150405Z")
	for _, p := range posts {
		at := p.ScheduledAt.UTC()
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:post-%d@vernetzen\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nDESCRIPTION:%s\r\nEND:VEVENT\r\n",
			p.ID, stamp, at.Format("20060102T150405Z"), at.Add(15*time.Minute).Format("20060102T150405Z"),
			icalEscape(fmt.Sprintf("[%s] %s", p.Status, snippet(p.Text, 60))), icalEscape(p.Summary+"\n"+p.Text))
	}
	b.WriteString("END:VCALENDAR\r\n")
	w.Write([]byte(b.String()))
}

func icalEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r", "", "\n", `\n`).Replace(s)
}

// snippet shortens text to n runes with an ellipsis.
func snippet(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// mayWritePosts says whether the caller may write posts anywhere (for the
// pages' links).
func mayWritePosts(p *access.Principal) bool { return p.CanAnywhere(access.WritePosts) }
