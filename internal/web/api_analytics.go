package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics"
)

// routesAnalytics registers the analytics API.
func (s *Server) routesAnalytics() {
	if s.Analytics == nil {
		return
	}
	s.api("GET", "/api/v1/analytics/overview", s.apiOverview)
	s.api("GET", "/api/v1/analytics/funnel", s.apiFunnel)
	s.api("GET", "/api/v1/analytics/campaigns/{id}", s.apiCampaignReport)
	s.api("GET", "/api/v1/analytics/topics", s.apiTopics)
	s.api("GET", "/api/v1/analytics/care", s.apiCare)
	s.api("GET", "/api/v1/analytics/demographics", s.apiDemographics)
}

// apiOverview answers a unit subtree's overview as JSON, or as CSV with
// format=csv (one row per figure: section, key, current, previous).
func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit == "" {
		unit = s.defaultUnit(r)
	}
	o, err := s.Analytics.Overview(r.Context(), principalOf(r), unit, q.Get("from"), q.Get("to"), q.Get("tz"))
	if err != nil {
		return err
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="overview-`+o.Unit+`-`+o.Period.From+`-`+o.Period.To+`.csv"`)
		return writeOverviewCSV(csv.NewWriter(w), o)
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// defaultUnit is the caller's first granted unit (the group for a group
// admin), for pages and calls that name none.
func (s *Server) defaultUnit(r *http.Request) string {
	p := principalOf(r)
	if p == nil || len(p.Grants) == 0 {
		return ""
	}
	best := p.Grants[0]
	for _, g := range p.Grants[1:] {
		if len(g.UnitPath) < len(best.UnitPath) {
			best = g
		}
	}
	return best.Unit
}

func writeOverviewCSV(w *csv.Writer, o analytics.Overview) error {
	w.Write([]string{"section", "key", "current", "previous", "period", "previous_period"})
	per, prev := o.Period.From+".."+o.Period.To, o.Previous.From+".."+o.Previous.To
	num := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, a := range o.Audience {
		w.Write([]string{"audience_growth", a.Platform, num(a.Growth), num(a.PreviousGrowth), per, prev})
		w.Write([]string{"followers_end", a.Platform, num(a.End), "", per, prev})
	}
	for _, sec := range []struct {
		name string
		rows []analytics.Count
	}{{"posts_published", o.Posts}, {"inbound_messages", o.Inbound}, {"leads_created", o.Leads}} {
		for _, c := range sec.rows {
			w.Write([]string{sec.name, c.Key, strconv.FormatInt(c.Current, 10), strconv.FormatInt(c.Previous, 10), per, prev})
		}
	}
	for i, d := range o.Days {
		for _, a := range o.Audience {
			w.Write([]string{"followers_daily", a.Platform + " " + d, num(a.Series[i]), "", per, prev})
		}
	}
	w.Flush()
	return w.Error()
}

// apiFunnel answers a unit subtree's lead funnel per market and dealer, as
// JSON or, with format=csv, one row per unit.
func (s *Server) apiFunnel(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit == "" {
		unit = s.defaultUnit(r)
	}
	f, err := s.Analytics.Funnel(r.Context(), principalOf(r), unit, q.Get("from"), q.Get("to"), q.Get("tz"))
	if err != nil {
		return err
	}
	if q.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, f)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="funnel-`+f.Unit+`-`+f.Period.From+`-`+f.Period.To+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"unit", "unit_name", "kind", "leads", "new", "contacted", "qualified", "won", "lost", "reached_contact", "reached_qualified", "median_time_to_first_contact"})
	for _, row := range append(f.Rows, f.Total) {
		it := strconv.Itoa
		cw.Write([]string{row.Unit, row.UnitName, row.Kind, it(row.Leads), it(row.New), it(row.Contacted), it(row.Qualified), it(row.Won), it(row.Lost),
			it(row.ReachedContact), it(row.ReachedQualified), row.MedianContact})
	}
	cw.Flush()
	return cw.Error()
}

// apiCampaignReport answers a campaign's reach by platform and unit, the
// markets and dealers that took it up, and the messages and leads it
// brought.
func (s *Server) apiCampaignReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := s.Analytics.Campaign(r.Context(), principalOf(r), id)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") != "csv" {
		writeJSON(w, http.StatusOK, rep)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(rep.Campaign, 10)+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"section", "key", "name", "posts", "likes", "shares", "replies", "impressions"})
	for _, sec := range []struct {
		name string
		rows []analytics.Reach
	}{{"platform", rep.ByPlatform}, {"unit", rep.ByUnit}} {
		for _, x := range sec.rows {
			n := func(v int64) string { return strconv.FormatInt(v, 10) }
			cw.Write([]string{sec.name, x.Key, x.Name, n(x.Posts), n(x.Likes), n(x.Shares), n(x.Replies), n(x.Impressions)})
		}
	}
	for _, t := range rep.TakenUp {
		published := ""
		if t.PublishedAt != nil {
			published = t.PublishedAt.Format(time.RFC3339)
		}
		cw.Write([]string{"taken_up", t.Unit, t.UnitName, strconv.FormatInt(t.PostID, 10), published, "", "", ""})
	}
	for _, sec := range []struct {
		name string
		rows []analytics.Count
	}{{"inbound", rep.Inbound}, {"leads", rep.Leads}} {
		for _, c := range sec.rows {
			cw.Write([]string{sec.name, c.Key, "", strconv.FormatInt(c.Current, 10), "", "", "", ""})
		}
	}
	cw.Flush()
	return cw.Error()
}

// apiTopics answers the channel mix per topic: which platforms carried
// each campaign topic's posts and engagement in the period.
func (s *Server) apiTopics(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit == "" {
		unit = s.defaultUnit(r)
	}
	mix, per, err := s.Analytics.Topics(r.Context(), principalOf(r), unit, q.Get("from"), q.Get("to"), q.Get("tz"))
	if err != nil {
		return err
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="topics-`+unit+`-`+per.From+`-`+per.To+`.csv"`)
		cw := csv.NewWriter(w)
		cw.Write(append([]string{"topic", "platform", "posts", "engagements", "impressions", "engagement_share", "engagements_per_post"}, mixColumns()...))
		for _, m := range mix {
			for _, p := range m.Platforms {
				cw.Write(append([]string{m.Topic, p.Platform, strconv.FormatInt(p.Posts, 10), strconv.FormatInt(p.Engagements, 10),
					strconv.FormatInt(p.Impressions, 10), strconv.FormatFloat(p.EngagementShare, 'f', 4, 64), strconv.FormatFloat(p.PerPost, 'f', 2, 64)},
					mixCells(p.Audience)...))
			}
		}
		cw.Flush()
		return cw.Error()
	}
	writeJSON(w, http.StatusOK, map[string]any{"unit": unit, "period": per, "topics": mix})
	return nil
}

// apiCare answers inbound volume, response times and SLA breaches per
// queue and unit; format=csv gives one row per queue and unit.
func (s *Server) apiCare(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit == "" {
		unit = s.defaultUnit(r)
	}
	c, err := s.Analytics.Care(r.Context(), principalOf(r), unit, q.Get("from"), q.Get("to"), q.Get("tz"))
	if err != nil {
		return err
	}
	if q.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, c)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="care-`+c.Unit+`-`+c.Period.From+`-`+c.Period.To+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"by", "key", "name", "messages", "responded", "median_response", "p90_response", "sla_breached"})
	for _, sec := range []struct {
		by   string
		rows []analytics.CareRow
	}{{"queue", c.ByQueue}, {"unit", c.ByUnit}, {"total", []analytics.CareRow{c.Total}}} {
		for _, r := range sec.rows {
			cw.Write([]string{sec.by, r.Key, r.Name, strconv.Itoa(r.Messages), strconv.Itoa(r.Responded), r.Median, r.P90, strconv.Itoa(r.Breached)})
		}
	}
	cw.Flush()
	return cw.Error()
}
