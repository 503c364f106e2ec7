package analytics

import (
	"context"
	"sort"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// CareMessage is one inbound message as the care report sees it.
type CareMessage struct {
	Queue       string
	Unit        string
	UnitName    string
	UnitPath    string
	ReceivedAt  time.Time
	RespondedAt *time.Time // the conversation's first reply
	SLADueAt    *time.Time
}

// CareRow is the care figures of one queue or one unit.
type CareRow struct {
	Key       string `json:"key"` // queue, or unit key
	Name      string `json:"name,omitempty"`
	Messages  int    `json:"messages"`
	Responded int    `json:"responded"`
	// Median and P90 are the time from arrival to the conversation's
	// first reply, over the responded messages.
	Median string `json:"median_response"`
	P90    string `json:"p90_response"`
	// Breached counts messages answered after their SLA was due, or
	// still unanswered past it.
	Breached int `json:"sla_breached"`
}

// Care is the care report of a unit subtree for a period.
type Care struct {
	Unit    string    `json:"unit"`
	Period  Period    `json:"period"`
	ByQueue []CareRow `json:"by_queue"`
	ByUnit  []CareRow `json:"by_unit"`
	Total   CareRow   `json:"total"`
}

// CareStore reads the messages of a subtree that arrived in a period.
type CareStore interface {
	CareMessages(ctx context.Context, unitPath string, from, to time.Time) ([]CareMessage, error)
}

// Care computes inbound volume, response times and SLA breaches per queue
// and unit for the messages that arrived in a period.
func (s *Service) Care(ctx context.Context, p *access.Principal, unitKey, from, to, tz string) (Care, error) {
	cs, ok := s.store.(CareStore)
	if !ok {
		return Care{}, errs.E(errs.Unavailable, "the care report is not available")
	}
	u, err := s.org.Unit(ctx, p, unitKey)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Care{}, errs.Field("unit", "unit %q not found", unitKey)
		}
		return Care{}, err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return Care{}, errs.E(errs.Forbidden, "you may not read the inbox of %s", u.Name)
	}
	if tz == "" {
		tz = u.TimeZone
	}
	per, err := ParsePeriod(from, to, tz, s.now())
	if err != nil {
		return Care{}, err
	}
	msgs, err := cs.CareMessages(ctx, u.Path, per.start, per.end)
	if err != nil {
		return Care{}, err
	}
	now := s.now()
	type acc struct {
		row   CareRow
		path  string
		waits []time.Duration
	}
	queues, units := map[string]*acc{}, map[string]*acc{}
	total := &acc{row: CareRow{Key: u.Key, Name: u.Name}}
	for _, m := range msgs {
		q := queues[m.Queue]
		if q == nil {
			q = &acc{row: CareRow{Key: m.Queue}}
			queues[m.Queue] = q
		}
		un := units[m.Unit]
		if un == nil {
			un = &acc{row: CareRow{Key: m.Unit, Name: m.UnitName}, path: m.UnitPath}
			units[m.Unit] = un
		}
		breached := m.SLADueAt != nil && ((m.RespondedAt != nil && m.RespondedAt.After(*m.SLADueAt)) || (m.RespondedAt == nil && now.After(*m.SLADueAt)))
		for _, a := range []*acc{q, un, total} {
			a.row.Messages++
			if m.RespondedAt != nil {
				a.row.Responded++
				a.waits = append(a.waits, m.RespondedAt.Sub(m.ReceivedAt))
			}
			if breached {
				a.row.Breached++
			}
		}
	}
	finish := func(a *acc) CareRow {
		a.row.Median, a.row.P90 = percentile(a.waits, 0.5), percentile(a.waits, 0.9)
		return a.row
	}
	c := Care{Unit: u.Key, Period: per, ByQueue: []CareRow{}, ByUnit: []CareRow{}, Total: finish(total)}
	for _, a := range queues {
		c.ByQueue = append(c.ByQueue, finish(a))
	}
	sort.Slice(c.ByQueue, func(i, j int) bool { return c.ByQueue[i].Key < c.ByQueue[j].Key })
	paths := map[string]string{}
	for k, a := range units {
		paths[k] = a.path
		c.ByUnit = append(c.ByUnit, finish(a))
	}
	sort.Slice(c.ByUnit, func(i, j int) bool { return paths[c.ByUnit[i].Key] < paths[c.ByUnit[j].Key] })
	return c, nil
}

// percentile renders the p-th percentile of durations for people ("" when
// there are none); the median of an even count is the mean of the middle
// two.
func percentile(ds []time.Duration, p float64) string {
	if len(ds) == 0 {
		return ""
	}
	if p == 0.5 {
		return median(ds)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(p*float64(len(ds))+0.999999) - 1
	return human(ds[max(0, min(i, len(ds)-1))])
}
