package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
)

// routesUIInboxTeams registers the teams page of the inbox's settings: a
// unit's teams, created, renamed and deleted, and their members.
func (s *Server) routesUIInboxTeams() {
	if s.Inbox == nil {
		return
	}
	s.uiPageRoute("GET /inbox/settings/teams", s.uiTeams)
	s.uiPageRoute("POST /inbox/settings/teams", s.uiCreateTeam)
	s.uiPageRoute("POST /inbox/settings/teams/{id}", s.uiRenameTeam)
	s.uiPageRoute("POST /inbox/settings/teams/{id}/delete", s.uiDeleteTeam)
	s.uiPageRoute("POST /inbox/settings/teams/{id}/members", s.uiTeamMembers)
}

// uiTeamRow is one team on the page with its own forms, each showing the
// error of its last failed submission beside the field.
type uiTeamRow struct {
	inbox.Team
	Rename     *uiForm // "team-<id>": name
	Member     *uiForm // "member-<id>": user
	Candidates []uiOption
	// DeleteError says why deleting the team was refused.
	DeleteError string
}

type uiTeamsData struct {
	uiSettingsPage
	Units     []uiOption
	Unit      string
	Teams     []uiTeamRow
	CanManage bool
	Form      *uiForm // the new team's
}

// uiTeamsPage builds the teams page of a unit ("" = the caller's first).
func (s *Server) uiTeamsPage(r *http.Request, p *access.Principal, unit string) (*uiTeamsData, error) {
	units, unit, err := s.uiInboxSettingsUnit(r, p, unit)
	if err != nil {
		return nil, err
	}
	teams, err := s.Inbox.Teams(r.Context(), p, unit)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return nil, errs.E(errs.NotFound, "no such unit: %q", unit)
		}
		return nil, err
	}
	for i := range units {
		units[i].Selected = units[i].Value == unit
	}
	path, err := s.Inbox.UnitPath(r.Context(), unit)
	if err != nil {
		return nil, err
	}
	d := &uiTeamsData{uiSettingsPage: s.uiSettingsBase(r, "Teams", "teams"), Units: units, Unit: unit,
		CanManage: p.Can(access.ManageDirectory, path), Form: newUIForm("team")}
	for _, t := range teams {
		row := uiTeamRow{Team: t, Rename: newUIForm(fmt.Sprintf("team-%d", t.ID)), Member: newUIForm(fmt.Sprintf("member-%d", t.ID))}
		row.Rename.Values["name"] = t.Name
		if d.CanManage {
			cands, err := s.Inbox.TeamCandidates(r.Context(), p, t.ID)
			if err != nil {
				return nil, err
			}
			row.Candidates = []uiOption{{Value: "", Label: "Choose a person…"}}
			for _, c := range cands {
				label := c.Email
				if c.Name != "" && c.Name != c.Email {
					label = c.Name + " (" + c.Email + ")"
				}
				row.Candidates = append(row.Candidates, uiOption{Value: strconv.FormatInt(c.ID, 10), Label: label})
			}
		}
		d.Teams = append(d.Teams, row)
	}
	return d, nil
}

// row returns the page's row of a team (nil if it is not shown).
func (d *uiTeamsData) row(id int64) *uiTeamRow {
	for i := range d.Teams {
		if d.Teams[i].ID == id {
			return &d.Teams[i]
		}
	}
	return nil
}

func (s *Server) uiTeams(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d, err := s.uiTeamsPage(r, p, strings.TrimSpace(r.URL.Query().Get("unit")))
	if err != nil {
		return err
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "inbox_teams", d)
	return nil
}

func uiTeamsURL(unit string) string {
	return "/inbox/settings/teams?unit=" + url.QueryEscape(unit)
}

// uiTeamFailed shows the page again after a form failed (or returns the
// error when it is not the form's to show).
func (s *Server) uiTeamFailed(w http.ResponseWriter, r *http.Request, p *access.Principal, unit string, err error, show func(d *uiTeamsData)) error {
	if !uiFormFailure(err) {
		return err
	}
	d, derr := s.uiTeamsPage(r, p, unit)
	if derr != nil {
		return derr
	}
	show(d)
	s.uiRender(w, r, statusOf(err), "inbox_teams", d)
	return nil
}

func (s *Server) uiCreateTeam(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	f := newUIForm("team").fill(r, "unit", "name")
	t, err := s.Inbox.CreateTeam(r.Context(), p, inbox.TeamInput{Unit: f.Values["unit"], Name: f.Values["name"]})
	if err == nil {
		s.uiSetFlash(w, "Added the team "+strconv.Quote(t.Name)+" to "+t.Unit+".")
		http.Redirect(w, r, uiTeamsURL(t.Unit), http.StatusSeeOther)
		return nil
	}
	if e := s.publicError(r, err); e.Field == "unit" {
		// The unit comes from the page, not from an input of the form.
		return errs.E(errs.NotFound, "%s", e.Message)
	}
	return s.uiTeamFailed(w, r, p, f.Values["unit"], err, func(d *uiTeamsData) {
		f.fail(s, r, err, "name")
		d.Form = f
	})
}

func (s *Server) uiRenameTeam(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	t, err := s.Inbox.Team(r.Context(), p, id)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if _, err := s.Inbox.RenameTeam(r.Context(), p, id, name); err != nil {
		return s.uiTeamFailed(w, r, p, t.Unit, err, func(d *uiTeamsData) {
			if row := d.row(id); row != nil {
				row.Rename.Values["name"] = name
				row.Rename.fail(s, r, err, "name")
			}
		})
	}
	s.uiSetFlash(w, "Renamed the team "+strconv.Quote(t.Name)+" to "+strconv.Quote(name)+".")
	http.Redirect(w, r, uiTeamsURL(t.Unit), http.StatusSeeOther)
	return nil
}

func (s *Server) uiDeleteTeam(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	t, err := s.Inbox.Team(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteTeam(r.Context(), p, id); err != nil {
		return s.uiTeamFailed(w, r, p, t.Unit, err, func(d *uiTeamsData) {
			if row := d.row(id); row != nil {
				row.DeleteError = s.publicError(r, err).Message
			}
		})
	}
	s.uiSetFlash(w, "Deleted the team "+strconv.Quote(t.Name)+".")
	http.Redirect(w, r, uiTeamsURL(t.Unit), http.StatusSeeOther)
	return nil
}

// uiTeamMembers adds a person to a team ("user") or takes one off it
// ("remove").
func (s *Server) uiTeamMembers(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	t, err := s.Inbox.Team(r.Context(), p, id)
	if err != nil {
		return err
	}
	members := make([]int64, 0, len(t.Members)+1)
	for _, m := range t.Members {
		members = append(members, m.ID)
	}
	user := strings.TrimSpace(r.PostFormValue("user"))
	var done string
	switch remove := r.PostFormValue("remove"); {
	case remove != "":
		gone, _ := strconv.ParseInt(remove, 10, 64)
		members = slices.DeleteFunc(members, func(m int64) bool { return m == gone })
		done = "Took a member off the team " + strconv.Quote(t.Name) + "."
	case user == "":
		err = errs.Field("user", "choose a person to add")
	default:
		add, perr := strconv.ParseInt(user, 10, 64)
		if perr != nil || add <= 0 {
			err = errs.Field("user", "choose a person from the list")
		}
		members = append(members, add)
		done = "Added a member to the team " + strconv.Quote(t.Name) + "."
	}
	if err == nil {
		_, err = s.Inbox.SetTeamMembers(r.Context(), p, id, members)
	}
	if err != nil {
		// The service names the list's entry; the form has one input.
		if e := s.publicError(r, err); strings.HasPrefix(e.Field, "members") {
			err = &errs.Error{Code: e.Code, Field: "user", Message: e.Message}
		}
		return s.uiTeamFailed(w, r, p, t.Unit, err, func(d *uiTeamsData) {
			if row := d.row(id); row != nil {
				row.Member.Values["user"] = user
				row.Member.fail(s, r, err, "user")
				for i := range row.Candidates {
					row.Candidates[i].Selected = row.Candidates[i].Value == user
				}
			}
		})
	}
	s.uiSetFlash(w, done)
	http.Redirect(w, r, uiTeamsURL(t.Unit), http.StatusSeeOther)
	return nil
}
