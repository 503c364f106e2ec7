package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

var uiChannelFields = []string{"unit", "platform", "url", "handle", "name", "status", "notes"}

// uiChannelForm holds a channel form and the choices its selects offer.
type uiChannelForm struct {
	Form      *uiForm
	Units     []uiOption
	Platforms []uiOption
	Statuses  []uiOption
}

// uiChannelChoices fills the selects: the units the caller manages (a
// channel can only be put where the caller may change things), every
// platform, every status.
func (s *Server) uiChannelChoices(r *http.Request, p *access.Principal, f *uiForm) (uiChannelForm, error) {
	tree, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return uiChannelForm{}, err
	}
	plats, err := s.uiPlatformOptions(r.Context(), "Choose a platform…")
	if err != nil {
		return uiChannelForm{}, err
	}
	return uiChannelForm{Form: f, Units: uiUnitOptions(tree, p, access.ManageDirectory, "", "Choose a unit…"),
		Platforms: plats, Statuses: uiStatusOptions("")}, nil
}

// uiChannelID reads the {id} of the path; a malformed id is as absent as
// an unknown one.
func uiChannelID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "channel %q not found", r.PathValue("id"))
	}
	return id, nil
}

// ---- new channel ----

type uiChannelNewData struct {
	uiPage
	uiChannelForm
	Unit string
}

func (s *Server) uiChannelNew(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if !p.CanAnywhere(access.ManageDirectory) {
		return errs.E(errs.Forbidden, "you may not add channels: that needs the manager or admin role on a unit")
	}
	f := newUIForm("channel")
	f.Values["unit"] = r.URL.Query().Get("unit")
	f.Values["status"] = string(org.StatusActive)
	cf, err := s.uiChannelChoices(r, p, f)
	if err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "channel_new", uiChannelNewData{uiPage: s.uiBase(r, "New channel", "directory"), uiChannelForm: cf, Unit: f.Values["unit"]})
	return nil
}

func (s *Server) uiChannelCreate(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	f := newUIForm("channel").fill(r, uiChannelFields...)
	f.Values["notes"] = r.PostFormValue("notes") // keep the notes' own line breaks and spacing
	c, err := s.Org.CreateChannel(r.Context(), p, org.ChannelInput{Unit: f.Values["unit"], Platform: f.Values["platform"],
		URL: f.Values["url"], Handle: f.Values["handle"], Name: f.Values["name"], Status: org.Status(f.Values["status"]), Notes: f.Values["notes"]})
	if err != nil {
		if !uiFormFailure(err) && !errs.Is(err, errs.Forbidden) {
			return err
		}
		// Forbidden here means a unit the caller can see but not manage,
		// which the select does not offer: say it beside the unit.
		if errs.Is(err, errs.Forbidden) {
			err = &errs.Error{Code: errs.Forbidden, Field: "unit", Message: s.publicError(r, err).Message}
		}
		f.fail(s, r, err, uiChannelFields...)
		cf, cerr := s.uiChannelChoices(r, p, f)
		if cerr != nil {
			return cerr
		}
		s.uiRender(w, r, statusOf(err), "channel_new", uiChannelNewData{uiPage: s.uiBase(r, "New channel", "directory"), uiChannelForm: cf, Unit: f.Values["unit"]})
		return nil
	}
	s.uiSetFlash(w, "Added channel "+c.Name+" on "+uiPlatformName(c.Platform)+".")
	http.Redirect(w, r, "/units/"+url.PathEscape(c.Unit), http.StatusSeeOther)
	return nil
}

// ---- channel page ----

type uiAudienceRow struct {
	Day       string
	Followers int64
	Percent   int // of the largest count, for the bar
}

type uiChannelData struct {
	uiPage
	uiChannelForm
	Channel   org.Channel
	Unit      org.Unit
	Audience  []uiAudienceRow
	CanManage bool
	Delete    *uiForm
	Conn      *uiConnPanel // the connection panel; nil when the hub connects no channels
}

// uiLoadChannel builds the channel page with its edit form filled from the
// stored channel.
func (s *Server) uiLoadChannel(w http.ResponseWriter, r *http.Request, p *access.Principal, id int64) (*uiChannelData, error) {
	ctx := r.Context()
	c, err := s.Org.Channel(ctx, p, id)
	if err != nil {
		return nil, err
	}
	u, err := s.Org.Unit(ctx, p, c.Unit)
	if err != nil {
		return nil, err
	}
	points, err := s.Org.Audience(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &uiChannelData{uiPage: s.uiBase(r, c.Name+" on "+uiPlatformName(c.Platform), "directory"), Channel: c, Unit: u,
		CanManage: p.Can(access.ManageDirectory, c.UnitPath), Delete: newUIForm("delete")}
	if d.Conn, err = s.uiConnectionPanel(w, r, p, c, d.CanManage); err != nil {
		return nil, err
	}
	// Newest first, at most a year of days: the table is a glance, the
	// analytics pages (later) are the full history.
	var top int64
	for _, pt := range points {
		top = max(top, pt.Followers)
	}
	for i := len(points) - 1; i >= 0 && len(d.Audience) < 366; i-- {
		pct := 0
		if top > 0 {
			pct = int(points[i].Followers * 100 / top)
		}
		d.Audience = append(d.Audience, uiAudienceRow{Day: points[i].Day, Followers: points[i].Followers, Percent: pct})
	}
	f := newUIForm("channel")
	f.Values = map[string]string{"unit": c.Unit, "platform": c.Platform, "url": c.GivenURL, "handle": c.Handle,
		"name": c.Name, "status": string(c.Status), "notes": c.Notes}
	if d.CanManage {
		if d.uiChannelForm, err = s.uiChannelChoices(r, p, f); err != nil {
			return nil, err
		}
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	return d, nil
}

func (s *Server) uiChannel(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	d, err := s.uiLoadChannel(w, r, p, id)
	if err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "channel", d)
	return nil
}

// uiChannelPatch sends only the fields the user changed: the service
// recognises the account anew from a changed URL, and an unchanged old
// handle sent alongside would contradict the new address.
func uiChannelPatch(c org.Channel, f *uiForm) org.ChannelPatch {
	var patch org.ChannelPatch
	set := func(name, old string) *string {
		if v := f.Values[name]; v != old {
			return &v
		}
		return nil
	}
	patch.Unit = set("unit", c.Unit)
	patch.Platform = set("platform", c.Platform)
	patch.URL = set("url", c.GivenURL)
	patch.Handle = set("handle", c.Handle)
	patch.Name = set("name", c.Name)
	patch.Notes = set("notes", c.Notes)
	if st := org.Status(f.Values["status"]); st != c.Status {
		patch.Status = &st
	}
	return patch
}

func (s *Server) uiChannelUpdate(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	c, err := s.Org.Channel(r.Context(), p, id)
	if err != nil {
		return err
	}
	f := newUIForm("channel").fill(r, uiChannelFields...)
	f.Values["notes"] = strings.ReplaceAll(r.PostFormValue("notes"), "\r\n", "\n")
	c, err = s.Org.UpdateChannel(r.Context(), p, id, uiChannelPatch(c, f))
	if err != nil {
		if !uiFormFailure(err) {
			return err
		}
		f.fail(s, r, err, uiChannelFields...)
		d, lerr := s.uiLoadChannel(w, r, p, id)
		if lerr != nil {
			return lerr
		}
		d.Form = f
		s.uiRender(w, r, statusOf(err), "channel", d)
		return nil
	}
	s.uiSetFlash(w, "Saved.")
	http.Redirect(w, r, "/channels/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
	return nil
}

func (s *Server) uiChannelRetire(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	c, err := s.Org.RetireChannel(r.Context(), p, id)
	if err != nil {
		return err
	}
	s.uiSetFlash(w, "Retired "+c.Name+" on "+uiPlatformName(c.Platform)+": it no longer shows on the hub.")
	http.Redirect(w, r, "/channels/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
	return nil
}

func (s *Server) uiChannelDelete(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	c, err := s.Org.Channel(r.Context(), p, id)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		d, err := s.uiLoadChannel(w, r, p, id)
		if err != nil {
			return err
		}
		d.Delete.Errors["confirm"] = "tick the box to confirm"
		s.uiRender(w, r, http.StatusBadRequest, "channel", d)
		return nil
	}
	if err := s.Org.DeleteChannel(r.Context(), p, id); err != nil {
		return err
	}
	s.uiSetFlash(w, "Deleted "+c.Name+" on "+uiPlatformName(c.Platform)+".")
	http.Redirect(w, r, "/units/"+url.PathEscape(c.Unit), http.StatusSeeOther)
	return nil
}
