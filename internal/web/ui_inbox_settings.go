package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/org"
)

// routesUIInboxSettings registers the inbox's settings pages: SLAs per
// queue, saved replies, routing rules and the brands' vehicle model
// catalogues. They call the same service methods as the JSON API.
func (s *Server) routesUIInboxSettings() {
	if s.Inbox == nil {
		return
	}
	s.uiPageRoute("GET /inbox/settings", func(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
		http.Redirect(w, r, "/inbox/settings/sla", http.StatusSeeOther)
		return nil
	})
	s.uiPageRoute("GET /inbox/settings/sla", s.uiSLA)
	s.uiPageRoute("POST /inbox/settings/sla", s.uiSetSLA)
	s.uiPageRoute("GET /inbox/settings/saved-replies", s.uiSavedReplies)
	s.uiPageRoute("POST /inbox/settings/saved-replies", s.uiSaveSavedReply)
	s.uiPageRoute("POST /inbox/settings/saved-replies/preview", s.uiPreviewSavedReply)
	s.uiPageRoute("GET /inbox/settings/saved-replies/{id}", s.uiSavedReplies)
	s.uiPageRoute("POST /inbox/settings/saved-replies/{id}", s.uiSaveSavedReply)
	s.uiPageRoute("POST /inbox/settings/saved-replies/{id}/delete", s.uiDeleteSavedReply)
	s.uiPageRoute("GET /inbox/settings/routing", s.uiRouting)
	s.uiPageRoute("POST /inbox/settings/routing", s.uiSaveRule)
	s.uiPageRoute("GET /inbox/settings/routing/{id}", s.uiRouting)
	s.uiPageRoute("POST /inbox/settings/routing/{id}", s.uiSaveRule)
	s.uiPageRoute("POST /inbox/settings/routing/{id}/delete", s.uiDeleteRule)
	s.uiPageRoute("GET /catalogue", s.uiCatalogues)
	s.uiPageRoute("GET /catalogue/{unit}", s.uiCatalogue)
	s.uiPageRoute("POST /catalogue/{unit}", s.uiSaveModel)
	s.uiPageRoute("POST /catalogue/{unit}/delete", s.uiDeleteModel)
}

// uiSettingsPage is what every settings page shows: which tab is open.
type uiSettingsPage struct {
	uiPage
	Tab string
}

func (s *Server) uiSettingsBase(r *http.Request, title, tab string) uiSettingsPage {
	return uiSettingsPage{uiPage: s.uiBase(r, title, "inbox"), Tab: tab}
}

// uiInboxUnits lists the units the caller may open the settings of.
func (s *Server) uiInboxUnits(r *http.Request, p *access.Principal, perm access.Permission, empty string) ([]uiOption, error) {
	tree, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return nil, err
	}
	return uiUnitOptions(tree, p, perm, "", empty), nil
}

// ---- SLAs ----

type uiSLAQueue struct {
	Queue     string // "" is the default
	Label     string
	Field     uiField
	Effective int // minutes, as it applies (own or inherited)
	Own       bool
}

type uiSLAData struct {
	uiSettingsPage
	Units     []uiOption
	Unit      string
	View      inbox.SLAView
	CanManage bool
	Form      *uiForm
	Queues    []uiSLAQueue
	Days      []uiOption
	Start     uiField
	End       uiField
	TimeZone  uiField
}

var uiDayLabels = []struct{ key, label string }{{"mon", "Mon"}, {"tue", "Tue"}, {"wed", "Wed"}, {"thu", "Thu"}, {"fri", "Fri"}, {"sat", "Sat"}, {"sun", "Sun"}}

// uiSLATargetField names a queue's target input ("target-sales"; no dots,
// which would make its id a class in CSS selectors).
func uiSLATargetField(q string) string {
	if q == "" {
		return "target-default"
	}
	return "target-" + q
}

// uiInboxSettingsUnit lists the units whose inbox the caller reads and
// picks the one a settings page is for ("" = the first of them).
func (s *Server) uiInboxSettingsUnit(r *http.Request, p *access.Principal, unit string) ([]uiOption, string, error) {
	units, err := s.uiInboxUnits(r, p, access.ReadInbox, "")
	if err != nil {
		return nil, "", err
	}
	if unit == "" && len(units) > 0 {
		unit = units[0].Value
	}
	if unit == "" {
		return nil, "", errs.E(errs.Forbidden, "you may not read the inbox of any unit")
	}
	return units, unit, nil
}

// uiSLAPage builds the SLA page for a unit, with the form filled from the
// unit's own settings (or f, the caller's input after a failed save).
func (s *Server) uiSLAPage(r *http.Request, p *access.Principal, unit string, f *uiForm) (*uiSLAData, error) {
	units, unit, err := s.uiInboxSettingsUnit(r, p, unit)
	if err != nil {
		return nil, err
	}
	v, err := s.Inbox.SLA(r.Context(), p, unit)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return nil, errs.E(errs.NotFound, "no such unit: %q", unit)
		}
		return nil, err
	}
	for i := range units {
		units[i].Selected = units[i].Value == v.Unit
	}
	path, err := s.Inbox.UnitPath(r.Context(), v.Unit)
	if err != nil {
		return nil, err
	}
	d := &uiSLAData{uiSettingsPage: s.uiSettingsBase(r, "SLAs", "sla"), Units: units, Unit: v.Unit, View: v,
		CanManage: p.Can(access.ManageDirectory, path)}
	if f == nil {
		f = newUIForm("sla")
		for q, m := range v.Own {
			f.Values[uiSLATargetField(q)] = strconv.Itoa(m)
		}
		if h := v.OwnBusinessHours; h != nil {
			f.Values["start"], f.Values["end"] = h.Start, h.End
			for _, day := range h.Days {
				f.Values["day-"+day] = "on"
			}
		}
		f.Values["time_zone"] = v.OwnTimeZone
	}
	d.Form = f
	for _, q := range append([]string{""}, v.Queues...) {
		label := q
		if q == "" {
			label = "every other queue"
		}
		name := uiSLATargetField(q)
		_, own := v.Own[q]
		d.Queues = append(d.Queues, uiSLAQueue{Queue: q, Label: label, Field: uiNewField(f, name, label, "number"),
			Effective: v.Targets[q], Own: own})
	}
	for _, day := range uiDayLabels {
		d.Days = append(d.Days, uiOption{Value: day.key, Label: day.label, Selected: f.Values["day-"+day.key] != ""})
	}
	d.Start = hintField(uiNewField(f, "start", "Opens", "time"), "")
	d.End = uiNewField(f, "end", "Closes", "time")
	d.TimeZone = hintField(uiNewField(f, "time_zone", "Time zone", "text"), "IANA name like Europe/Berlin; empty: the unit's zone (in effect now: "+v.TimeZone+")")
	if e := f.Errors["business_hours.days"]; e != "" {
		d.Start.Error = e
	}
	return d, nil
}

func hintField(f uiField, h string) uiField { f.Hint = h; return f }

func (s *Server) uiSLA(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d, err := s.uiSLAPage(r, p, strings.TrimSpace(r.URL.Query().Get("unit")), nil)
	if err != nil {
		return err
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "inbox_sla", d)
	return nil
}

func (s *Server) uiSetSLA(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	unit := strings.TrimSpace(r.PostFormValue("unit"))
	// A unit outside the caller's scope is as absent as an unknown one.
	v, err := s.Inbox.SLA(r.Context(), p, unit)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return errs.E(errs.NotFound, "no such unit: %q", unit)
		}
		return err
	}
	f := newUIForm("sla").fill(r, "start", "end", "time_zone")
	in := inbox.SLAInput{Unit: v.Unit, Targets: map[string]int{}, TimeZone: f.Values["time_zone"]}
	var fields []string
	for _, q := range append([]string{""}, v.Queues...) {
		name := uiSLATargetField(q)
		fields = append(fields, name)
		val := strings.TrimSpace(r.PostFormValue(name))
		f.Values[name] = val
		if val == "" {
			continue
		}
		n, err := strconv.Atoi(val)
		if err != nil && f.Errors[name] == "" {
			f.Errors[name] = "must be a whole number of minutes, not " + strconv.Quote(val)
			continue
		}
		in.Targets[q] = n
	}
	var days []string
	for _, day := range uiDayLabels {
		if r.PostFormValue("day-"+day.key) != "" {
			f.Values["day-"+day.key] = "on"
			days = append(days, day.key)
		}
	}
	if len(days) > 0 || f.Values["start"] != "" || f.Values["end"] != "" {
		if len(days) == 0 {
			f.Errors["business_hours.days"] = "choose the days the hours apply to (none: around the clock)"
		}
		in.BusinessHours = &inbox.HoursInput{Days: days, Start: f.Values["start"], End: f.Values["end"]}
	}
	if len(f.Errors) == 0 {
		_, err = s.Inbox.SetSLA(r.Context(), p, in)
		if err == nil {
			s.uiSetFlash(w, "Saved the SLAs of "+v.Unit+": they apply to messages arriving from now on.")
			http.Redirect(w, r, "/inbox/settings/sla?unit="+url.QueryEscape(v.Unit), http.StatusSeeOther)
			return nil
		}
		if !uiFormFailure(err) {
			return err
		}
		// The service names the fields as the API has them; the form's
		// inputs are named apart.
		if e := s.publicError(r, err); strings.HasPrefix(e.Field, "targets.") {
			err = &errs.Error{Code: e.Code, Field: uiSLATargetField(strings.TrimPrefix(e.Field, "targets.")), Message: e.Message}
		} else if e.Field == "business_hours.start" || e.Field == "business_hours.end" {
			err = &errs.Error{Code: e.Code, Field: strings.TrimPrefix(e.Field, "business_hours."), Message: e.Message}
		}
		f.fail(s, r, err, append(fields, "start", "end", "time_zone", "business_hours.days")...)
	}
	d, derr := s.uiSLAPage(r, p, v.Unit, f)
	if derr != nil {
		return derr
	}
	s.uiRender(w, r, http.StatusBadRequest, "inbox_sla", d)
	return nil
}

// ---- saved replies ----

type uiSavedRow struct {
	inbox.SavedReply
	CanManage bool
}

type uiSavedData struct {
	uiSettingsPage
	Items   []uiSavedRow
	Editing int64
	Form    *uiForm
	Units   []uiOption
	Preview string
	// PreviewError is for the live preview's fragment; the page shows
	// errors beside the fields.
	PreviewError string
	Variables    []string
	CanManage    bool
}

func (s *Server) uiSavedPage(r *http.Request, p *access.Principal, editing int64, f *uiForm) (*uiSavedData, error) {
	list, err := s.Inbox.SavedReplies(r.Context(), p)
	if err != nil {
		return nil, err
	}
	units, err := s.uiInboxUnits(r, p, access.AnswerInbox, "Choose a unit…")
	if err != nil {
		return nil, err
	}
	d := &uiSavedData{uiSettingsPage: s.uiSettingsBase(r, "Saved replies", "saved"), Editing: editing, Form: f, Units: units,
		Variables: inbox.Variables, CanManage: p.CanAnywhere(access.AnswerInbox)}
	for _, sr := range list {
		d.Items = append(d.Items, uiSavedRow{SavedReply: sr, CanManage: p.Can(access.AnswerInbox, sr.UnitPath)})
	}
	if f == nil {
		d.Form = newUIForm("saved")
		if editing > 0 {
			sr, err := s.Inbox.SavedReply(r.Context(), p, editing)
			if err != nil {
				return nil, err
			}
			d.Form.Values["unit"], d.Form.Values["name"], d.Form.Values["text"] = sr.Unit, sr.Name, sr.Text
		}
	}
	for i := range d.Units {
		d.Units[i].Selected = d.Units[i].Value == d.Form.Values["unit"]
	}
	return d, nil
}

func (s *Server) uiSavedReplies(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	editing, err := uiOptionalID(r)
	if err != nil {
		return err
	}
	d, err := s.uiSavedPage(r, p, editing, nil)
	if err != nil {
		return err
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "inbox_saved", d)
	return nil
}

// uiSaveSavedReply creates (no id) or replaces a saved reply; the
// "Preview" button shows the text filled in instead, saving nothing.
func (s *Server) uiSaveSavedReply(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiOptionalID(r)
	if err != nil {
		return err
	}
	if id != 0 {
		if _, err := s.Inbox.SavedReply(r.Context(), p, id); err != nil {
			return err
		}
	}
	f := newUIForm("saved").fill(r, "unit", "name")
	f.Values["text"] = r.PostFormValue("text")
	in := inbox.SavedReplyInput{Unit: f.Values["unit"], Name: f.Values["name"], Text: f.Values["text"]}
	var preview string
	switch {
	case r.PostFormValue("action") == "preview":
		preview, err = s.Inbox.PreviewSavedReply(r.Context(), p, in.Unit, in.Text)
	case id > 0:
		_, err = s.Inbox.UpdateSavedReply(r.Context(), p, id, in)
	default:
		_, err = s.Inbox.CreateSavedReply(r.Context(), p, in)
	}
	if err == nil && preview == "" {
		s.uiSetFlash(w, "Saved the reply "+strconv.Quote(in.Name)+".")
		http.Redirect(w, r, "/inbox/settings/saved-replies", http.StatusSeeOther)
		return nil
	}
	status := http.StatusOK
	if err != nil {
		if !uiFormFailure(err) && !errs.Is(err, errs.Forbidden) {
			return err
		}
		if e := s.publicError(r, err); e.Code == errs.Forbidden && e.Field == "" {
			return err
		}
		f.fail(s, r, err, "unit", "name", "text")
		status = statusOf(err)
	}
	d, derr := s.uiSavedPage(r, p, id, f)
	if derr != nil {
		return derr
	}
	d.Preview = preview
	s.uiRender(w, r, status, "inbox_saved", d)
	return nil
}

// uiPreviewSavedReply answers the form's live preview (htmx): the text
// filled in for an example message, or why it cannot be.
func (s *Server) uiPreviewSavedReply(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	text, err := s.Inbox.PreviewSavedReply(r.Context(), p, r.PostFormValue("unit"), r.PostFormValue("text"))
	d := struct {
		Preview, PreviewError string
	}{Preview: text}
	if err != nil {
		if !uiFormFailure(err) {
			return err
		}
		d.PreviewError = s.publicError(r, err).Error()
	}
	s.uiRenderBlock(w, r, http.StatusOK, "inbox_saved", "preview-body", d)
	return nil
}

func (s *Server) uiDeleteSavedReply(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	sr, err := s.Inbox.SavedReply(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteSavedReply(r.Context(), p, id); err != nil {
		return err
	}
	s.uiSetFlash(w, "Deleted the saved reply "+strconv.Quote(sr.Name)+".")
	http.Redirect(w, r, "/inbox/settings/saved-replies", http.StatusSeeOther)
	return nil
}

// ---- routing rules ----

type uiRuleRow struct {
	inbox.RoutingRule
	ChannelName string
	CanManage   bool
}

type uiRoutingData struct {
	uiSettingsPage
	Rules     []uiRuleRow
	Editing   int64
	Form      *uiForm
	Units     []uiOption
	Channels  []uiOption
	Langs     []uiOption
	Intents   []uiOption
	Queues    []string
	CanManage bool
}

var uiRuleFields = []string{"unit", "channel", "lang", "intent", "keywords", "queue", "position"}

func (s *Server) uiRoutingPage(r *http.Request, p *access.Principal, editing int64, f *uiForm) (*uiRoutingData, error) {
	ctx := r.Context()
	rules, err := s.Inbox.RoutingRules(ctx, p)
	if err != nil {
		return nil, err
	}
	units, err := s.uiInboxUnits(r, p, access.ManageDirectory, "Choose a unit…")
	if err != nil {
		return nil, err
	}
	chans, _, err := s.Org.Channels(ctx, p, org.ChannelFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	channelOpts := []uiOption{{Value: "", Label: "any channel"}}
	for _, c := range chans {
		label := c.UnitName + " · " + uiPlatformName(c.Platform) + " · " + c.Name
		names[c.ID] = label
		if p.Can(access.ManageDirectory, c.UnitPath) {
			channelOpts = append(channelOpts, uiOption{Value: strconv.FormatInt(c.ID, 10), Label: label})
		}
	}
	d := &uiRoutingData{uiSettingsPage: s.uiSettingsBase(r, "Routing rules", "routing"), Editing: editing, Form: f, Units: units,
		Channels: channelOpts, CanManage: p.CanAnywhere(access.ManageDirectory), Queues: inbox.Queues}
	for _, rule := range rules {
		d.Rules = append(d.Rules, uiRuleRow{RoutingRule: rule, ChannelName: names[rule.Channel], CanManage: p.Can(access.ManageDirectory, rule.UnitPath)})
	}
	if f == nil {
		d.Form = newUIForm("rule")
		d.Form.Values["position"] = "0"
		if editing > 0 {
			rule, err := s.Inbox.RoutingRule(ctx, p, editing)
			if err != nil {
				return nil, err
			}
			v := d.Form.Values
			v["unit"], v["lang"], v["intent"], v["queue"] = rule.Unit, rule.Lang, rule.Intent, rule.Queue
			v["keywords"], v["position"] = strings.Join(rule.Keywords, "\n"), strconv.Itoa(rule.Position)
			if rule.Channel != 0 {
				v["channel"] = strconv.FormatInt(rule.Channel, 10)
			}
		}
	}
	d.Langs = []uiOption{{Value: "", Label: "any language"}}
	for _, l := range inbox.Languages {
		d.Langs = append(d.Langs, uiOption{Value: l, Label: l})
	}
	d.Intents = []uiOption{{Value: "", Label: "any intent"}}
	for _, i := range intents {
		d.Intents = append(d.Intents, uiOption{Value: i, Label: i})
	}
	return d, nil
}

func (s *Server) uiRouting(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	editing, err := uiOptionalID(r)
	if err != nil {
		return err
	}
	d, err := s.uiRoutingPage(r, p, editing, nil)
	if err != nil {
		return err
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "inbox_routing", d)
	return nil
}

func (s *Server) uiSaveRule(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiOptionalID(r)
	if err != nil {
		return err
	}
	if id != 0 {
		if _, err := s.Inbox.RoutingRule(r.Context(), p, id); err != nil {
			return err
		}
	}
	f := newUIForm("rule").fill(r, uiRuleFields...)
	f.Values["keywords"] = r.PostFormValue("keywords")
	in := inbox.RoutingRuleInput{Unit: f.Values["unit"], Lang: f.Values["lang"], Intent: f.Values["intent"], Queue: f.Values["queue"],
		Keywords: strings.FieldsFunc(f.Values["keywords"], func(r rune) bool { return r == '\n' || r == ',' })}
	if v := f.Values["channel"]; v != "" {
		if in.Channel, err = strconv.ParseInt(v, 10, 64); err != nil {
			err = errs.Field("channel", "choose a channel from the list")
		}
	}
	if v := f.Values["position"]; v != "" && err == nil {
		if in.Position, err = strconv.Atoi(v); err != nil {
			err = errs.Field("position", "must be a whole number, not %q", v)
		}
	}
	if err == nil {
		if id > 0 {
			_, err = s.Inbox.UpdateRoutingRule(r.Context(), p, id, in)
		} else {
			_, err = s.Inbox.CreateRoutingRule(r.Context(), p, in)
		}
	}
	if err == nil {
		s.uiSetFlash(w, "Saved the routing rule into "+in.Queue+": it applies to messages arriving from now on.")
		http.Redirect(w, r, "/inbox/settings/routing", http.StatusSeeOther)
		return nil
	}
	if e := s.publicError(r, err); !uiFormFailure(err) && !(e.Code == errs.Forbidden && e.Field != "") {
		return err
	}
	f.fail(s, r, err, uiRuleFields...)
	d, derr := s.uiRoutingPage(r, p, id, f)
	if derr != nil {
		return derr
	}
	s.uiRender(w, r, statusOf(err), "inbox_routing", d)
	return nil
}

func (s *Server) uiDeleteRule(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiID(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteRoutingRule(r.Context(), p, id); err != nil {
		return err
	}
	s.uiSetFlash(w, fmt.Sprintf("Deleted routing rule %d.", id))
	http.Redirect(w, r, "/inbox/settings/routing", http.StatusSeeOther)
	return nil
}

// ---- vehicle model catalogues ----

type uiCataloguesData struct {
	uiSettingsPage
	Items []inbox.BrandCatalogue
}

func (s *Server) uiCatalogues(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	cats, err := s.Inbox.Catalogues(r.Context(), p)
	if err != nil {
		return err
	}
	d := uiCataloguesData{uiSettingsPage: s.uiSettingsBase(r, "Vehicle models", "models"), Items: cats}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "catalogue_list", d)
	return nil
}

type uiCatalogueData struct {
	uiSettingsPage
	Catalogue inbox.BrandCatalogue
	CanManage bool
	Form      *uiForm
	Editing   string // the model the form edits ("": a new one)
}

func (s *Server) uiCataloguePage(r *http.Request, p *access.Principal, unit, editing string, f *uiForm) (*uiCatalogueData, error) {
	c, err := s.Inbox.Catalogue(r.Context(), p, unit)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return nil, errs.E(errs.NotFound, "no catalogue for %q", unit)
		}
		return nil, err
	}
	path, err := s.Inbox.UnitPath(r.Context(), unit)
	if err != nil {
		return nil, err
	}
	d := &uiCatalogueData{uiSettingsPage: s.uiSettingsBase(r, "Vehicle models of "+c.UnitName, "models"), Catalogue: c,
		CanManage: p.Can(access.ManageDirectory, path), Form: f, Editing: editing}
	if f == nil {
		d.Form = newUIForm("model")
		d.Form.Values["version"] = strconv.FormatInt(c.Version, 10)
		if editing != "" {
			found := false
			for _, m := range c.Brand.Models {
				if strings.EqualFold(m.Name, editing) {
					v := d.Form.Values
					v["name"], v["aliases"] = m.Name, strings.Join(m.Aliases, "\n")
					if m.Ambiguous {
						v["ambiguous"] = "on"
					}
					if m.NeedsBrand {
						v["needs_brand"] = "on"
					}
					d.Editing, found = m.Name, true
				}
			}
			if !found {
				return nil, errs.E(errs.NotFound, "no model %q", editing)
			}
		}
	}
	return d, nil
}

func (s *Server) uiCatalogue(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d, err := s.uiCataloguePage(r, p, r.PathValue("unit"), strings.TrimSpace(r.URL.Query().Get("edit")), nil)
	if err != nil {
		return err
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "catalogue", d)
	return nil
}

// uiSaveModel adds a model, or replaces the one named "original".
func (s *Server) uiSaveModel(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	unit := r.PathValue("unit")
	if _, err := s.Inbox.Catalogue(r.Context(), p, unit); err != nil {
		if errs.Is(err, errs.Invalid) {
			return errs.E(errs.NotFound, "no catalogue for %q", unit)
		}
		return err
	}
	f := newUIForm("model").fill(r, "name", "version", "original", "ambiguous", "needs_brand")
	f.Values["aliases"] = r.PostFormValue("aliases")
	version, _ := strconv.ParseInt(f.Values["version"], 10, 64)
	in := inbox.ModelInput{Name: f.Values["name"], Aliases: strings.FieldsFunc(f.Values["aliases"], func(r rune) bool { return r == '\n' || r == ',' }),
		Ambiguous: f.Values["ambiguous"] != "", NeedsBrand: f.Values["needs_brand"] != "", Version: version}
	c, err := s.Inbox.SetModel(r.Context(), p, unit, f.Values["original"], in)
	if err == nil {
		s.uiSetFlash(w, fmt.Sprintf("Saved the model %s of %s: messages arriving from now on recognise it.", in.Name, c.UnitName))
		http.Redirect(w, r, "/catalogue/"+url.PathEscape(unit), http.StatusSeeOther)
		return nil
	}
	if !uiFormFailure(err) {
		return err
	}
	f.fail(s, r, err, "name", "aliases")
	d, derr := s.uiCataloguePage(r, p, unit, "", f)
	if derr != nil {
		return derr
	}
	d.Editing = f.Values["original"]
	s.uiRender(w, r, statusOf(err), "catalogue", d)
	return nil
}

func (s *Server) uiDeleteModel(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	unit := r.PathValue("unit")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	name := r.PostFormValue("name")
	if _, err := s.Inbox.DeleteModel(r.Context(), p, unit, name, version); err != nil {
		switch {
		case errs.Is(err, errs.Conflict):
			s.uiSetFlash(w, "Nothing deleted: "+s.publicError(r, err).Error())
			http.Redirect(w, r, "/catalogue/"+url.PathEscape(unit), http.StatusSeeOther)
			return nil
		case errs.Is(err, errs.Invalid): // not a brand unit
			return errs.E(errs.NotFound, "no catalogue for %q", unit)
		default:
			return err
		}
	}
	s.uiSetFlash(w, "Deleted the model "+name+".")
	http.Redirect(w, r, "/catalogue/"+url.PathEscape(unit), http.StatusSeeOther)
	return nil
}
