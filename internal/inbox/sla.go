package inbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// SLA states of a message, as the list shows them.
const (
	SLAOk       = "ok"       // waiting, with time left
	SLADueSoon  = "due_soon" // waiting, less than a quarter of the target left
	SLABreached = "breached" // waiting past its target
	SLAMet      = "met"      // answered (or closed) in time or not: no longer waiting
)

// DefaultTargets are the first-response targets when no unit sets one:
// an hour for purchase intent (the sales queue), four hours for the rest.
var DefaultTargets = map[string]time.Duration{"sales": time.Hour, "": 4 * time.Hour}

// SLASettings are a unit's own SLA settings (inherited by its subtree
// where it sets nothing): first-response targets per queue ("" is every
// queue without its own) and business hours in the unit's time zone.
type SLASettings struct {
	UnitID int64
	// Targets in minutes by queue.
	Targets map[string]int
	Hours   *BusinessHours
	// TimeZone is the zone the SLA clock runs in ("" = the unit's own).
	TimeZone string
}

// BusinessHours are the hours an SLA's clock runs: on Days (bit 0 is
// Sunday … bit 6 Saturday) from Start to End, minutes after midnight.
type BusinessHours struct {
	Days  int `json:"-"`
	Start int `json:"-"`
	End   int `json:"-"`
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// SLAStore keeps the units' SLA settings.
type SLAStore interface {
	SLASettings(ctx context.Context) ([]SLASettings, error)
	// SetSLASettings replaces a unit's settings.
	SetSLASettings(ctx context.Context, s SLASettings) error
}

// sla is a message's resolved policy.
type sla struct {
	target time.Duration
	hours  *BusinessHours
	loc    *time.Location
}

// ancestors lists a unit and its ancestors, nearest first (the caller
// must not change the list: it may be the directory's own).
func (d *directory) ancestors(unitID int64) []int64 {
	if a, ok := d.anc[unitID]; ok {
		return a
	}
	return d.ancestorsOf(unitID)
}

func (d *directory) ancestorsOf(unitID int64) []int64 {
	u, ok := d.units[unitID]
	if !ok {
		return nil
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	out := make([]int64, 0, len(parts))
	for i := len(parts) - 1; i >= 0; i-- {
		if id, err := strconv.ParseInt(parts[i], 10, 64); err == nil {
			out = append(out, id)
		}
	}
	if len(out) == 0 || out[0] != unitID {
		out = append([]int64{unitID}, out...)
	}
	return out
}

// policy resolves the SLA of a unit's queue: the nearest unit (itself,
// then up the tree) that sets a target for the queue or for every queue;
// business hours and time zone likewise from the nearest that sets them.
func (d *directory) policy(unitID int64, queue string) sla {
	key := policyKey{unitID, queue}
	if v, ok := d.policies.Load(key); ok {
		return v.(sla)
	}
	p := d.resolve(unitID, queue)
	d.policies.Store(key, p)
	return p
}

type policyKey struct {
	unit  int64
	queue string
}

func (d *directory) resolve(unitID int64, queue string) sla {
	p := sla{loc: time.UTC}
	haveTarget, haveHours, haveTZ := false, false, false
	for _, id := range d.ancestors(unitID) {
		if st, ok := d.slas[id]; ok {
			if !haveTarget {
				if m, ok := st.Targets[queue]; ok {
					p.target, haveTarget = time.Duration(m)*time.Minute, true
				} else if m, ok := st.Targets[""]; ok {
					p.target, haveTarget = time.Duration(m)*time.Minute, true
				}
			}
			if !haveHours && st.Hours != nil {
				p.hours, haveHours = st.Hours, true
			}
			if !haveTZ && st.TimeZone != "" {
				if loc, err := time.LoadLocation(st.TimeZone); err == nil {
					p.loc, haveTZ = loc, true
				}
			}
		}
		if !haveTZ {
			if tz := d.units[id].TimeZone; tz != "" {
				if loc, err := time.LoadLocation(tz); err == nil {
					p.loc, haveTZ = loc, true
				}
			}
		}
	}
	if !haveTarget {
		t, ok := DefaultTargets[queue]
		if !ok {
			t = DefaultTargets[""]
		}
		p.target = t
	}
	return p
}

// addBusiness adds d of business time to t.
func addBusiness(t time.Time, d time.Duration, h *BusinessHours, loc *time.Location) time.Time {
	if h == nil || h.Days&0x7f == 0 || h.End <= h.Start {
		return t.Add(d)
	}
	t = t.In(loc)
	for i := 0; i < 400; i++ {
		y, mo, day := t.Date()
		next := time.Date(y, mo, day+1, 0, 0, 0, 0, loc)
		if h.Days&(1<<uint(t.Weekday())) != 0 {
			open := time.Date(y, mo, day, h.Start/60, h.Start%60, 0, 0, loc)
			closing := time.Date(y, mo, day, h.End/60, h.End%60, 0, 0, loc)
			if h.End >= 24*60 {
				closing = next
			}
			if t.Before(open) {
				t = open
			}
			if t.Before(closing) {
				avail := closing.Sub(t)
				if d <= avail {
					return t.Add(d).UTC()
				}
				d -= avail
			}
		}
		t = next
	}
	return t.UTC()
}

// setSLA sets a new message's first-response due and warning times.
func (d *directory) setSLA(m *Message, now time.Time) {
	p := d.policy(m.UnitID, m.Queue)
	due := addBusiness(now, p.target, p.hours, p.loc)
	warn := addBusiness(now, p.target*3/4, p.hours, p.loc)
	m.SLADueAt, m.SLAWarnAt = &due, &warn
}

// slaState says where a message stands against its first-response target.
func slaState(m *Message, now time.Time) {
	switch {
	case m.SLADueAt == nil:
		m.SLA = ""
	case m.FirstResponseAt != nil || m.Status == StatusClosed:
		m.SLA = SLAMet
	case !now.Before(*m.SLADueAt):
		m.SLA = SLABreached
	case m.SLAWarnAt != nil && !now.Before(*m.SLAWarnAt):
		m.SLA = SLADueSoon
	default:
		m.SLA = SLAOk
	}
}

// SLAInput sets a unit's SLA settings: targets in minutes by queue ("" or
// "default": every queue without its own; 0 removes one), and business
// hours ({"days": ["mon", …], "start": "09:00", "end": "18:00"}; null or
// no days: around the clock), and the time zone the clock runs in (an
// IANA name; "" keeps the unit's).
type SLAInput struct {
	Unit          string         `json:"unit"`
	Targets       map[string]int `json:"targets"`
	BusinessHours *HoursInput    `json:"business_hours"`
	TimeZone      string         `json:"time_zone,omitempty"`
}

// HoursInput is business hours as the API takes and gives them.
type HoursInput struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// SLAView is a unit's SLA settings as they apply to it (inherited ones
// included).
type SLAView struct {
	Unit          string         `json:"unit"`
	TimeZone      string         `json:"time_zone"`
	Targets       map[string]int `json:"targets"` // minutes by queue, "" = default
	Own           map[string]int `json:"own"`     // those the unit sets itself
	BusinessHours *HoursInput    `json:"business_hours"`
	// OwnBusinessHours and OwnTimeZone are what the unit sets itself
	// (nil, "": inherited).
	OwnBusinessHours *HoursInput `json:"own_business_hours"`
	OwnTimeZone      string      `json:"own_time_zone"`
	// Queues are the queues the unit's messages may wait in: the built-in
	// ones and those its routing rules name.
	Queues []string `json:"queues"`
}

func parseClock(field, s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	if err != nil {
		return 0, errs.Field(field, "must be a time like 09:00, not %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (s *Service) unitFor(ctx context.Context, key string) (*directory, UnitRef, error) {
	dir, err := s.directory(ctx, false)
	if err != nil {
		return nil, UnitRef{}, err
	}
	u, ok := dir.byKey[key]
	if !ok {
		if dir, err = s.directory(ctx, true); err != nil {
			return nil, UnitRef{}, err
		}
		if u, ok = dir.byKey[key]; !ok {
			return nil, UnitRef{}, errs.Field("unit", "no such unit: %q", key)
		}
	}
	return dir, u, nil
}

// SetSLA replaces a unit's SLA settings (unit managers). They apply to
// messages that arrive from then on.
func (s *Service) SetSLA(ctx context.Context, p *access.Principal, in SLAInput) (SLAView, error) {
	_, u, err := s.unitFor(ctx, in.Unit)
	if err != nil {
		return SLAView{}, err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return SLAView{}, errs.Field("unit", "no such unit: %q", in.Unit)
	}
	if !p.Can(access.ManageDirectory, u.Path) {
		return SLAView{}, errs.E(errs.Forbidden, "you may not set the SLAs of %s", in.Unit)
	}
	st := SLASettings{UnitID: u.ID, Targets: map[string]int{}}
	for q, m := range in.Targets {
		if q == "default" {
			q = ""
		}
		switch {
		case m < 0 || m > 60*24*30:
			return SLAView{}, errs.Field("targets."+q, "must be 1 to 43200 minutes (0 removes it), not %d", m)
		case m > 0:
			st.Targets[q] = m
		}
	}
	if h := in.BusinessHours; h != nil && len(h.Days) > 0 {
		var bh BusinessHours
		for _, d := range h.Days {
			i := indexOf(dayNames, strings.ToLower(strings.TrimSpace(d)))
			if i < 0 {
				return SLAView{}, errs.Field("business_hours.days", "must be among %s, not %q", strings.Join(dayNames, ", "), d)
			}
			bh.Days |= 1 << uint(i)
		}
		if bh.Start, err = parseClock("business_hours.start", h.Start); err != nil {
			return SLAView{}, err
		}
		if bh.End, err = parseClock("business_hours.end", h.End); err != nil {
			return SLAView{}, err
		}
		if bh.End <= bh.Start {
			return SLAView{}, errs.Field("business_hours.end", "must be after the start")
		}
		st.Hours = &bh
	}
	if tz := strings.TrimSpace(in.TimeZone); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			return SLAView{}, errs.Field("time_zone", "must be an IANA time zone like Europe/Berlin, not %q", tz)
		}
		st.TimeZone = tz
	}
	if err := s.cfg.Store.SetSLASettings(ctx, st); err != nil {
		return SLAView{}, err
	}
	s.settingsChanged()
	return s.SLA(ctx, p, in.Unit)
}

// SLA shows the SLA settings that apply to a unit.
func (s *Service) SLA(ctx context.Context, p *access.Principal, unit string) (SLAView, error) {
	dir, u, err := s.unitFor(ctx, unit)
	if err != nil {
		return SLAView{}, err
	}
	if !p.Can(access.ReadInbox, u.Path) {
		return SLAView{}, errs.E(errs.NotFound, "no such unit: %q", unit)
	}
	v := SLAView{Unit: u.Key, Targets: map[string]int{}, Own: map[string]int{}}
	pol := dir.policy(u.ID, "")
	v.TimeZone = pol.loc.String()
	v.Queues = dir.queuesOf(u.ID)
	for _, q := range append([]string{""}, v.Queues...) {
		v.Targets[q] = int(dir.policy(u.ID, q).target / time.Minute)
	}
	if st, ok := dir.slas[u.ID]; ok {
		for q, m := range st.Targets {
			v.Own[q] = m
		}
		v.OwnBusinessHours = hoursView(st.Hours)
		v.OwnTimeZone = st.TimeZone
	}
	v.BusinessHours = hoursView(pol.hours)
	return v, nil
}

// hoursView shows business hours as the API gives them (nil: none).
func hoursView(h *BusinessHours) *HoursInput {
	if h == nil {
		return nil
	}
	hi := &HoursInput{Start: fmt.Sprintf("%02d:%02d", h.Start/60, h.Start%60), End: fmt.Sprintf("%02d:%02d", h.End/60, h.End%60)}
	for i, n := range dayNames {
		if h.Days&(1<<uint(i)) != 0 {
			hi.Days = append(hi.Days, n)
		}
	}
	return hi
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
