package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

// routesUIAnalytics registers the analytics pages.
func (s *Server) routesUIAnalytics() {
	if s.Analytics == nil {
		return
	}
	s.uiPageRoute("GET /analytics", s.uiAnalytics)
}

type uiAnalyticsPage struct {
	uiPage
	Units    []org.Unit
	Unit     string
	From, To string
	Error    string
	O        analytics.Overview
	// Chart is the audience series as JSON for the chart script; a
	// non-executed script element carries it, which the CSP allows.
	Chart template.JS
	CSV   string
	// Funnel is the lead funnel, when the caller may read leads.
	Funnel *analytics.Funnel
	// Topics is the channel mix per campaign topic.
	Topics []analytics.TopicMix
	// Care is the care report, when the caller may read the inbox.
	Care *analytics.Care
	// Audience is who the subtree's audience is (all, then by platform),
	// TopicAudience who each topic's platforms reach; DemographicsCSV
	// downloads the former.
	Audience        *uiAudienceTable
	TopicAudience   *uiAudienceTable
	DemographicsCSV string
	// TopicsCSV, CareCSV and FunnelCSV download those tables.
	TopicsCSV, CareCSV, FunnelCSV string
}

func (s *Server) uiAnalytics(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	q := r.URL.Query()
	units, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return err
	}
	d := uiAnalyticsPage{uiPage: s.uiBase(r, "Analytics", "analytics"), Units: units, Unit: q.Get("unit"), From: q.Get("from"), To: q.Get("to")}
	if d.Unit == "" {
		d.Unit = s.defaultUnit(r)
	}
	status := http.StatusOK
	o, err := s.Analytics.Overview(r.Context(), p, d.Unit, d.From, d.To, "")
	switch {
	case err == nil:
		d.O = o
		d.From, d.To = o.Period.From, o.Period.To
		chart := map[string]any{"days": o.Days, "series": o.Audience}
		b, _ := json.Marshal(chart)
		d.Chart = template.JS(b)
		v := url.Values{"unit": {o.Unit}, "from": {o.Period.From}, "to": {o.Period.To}, "format": {"csv"}}
		d.CSV = "/api/v1/analytics/overview?" + v.Encode()
		d.TopicsCSV = "/api/v1/analytics/topics?" + v.Encode()
		d.CareCSV = "/api/v1/analytics/care?" + v.Encode()
		d.FunnelCSV = "/api/v1/analytics/funnel?" + v.Encode()
		if mix, _, err := s.Analytics.Topics(r.Context(), p, o.Unit, o.Period.From, o.Period.To, o.Period.TimeZone); err == nil {
			d.Topics = mix
			d.TopicAudience = uiTopicAudienceRows(mix)
		}
		if dem, err := s.Analytics.Demographics(r.Context(), p, o.Unit, o.Period.From, o.Period.To, o.Period.TimeZone); err == nil {
			d.Audience = uiDemographicRows(dem)
			d.DemographicsCSV = "/api/v1/analytics/demographics?" + v.Encode()
		}
		path := s.unitPath(r, o.Unit)
		if p.Can(access.ReadInbox, path) {
			if c, err := s.Analytics.Care(r.Context(), p, o.Unit, o.Period.From, o.Period.To, o.Period.TimeZone); err == nil {
				d.Care = &c
			}
		}
		if p.Can(access.ReadLeads, path) {
			if f, err := s.Analytics.Funnel(r.Context(), p, o.Unit, o.Period.From, o.Period.To, o.Period.TimeZone); err == nil {
				d.Funnel = &f
			}
		}
	case errs.Is(err, errs.Invalid):
		d.Error, status = err.Error(), http.StatusBadRequest
	default:
		return err
	}
	s.uiRender(w, r, status, "analytics", d)
	return nil
}

// unitPath is a unit's path for a permission check ("" when unknown).
func (s *Server) unitPath(r *http.Request, key string) string {
	u, err := s.Org.Unit(r.Context(), principalOf(r), key)
	if err != nil {
		return ""
	}
	return u.Path
}
