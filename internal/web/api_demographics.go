package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connector"
)

// apiDemographics answers who a unit subtree's audience is (age groups and
// genders, weighted by followers) over all channels and by platform, as
// JSON or, with format=csv, one row per platform, breakdown and bucket.
func (s *Server) apiDemographics(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit == "" {
		unit = s.defaultUnit(r)
	}
	d, err := s.Analytics.Demographics(r.Context(), principalOf(r), unit, q.Get("from"), q.Get("to"), q.Get("tz"))
	if err != nil {
		return err
	}
	if q.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, d)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="demographics-`+d.Unit+`-`+d.Period.From+`-`+d.Period.To+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"platform", "breakdown", "bucket", "share", "channels", "reported", "followers", "basis"})
	for _, m := range append([]analytics.AudienceMix{d.All}, d.Platforms...) {
		writeMixCSV(cw, nil, m)
	}
	cw.Flush()
	return cw.Error()
}

// writeMixCSV writes an audience mix as rows (prefix, platform, breakdown,
// bucket, share, channels, reported, followers, basis); a breakdown no
// channel reported is one row whose share says "not reported".
func writeMixCSV(cw *csv.Writer, prefix []string, m analytics.AudienceMix) {
	platform := m.Platform
	if platform == "" {
		platform = "all"
	}
	tail := []string{strconv.Itoa(m.Channels), strconv.Itoa(m.Reported), strconv.FormatInt(m.Followers, 10), strings.Join(m.Bases, " ")}
	for _, b := range []struct {
		name   string
		shares []analytics.Share
	}{{"age", m.Age}, {"gender", m.Gender}} {
		if b.shares == nil {
			cw.Write(append(append(append([]string{}, prefix...), platform, b.name, "", "not reported"), tail...))
			continue
		}
		for _, sh := range b.shares {
			cw.Write(append(append(append([]string{}, prefix...), platform, b.name, sh.Key, strconv.FormatFloat(sh.Share, 'f', 4, 64)), tail...))
		}
	}
}

// mixColumns are the topic CSV's audience columns.
func mixColumns() []string {
	cols := []string{"audience_channels", "audience_reported", "audience_followers"}
	for _, a := range connector.AgeGroups {
		cols = append(cols, "age_"+a)
	}
	for _, g := range connector.Genders {
		cols = append(cols, "gender_"+g)
	}
	return cols
}

// mixCells are mixColumns' values; a breakdown not reported is "not
// reported" in each of its cells, never 0.
func mixCells(m *analytics.AudienceMix) []string {
	if m == nil {
		m = &analytics.AudienceMix{}
	}
	out := []string{strconv.Itoa(m.Channels), strconv.Itoa(m.Reported), strconv.FormatInt(m.Followers, 10)}
	for _, b := range []struct {
		keys   []string
		shares []analytics.Share
	}{{connector.AgeGroups, m.Age}, {connector.Genders, m.Gender}} {
		for i := range b.keys {
			if b.shares == nil {
				out = append(out, "not reported")
			} else {
				out = append(out, strconv.FormatFloat(b.shares[i].Share, 'f', 4, 64))
			}
		}
	}
	return out
}
