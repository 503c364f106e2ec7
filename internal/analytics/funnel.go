package analytics

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// FunnelLead is one lead as the funnel sees it.
type FunnelLead struct {
	Unit, UnitName, Kind, UnitPath string
	State                          string
	CreatedAt                      time.Time
	ContactedAt                    *time.Time
}

// FunnelRow is the lead funnel of one unit (the market or dealer the
// leads were routed to): how far its leads got, and how soon they were
// first contacted.
type FunnelRow struct {
	Unit      string `json:"unit"`
	UnitName  string `json:"unit_name"`
	Kind      string `json:"kind"`
	Leads     int    `json:"leads"`
	New       int    `json:"new"`
	Contacted int    `json:"contacted"`
	Qualified int    `json:"qualified"`
	Won       int    `json:"won"`
	Lost      int    `json:"lost"`
	// Reached counts the leads that got at least that far: contacted ⊇
	// qualified ⊇ won, so the funnel reads as conversion.
	ReachedContact   int    `json:"reached_contact"`
	ReachedQualified int    `json:"reached_qualified"`
	MedianContact    string `json:"median_time_to_first_contact"` // "" when none was contacted
}

// Funnel is the lead funnel of a unit subtree for a period.
type Funnel struct {
	Unit   string      `json:"unit"`
	Period Period      `json:"period"`
	Rows   []FunnelRow `json:"rows"`  // per unit that received leads, in tree order
	Total  FunnelRow   `json:"total"` // the subtree, each lead once
}

// FunnelStore reads the funnel's leads.
type FunnelStore interface {
	FunnelLeads(ctx context.Context, unitPath string, from, to time.Time) ([]FunnelLead, error)
}

// Funnel computes the lead funnel of a unit's subtree for the leads
// created in a period.
func (s *Service) Funnel(ctx context.Context, p *access.Principal, unitKey, from, to, tz string) (Funnel, error) {
	fs, ok := s.store.(FunnelStore)
	if !ok {
		return Funnel{}, errs.E(errs.Unavailable, "the lead funnel is not available")
	}
	u, err := s.org.Unit(ctx, p, unitKey)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Funnel{}, errs.Field("unit", "unit %q not found", unitKey)
		}
		return Funnel{}, err
	}
	if !p.Can(access.ReadLeads, u.Path) {
		return Funnel{}, errs.E(errs.Forbidden, "you may not read the leads of %s", u.Name)
	}
	if tz == "" {
		tz = u.TimeZone
	}
	per, err := ParsePeriod(from, to, tz, s.now())
	if err != nil {
		return Funnel{}, err
	}
	leads, err := fs.FunnelLeads(ctx, u.Path, per.start, per.end)
	if err != nil {
		return Funnel{}, err
	}
	f := Funnel{Unit: u.Key, Period: per, Rows: []FunnelRow{}, Total: FunnelRow{Unit: u.Key, UnitName: u.Name, Kind: string(u.Kind)}}
	rows := map[string]*FunnelRow{}
	paths := map[string]string{}
	waits := map[string][]time.Duration{}
	var all []time.Duration
	for _, l := range leads {
		r := rows[l.Unit]
		if r == nil {
			r = &FunnelRow{Unit: l.Unit, UnitName: l.UnitName, Kind: l.Kind}
			rows[l.Unit] = r
			paths[l.Unit] = l.UnitPath
		}
		for _, row := range []*FunnelRow{r, &f.Total} {
			row.Leads++
			switch l.State {
			case "new":
				row.New++
			case "contacted":
				row.Contacted++
			case "qualified":
				row.Qualified++
			case "won":
				row.Won++
			case "lost":
				row.Lost++
			}
			if l.State != "new" {
				row.ReachedContact++
			}
			if l.State == "qualified" || l.State == "won" {
				row.ReachedQualified++
			}
		}
		if l.ContactedAt != nil {
			d := l.ContactedAt.Sub(l.CreatedAt)
			waits[l.Unit] = append(waits[l.Unit], d)
			all = append(all, d)
		}
	}
	for k, r := range rows {
		r.MedianContact = median(waits[k])
		f.Rows = append(f.Rows, *r)
	}
	f.Total.MedianContact = median(all)
	sort.Slice(f.Rows, func(i, j int) bool { return paths[f.Rows[i].Unit] < paths[f.Rows[j].Unit] })
	return f, nil
}

// median renders the median duration for people: "45s", "12m", "3h20m",
// "2d4h".
func median(ds []time.Duration) string {
	if len(ds) == 0 {
		return ""
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return human(m)
}

func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) - 60*h; m > 0 {
			return fmt.Sprintf("%dh%dm", h, m)
		}
		return fmt.Sprintf("%dh", h)
	default:
		days := int(d.Hours()) / 24
		if h := int(d.Hours()) - 24*days; h > 0 {
			return fmt.Sprintf("%dd%dh", days, h)
		}
		return fmt.Sprintf("%dd", days)
	}
}
