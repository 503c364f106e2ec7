// Package analytics answers "how are we doing" for a unit and its
// subtree over a period, compared with the period before: audience growth
// by platform, posting volume, inbound messages by intent, and leads. Each
// channel belongs to exactly one unit, and a subtree is one path prefix, so
// no channel is ever counted twice.
package analytics

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

// AudiencePoint is one channel's follower count on one day.
type AudiencePoint struct {
	ChannelID int64
	Platform  string
	Day       string // YYYY-MM-DD
	Followers int64
}

// AudienceTotal is a subtree's followers on one platform and day: the sum
// over the channels known that day.
type AudienceTotal struct {
	Platform  string
	Day       string // YYYY-MM-DD
	Followers int64
}

// Store is what analytics reads; internal/store implements it. The
// audience figures come from a rollup that already carries each channel's
// last follower count forward for up to seven days it was not read (a day
// later than that is a gap) and sums a subtree's channels once.
type Store interface {
	// AudienceSeries leaves out the gaps.
	AudienceSeries(ctx context.Context, unitPath, fromDay, toDay string) ([]AudienceTotal, error)
	// AudiencePlatforms lists the platforms with a channel known on
	// some day of the span.
	AudiencePlatforms(ctx context.Context, unitPath, fromDay, toDay string) ([]string, error)
	// AudienceGrowth sums by platform the growth of the channels known
	// on both days (no entry: none was).
	AudienceGrowth(ctx context.Context, unitPath, fromDay, toDay string) (map[string]int64, error)
	PublishedByPlatform(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error)
	InboundByIntent(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error)
	LeadsByState(ctx context.Context, unitPath string, from, to time.Time) (map[string]int, error)
	EngagementByPlatform(ctx context.Context, unitPath string, from, to time.Time) ([]Engagement, error)
	TopPosts(ctx context.Context, unitPath string, from, to time.Time, n int) ([]TopPost, error)
}

// Service computes the figures.
type Service struct {
	store Store
	org   *org.Service
	now   func() time.Time
}

// NewService makes the analytics service.
func NewService(st Store, orgSvc *org.Service) *Service {
	return &Service{store: st, org: orgSvc, now: time.Now}
}

// Period is a span of whole days in a time zone: [From, To] inclusive.
type Period struct {
	From     string `json:"from"` // YYYY-MM-DD
	To       string `json:"to"`
	TimeZone string `json:"time_zone"`
	start    time.Time
	end      time.Time // exclusive: midnight after To
}

// Count is a figure now and in the previous period.
type Count struct {
	Key      string `json:"key"`
	Current  int64  `json:"current"`
	Previous int64  `json:"previous"`
}

// PlatformAudience is a platform's followers over the period.
type PlatformAudience struct {
	Platform string `json:"platform"`
	// Start and End are the followers on the period's first and last day
	// (nil: no reading close enough); Growth is End − Start where both are
	// known, over the channels known on both days.
	Start  *int64 `json:"start"`
	End    *int64 `json:"end"`
	Growth *int64 `json:"growth"`
	// PreviousGrowth is the same for the previous period.
	PreviousGrowth *int64 `json:"previous_growth"`
	// Series has one value per day of Days (nil: a gap).
	Series []*int64 `json:"series"`
}

// Overview is the figures of a unit's subtree over a period.
type Overview struct {
	Unit     string             `json:"unit"`
	UnitName string             `json:"unit_name"`
	Period   Period             `json:"period"`
	Previous Period             `json:"previous"`
	Days     []string           `json:"days"`
	Audience []PlatformAudience `json:"audience"`
	Posts    []Count            `json:"posts"` // published deliveries by platform
	// Engagement with the period's posts by platform, as last read, and
	// the most engaging posts.
	Engagement []Engagement `json:"engagement"`
	TopPosts   []TopPost    `json:"top_posts"`
	Inbound    []Count      `json:"inbound"` // messages by intent (nil: the caller may not read the inbox)
	Leads      []Count      `json:"leads"`   // leads created, by current state (nil: may not read leads)
}

// ParsePeriod reads a period in a time zone; empty from/to default to the
// 28 days ending today.
func ParsePeriod(from, to, tz string, now time.Time) (Period, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc, tz = time.UTC, "UTC"
	}
	today := now.In(loc)
	var f, t time.Time
	if to == "" {
		t = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	} else if t, err = time.ParseInLocation("2006-01-02", to, loc); err != nil {
		return Period{}, errs.Field("to", "%q is not a day (YYYY-MM-DD)", to)
	}
	if from == "" {
		f = t.AddDate(0, 0, -27)
	} else if f, err = time.ParseInLocation("2006-01-02", from, loc); err != nil {
		return Period{}, errs.Field("from", "%q is not a day (YYYY-MM-DD)", from)
	}
	if f.After(t) {
		return Period{}, errs.Field("from", "the period starts after it ends")
	}
	if t.Sub(f) > 800*24*time.Hour {
		return Period{}, errs.Field("from", "a period spans at most two years")
	}
	return Period{From: f.Format("2006-01-02"), To: t.Format("2006-01-02"), TimeZone: tz, start: f, end: t.AddDate(0, 0, 1)}, nil
}

// previous is the period of equal length just before p.
func (p Period) previous() Period {
	days := p.days()
	end := p.start
	start := end.AddDate(0, 0, -len(days))
	return Period{From: start.Format("2006-01-02"), To: end.AddDate(0, 0, -1).Format("2006-01-02"), TimeZone: p.TimeZone, start: start, end: end}
}

func (p Period) days() []string {
	var out []string
	for d := p.start; d.Before(p.end); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// Overview computes a unit subtree's figures for a period and the one
// before. The period's days are the unit's (its time zone) unless tz is
// given.
func (s *Service) Overview(ctx context.Context, p *access.Principal, unitKey, from, to, tz string) (Overview, error) {
	u, err := s.org.Unit(ctx, p, unitKey)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Overview{}, errs.Field("unit", "unit %q not found", unitKey)
		}
		return Overview{}, err
	}
	if tz == "" {
		tz = u.TimeZone
	}
	per, err := ParsePeriod(from, to, tz, s.now())
	if err != nil {
		return Overview{}, err
	}
	prev := per.previous()
	o := Overview{Unit: u.Key, UnitName: u.Name, Period: per, Previous: prev, Days: per.days()}
	if o.Audience, err = s.audience(ctx, u.Path, per, prev); err != nil {
		return Overview{}, err
	}
	if o.Posts, err = compare(ctx, u.Path, per, prev, s.store.PublishedByPlatform); err != nil {
		return Overview{}, err
	}
	if o.Engagement, err = s.engagement(ctx, u.Path, per, prev); err != nil {
		return Overview{}, err
	}
	if o.TopPosts, err = s.store.TopPosts(ctx, u.Path, per.start, per.end, 5); err != nil {
		return Overview{}, err
	}
	if o.TopPosts == nil {
		o.TopPosts = []TopPost{}
	}
	if p.Can(access.ReadInbox, u.Path) {
		if o.Inbound, err = compare(ctx, u.Path, per, prev, s.store.InboundByIntent); err != nil {
			return Overview{}, err
		}
	}
	if p.Can(access.ReadLeads, u.Path) {
		if o.Leads, err = compare(ctx, u.Path, per, prev, s.store.LeadsByState); err != nil {
			return Overview{}, err
		}
	}
	return o, nil
}

func compare(ctx context.Context, path string, per, prev Period, q func(context.Context, string, time.Time, time.Time) (map[string]int, error)) ([]Count, error) {
	cur, err := q(ctx, path, per.start, per.end)
	if err != nil {
		return nil, err
	}
	old, err := q(ctx, path, prev.start, prev.end)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range cur {
		keys[k] = true
	}
	for k := range old {
		keys[k] = true
	}
	out := []Count{}
	for k := range keys {
		out = append(out, Count{Key: k, Current: int64(cur[k]), Previous: int64(old[k])})
	}
	sortCounts(out)
	return out, nil
}

// sortCounts orders counts largest first, then by key.
func sortCounts(out []Count) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].Current != out[j].Current {
			return out[i].Current > out[j].Current
		}
		return out[i].Key < out[j].Key
	})
}

// audience builds each platform's daily series over the period (each
// channel's last reading carried forward up to seven days) and its growth
// now and in the previous period. A platform shows when one of its
// channels is known on a day of either period.
func (s *Service) audience(ctx context.Context, path string, per, prev Period) ([]PlatformAudience, error) {
	days := per.days()
	totals, err := s.store.AudienceSeries(ctx, path, per.From, per.To)
	if err != nil {
		return nil, err
	}
	before, err := s.store.AudiencePlatforms(ctx, path, prev.From, prev.To)
	if err != nil {
		return nil, err
	}
	growth, err := s.store.AudienceGrowth(ctx, path, per.From, per.To)
	if err != nil {
		return nil, err
	}
	prevGrowth, err := s.store.AudienceGrowth(ctx, path, prev.From, prev.To)
	if err != nil {
		return nil, err
	}
	byPlatform := map[string]*PlatformAudience{}
	platform := func(p string) *PlatformAudience {
		pa := byPlatform[p]
		if pa == nil {
			pa = &PlatformAudience{Platform: p, Series: make([]*int64, len(days))}
			byPlatform[p] = pa
		}
		return pa
	}
	index := make(map[string]int, len(days))
	for i, d := range days {
		index[d] = i
	}
	for _, t := range totals {
		if i, ok := index[t.Day]; ok {
			v := t.Followers
			platform(t.Platform).Series[i] = &v
		}
	}
	for _, p := range before {
		platform(p)
	}
	for p, g := range growth {
		platform(p).Growth = add(nil, g)
	}
	for p, g := range prevGrowth {
		platform(p).PreviousGrowth = add(nil, g)
	}
	out := make([]PlatformAudience, 0, len(byPlatform))
	for _, pa := range byPlatform {
		pa.Start, pa.End = pa.Series[0], pa.Series[len(pa.Series)-1]
		out = append(out, *pa)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Platform < out[j].Platform })
	return out, nil
}

func add(p *int64, v int64) *int64 {
	if p == nil {
		return &v
	}
	n := *p + v
	return &n
}

// DueDelivery is a published delivery whose next engagement reading is due.
type DueDelivery struct {
	DeliveryID     int64
	ChannelID      int64
	PlatformPostID string
	PublishedAt    time.Time
	Step           int // readings taken so far
}

// PostMetrics is one reading of a delivery's engagement.
type PostMetrics struct {
	Likes, Shares, Replies int64
	Impressions            int64 // -1: not reported
}

// Engagement is a platform's engagement with the posts published in a
// period, as last read.
type Engagement struct {
	Platform    string `json:"platform"`
	Posts       int64  `json:"posts"`        // published deliveries with a reading
	Likes       int64  `json:"likes"`        // reactions
	Shares      int64  `json:"shares"`       // reposts
	Replies     int64  `json:"replies"`      // comments
	Impressions int64  `json:"impressions"`  // where reported
	Rate        string `json:"rate"`         // engagements per impression, where impressions are known
	PerPost     string `json:"per_post"`     // engagements per post
	Previous    int64  `json:"previous_sum"` // engagements in the period before
}

// TopPost is one of a period's most engaging deliveries.
type TopPost struct {
	PostID      int64     `json:"post"`
	Channel     string    `json:"channel"`
	Platform    string    `json:"platform"`
	URL         string    `json:"url"`
	Text        string    `json:"text"`
	PublishedAt time.Time `json:"published_at"`
	Engagements int64     `json:"engagements"`
}

// engagement sums the period's readings by platform, with rates, and the
// previous period's total per platform for comparison.
func (s *Service) engagement(ctx context.Context, path string, per, prev Period) ([]Engagement, error) {
	cur, err := s.store.EngagementByPlatform(ctx, path, per.start, per.end)
	if err != nil {
		return nil, err
	}
	old, err := s.store.EngagementByPlatform(ctx, path, prev.start, prev.end)
	if err != nil {
		return nil, err
	}
	before := map[string]int64{}
	for _, e := range old {
		before[e.Platform] = e.Likes + e.Shares + e.Replies
	}
	out := []Engagement{}
	for _, e := range cur {
		total := e.Likes + e.Shares + e.Replies
		if e.Impressions > 0 {
			e.Rate = fmt.Sprintf("%.2f%%", 100*float64(total)/float64(e.Impressions))
		}
		if e.Posts > 0 {
			e.PerPost = fmt.Sprintf("%.1f", float64(total)/float64(e.Posts))
		}
		e.Previous = before[e.Platform]
		out = append(out, e)
	}
	return out, nil
}

// Bounds are the period's first instant and the instant after its end.
func (p Period) Bounds() (time.Time, time.Time) { return p.start, p.end }
