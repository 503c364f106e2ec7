package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

type uiCampaignFormData struct {
	uiPage
	Form     *uiForm
	Units    []uiOption
	Campaign *publish.Campaign // nil: a new one
}

var campaignFields = []string{"unit", "name", "topic", "goal", "tags", "starts_at", "ends_at"}

// uiCampaignUnits are the units where the caller may plan campaigns.
func (s *Server) uiCampaignUnits(r *http.Request, p *access.Principal) ([]uiOption, error) {
	units, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return nil, err
	}
	var out []uiOption
	for _, u := range units {
		if p.Can(access.ManageCampaigns, u.Path) {
			out = append(out, uiOption{Value: u.Key, Label: strings.Repeat("· ", u.Depth) + u.Name})
		}
	}
	return out, nil
}

// uiCampaignForm shows the form for a new campaign (/campaigns/new) or
// for changing one (/campaigns/{id}/edit).
func (s *Server) uiCampaignForm(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d := uiCampaignFormData{uiPage: s.uiBase(r, "New campaign", "publish"), Form: newUIForm("campaign")}
	if r.PathValue("id") != "" {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		c, err := s.Publish.Campaign(r.Context(), p, id)
		if err != nil {
			return err
		}
		if !p.Can(access.ManageCampaigns, c.UnitPath) {
			return errs.E(errs.Forbidden, "you may not change campaign %d", id)
		}
		d.Campaign, d.Title = &c, "Edit "+c.Name
		v := d.Form.Values
		v["unit"], v["name"], v["topic"], v["goal"], v["tags"] = c.Unit, c.Name, c.Topic, c.Goal, strings.Join(c.Tags, ", ")
		if c.StartsAt != nil {
			v["starts_at"] = c.StartsAt.Format("2006-01-02")
		}
		if c.EndsAt != nil {
			v["ends_at"] = c.EndsAt.Format("2006-01-02")
		}
	} else {
		units, err := s.uiCampaignUnits(r, p)
		if err != nil {
			return err
		}
		if len(units) == 0 {
			return errs.E(errs.Forbidden, "you may not plan campaigns")
		}
		d.Units = units
	}
	s.uiRender(w, r, http.StatusOK, "publish_campaign_form", d)
	return nil
}

// uiSaveCampaign creates (POST /campaigns) or changes (POST
// /campaigns/{id}) a campaign.
func (s *Server) uiSaveCampaign(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d := uiCampaignFormData{uiPage: s.uiBase(r, "New campaign", "publish"), Form: newUIForm("campaign")}
	d.Form.fill(r, campaignFields...)
	v := d.Form.Values
	in := publish.CampaignInput{Unit: v["unit"], Name: v["name"], Topic: v["topic"], Goal: v["goal"],
		StartsAt: v["starts_at"], EndsAt: v["ends_at"]}
	for _, t := range strings.Split(v["tags"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	var c publish.Campaign
	var err error
	if r.PathValue("id") != "" {
		id, perr := pathID(r)
		if perr != nil {
			return perr
		}
		var old publish.Campaign
		if old, err = s.Publish.Campaign(r.Context(), p, id); err != nil {
			return err
		}
		d.Campaign, d.Title = &old, "Edit "+old.Name
		c, err = s.Publish.UpdateCampaign(r.Context(), p, id, in)
	} else {
		c, err = s.Publish.CreateCampaign(r.Context(), p, in)
	}
	if err != nil {
		if !uiFormFailure(err) {
			return err
		}
		d.Form.fail(s, r, err, campaignFields...)
		status := statusOf(err)
		if d.Campaign == nil {
			if d.Units, err = s.uiCampaignUnits(r, p); err != nil {
				return err
			}
		}
		s.uiRender(w, r, status, "publish_campaign_form", d)
		return nil
	}
	s.uiSetFlash(w, "Saved the campaign.")
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d", c.ID), http.StatusSeeOther)
	return nil
}
