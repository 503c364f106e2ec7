package analytics

import (
	"context"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Reach is a campaign's published deliveries and their engagement, for
// one platform or one unit.
type Reach struct {
	Key         string `json:"key"` // platform, or unit key
	Name        string `json:"name,omitempty"`
	Posts       int64  `json:"posts"`
	Likes       int64  `json:"likes"`
	Shares      int64  `json:"shares"`
	Replies     int64  `json:"replies"`
	Impressions int64  `json:"impressions"`
}

// TakeUp is a market's or dealer's post that took up an offered campaign
// post.
type TakeUp struct {
	Unit        string     `json:"unit"`
	UnitName    string     `json:"unit_name"`
	PostID      int64      `json:"post"`
	PublishedAt *time.Time `json:"published_at"` // first delivery published, if any
}

// CampaignInfo is what the report needs of the campaign itself.
type CampaignInfo struct {
	ID       int64
	Name     string
	UnitKey  string
	UnitPath string
}

// CampaignReport is a campaign's reach and what came of it.
type CampaignReport struct {
	Campaign   int64    `json:"campaign"`
	Name       string   `json:"name"`
	Unit       string   `json:"unit"`
	ByPlatform []Reach  `json:"by_platform"`
	ByUnit     []Reach  `json:"by_unit"`
	TakenUp    []TakeUp `json:"taken_up"`
	// Inbound counts the messages that answer the campaign's posts, by
	// intent; Leads the leads those messages made or fed, by state now.
	Inbound []Count `json:"inbound"`
	Leads   []Count `json:"leads"`
}

// CampaignStore reads a campaign's figures. A campaign's posts are the
// posts in it and the posts that took those up.
type CampaignStore interface {
	CampaignInfo(ctx context.Context, id int64) (CampaignInfo, error)
	// CampaignReach answers by platform and by the channel's unit.
	CampaignReach(ctx context.Context, id int64) (byPlatform, byUnit []Reach, err error)
	CampaignTakeUp(ctx context.Context, id int64) ([]TakeUp, error)
	CampaignInbound(ctx context.Context, id int64) (map[string]int, error)
	CampaignLeads(ctx context.Context, id int64) (map[string]int, error)
}

// Campaign reports on a campaign the caller may read.
func (s *Service) Campaign(ctx context.Context, p *access.Principal, id int64) (CampaignReport, error) {
	cs, ok := s.store.(CampaignStore)
	if !ok {
		return CampaignReport{}, errs.E(errs.Unavailable, "campaign reports are not available")
	}
	c, err := cs.CampaignInfo(ctx, id)
	if err != nil {
		return CampaignReport{}, err
	}
	if !p.Can(access.ReadDirectory, c.UnitPath) {
		return CampaignReport{}, errs.E(errs.NotFound, "campaign %d not found", id)
	}
	r := CampaignReport{Campaign: c.ID, Name: c.Name, Unit: c.UnitKey}
	if r.ByPlatform, r.ByUnit, err = cs.CampaignReach(ctx, id); err != nil {
		return CampaignReport{}, err
	}
	if r.TakenUp, err = cs.CampaignTakeUp(ctx, id); err != nil {
		return CampaignReport{}, err
	}
	if p.Can(access.ReadInbox, c.UnitPath) {
		m, err := cs.CampaignInbound(ctx, id)
		if err != nil {
			return CampaignReport{}, err
		}
		r.Inbound = counts(m)
	}
	if p.Can(access.ReadLeads, c.UnitPath) {
		m, err := cs.CampaignLeads(ctx, id)
		if err != nil {
			return CampaignReport{}, err
		}
		r.Leads = counts(m)
	}
	for _, l := range []*[]Reach{&r.ByPlatform, &r.ByUnit} {
		if *l == nil {
			*l = []Reach{}
		}
	}
	if r.TakenUp == nil {
		r.TakenUp = []TakeUp{}
	}
	return r, nil
}

func counts(m map[string]int) []Count {
	out := []Count{}
	for k, v := range m {
		out = append(out, Count{Key: k, Current: int64(v)})
	}
	sortCounts(out)
	return out
}
