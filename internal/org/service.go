package org

import (
	"context"
	"sort"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Store is what the directory needs from the database; internal/store
// implements it.
type Store interface {
	Units(ctx context.Context, scope []string) ([]Unit, error)
	UnitByKey(ctx context.Context, key string) (Unit, error)
	UnitByID(ctx context.Context, id int64) (Unit, error)
	CreateUnit(ctx context.Context, u *Unit, parent *Unit) error
	UpdateUnit(ctx context.Context, u *Unit) error
	MoveUnit(ctx context.Context, u *Unit, parent *Unit) error
	DeleteUnit(ctx context.Context, u Unit) error
	Channels(ctx context.Context, scope []string, f ChannelFilter, unitPath string) ([]Channel, int, error)
	ChannelByID(ctx context.Context, id int64) (Channel, error)
	ChannelByAccount(ctx context.Context, platform, accountKey string) (Channel, bool, error)
	CreateChannel(ctx context.Context, c *Channel) error
	UpdateChannel(ctx context.Context, c *Channel) error
	DeleteChannel(ctx context.Context, id int64) error
	AddAudience(ctx context.Context, channelID int64, points []AudiencePoint) error
	Audience(ctx context.Context, channelID int64) ([]AudiencePoint, error)
	PlatformStatuses(ctx context.Context) (map[string]string, error)
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// Service is the directory's use cases. Every method takes the caller and
// checks its scope: an object outside what the caller may read answers
// NotFound, as if it did not exist; one it may read but not change answers
// Forbidden.
type Service struct {
	store Store
	inTx  func(ctx context.Context, fn func(Store) error) error
}

// NewService makes the directory service over a store; inTx runs a
// function in one transaction of that store (for all-or-nothing imports).
func NewService(st Store, inTx func(ctx context.Context, fn func(Store) error) error) *Service {
	return &Service{store: st, inTx: inTx}
}

// Tree lists the units the caller may read, depth first, children by name.
func (s *Service) Tree(ctx context.Context, p *access.Principal) ([]Unit, error) {
	list, err := s.store.Units(ctx, p.Scope(access.ReadDirectory))
	if err != nil {
		return nil, err
	}
	return depthFirst(list), nil
}

// depthFirst orders units so that each is followed by its subtree, siblings
// by name. Units whose parent is not in the list are roots of the view.
func depthFirst(list []Unit) []Unit {
	byParent := map[int64][]Unit{}
	present := map[int64]bool{}
	for _, u := range list {
		present[u.ID] = true
	}
	var roots []Unit
	for _, u := range list {
		if u.ParentID != 0 && present[u.ParentID] {
			byParent[u.ParentID] = append(byParent[u.ParentID], u)
		} else {
			roots = append(roots, u)
		}
	}
	out := make([]Unit, 0, len(list))
	var walk func([]Unit)
	walk = func(us []Unit) {
		sort.SliceStable(us, func(i, j int) bool { return us[i].Name < us[j].Name })
		for _, u := range us {
			out = append(out, u)
			walk(byParent[u.ID])
		}
	}
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].Path < roots[j].Path })
	walk(roots)
	return out
}

// Unit returns one unit the caller may read.
func (s *Service) Unit(ctx context.Context, p *access.Principal, key string) (Unit, error) {
	u, err := s.store.UnitByKey(ctx, key)
	if err != nil {
		return u, err
	}
	if !p.Can(access.ReadDirectory, u.Path) {
		return Unit{}, errs.E(errs.NotFound, "unit %q not found", key)
	}
	return u, nil
}

// unitFor loads a unit the caller may read and checks it may also manage it.
func (s *Service) unitFor(ctx context.Context, p *access.Principal, key string, perm access.Permission) (Unit, error) {
	u, err := s.Unit(ctx, p, key)
	if err != nil {
		return u, err
	}
	if !p.Can(perm, u.Path) {
		return Unit{}, errs.E(errs.Forbidden, "you may not change unit %q", key)
	}
	return u, nil
}

// UnitInput is a new unit.
type UnitInput struct {
	Key       string   `json:"key"`
	Name      string   `json:"name"`
	Kind      Kind     `json:"kind"`
	Parent    string   `json:"parent"`
	Country   string   `json:"country"`
	Languages []string `json:"languages"`
	TimeZone  string   `json:"time_zone"`
}

// CreateUnit adds a unit under a parent the caller manages. A root unit
// (no parent) only the system may create.
func (s *Service) CreateUnit(ctx context.Context, p *access.Principal, in UnitInput) (Unit, error) {
	u := Unit{Key: strings.TrimSpace(in.Key), Name: in.Name, Kind: in.Kind, Country: in.Country, Languages: in.Languages, TimeZone: in.TimeZone}
	if !ValidKey(u.Key) {
		return Unit{}, errs.Field("key", "%q is not a unit key: use 1 to 63 lower-case letters, digits and hyphens", in.Key)
	}
	if err := validateUnitFields(&u); err != nil {
		return Unit{}, err
	}
	var parent *Unit
	if in.Parent != "" {
		pu, err := s.unitFor(ctx, p, in.Parent, access.ManageDirectory)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return Unit{}, errs.Field("parent", "unit %q not found", in.Parent)
			}
			return Unit{}, err
		}
		parent = &pu
	} else if !p.System {
		return Unit{}, errs.Field("parent", "a unit needs a parent unit")
	}
	if _, err := s.store.UnitByKey(ctx, u.Key); err == nil {
		return Unit{}, errs.E(errs.Conflict, "unit key %q is taken", u.Key)
	}
	if err := s.store.CreateUnit(ctx, &u, parent); err != nil {
		return Unit{}, err
	}
	return u, nil
}

// UnitPatch changes some of a unit's fields; nil fields stay as they are.
type UnitPatch struct {
	Name      *string   `json:"name"`
	Kind      *Kind     `json:"kind"`
	Country   *string   `json:"country"`
	Languages *[]string `json:"languages"`
	TimeZone  *string   `json:"time_zone"`
}

// UpdateUnit changes a unit the caller manages.
func (s *Service) UpdateUnit(ctx context.Context, p *access.Principal, key string, patch UnitPatch) (Unit, error) {
	u, err := s.unitFor(ctx, p, key, access.ManageDirectory)
	if err != nil {
		return u, err
	}
	if patch.Name != nil {
		u.Name = *patch.Name
	}
	if patch.Kind != nil {
		u.Kind = *patch.Kind
	}
	if patch.Country != nil {
		u.Country = *patch.Country
	}
	if patch.Languages != nil {
		u.Languages = *patch.Languages
	}
	if patch.TimeZone != nil {
		u.TimeZone = *patch.TimeZone
	}
	if err := validateUnitFields(&u); err != nil {
		return Unit{}, err
	}
	if err := s.store.UpdateUnit(ctx, &u); err != nil {
		return Unit{}, err
	}
	return u, nil
}

// MoveUnit puts a unit and its subtree under another parent. The caller
// must manage the unit's current parent and the new one, so that nobody
// moves a subtree out of, or into, a part of the tree they don't run.
func (s *Service) MoveUnit(ctx context.Context, p *access.Principal, key, newParent string) (Unit, error) {
	u, err := s.Unit(ctx, p, key)
	if err != nil {
		return u, err
	}
	if err := s.mayManageParentOf(ctx, p, u); err != nil {
		return Unit{}, err
	}
	if newParent == "" {
		return Unit{}, errs.Field("parent", "name the new parent unit")
	}
	np, err := s.unitFor(ctx, p, newParent, access.ManageDirectory)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Unit{}, errs.Field("parent", "unit %q not found", newParent)
		}
		return Unit{}, err
	}
	if strings.HasPrefix(np.Path, u.Path) {
		return Unit{}, errs.Field("parent", "unit %q can't move into its own subtree (%q)", key, newParent)
	}
	if np.ID == u.ParentID {
		return u, nil
	}
	if err := s.store.MoveUnit(ctx, &u, &np); err != nil {
		return Unit{}, err
	}
	return s.store.UnitByKey(ctx, key)
}

func (s *Service) mayManageParentOf(ctx context.Context, p *access.Principal, u Unit) error {
	if u.ParentID == 0 {
		if !p.System {
			return errs.E(errs.Forbidden, "only the system may move or delete the root unit %q", u.Key)
		}
		return nil
	}
	parent, err := s.store.UnitByID(ctx, u.ParentID)
	if err != nil {
		return err
	}
	if !p.Can(access.ManageDirectory, parent.Path) {
		return errs.E(errs.Forbidden, "you may not move or delete unit %q: you don't manage its parent %q", u.Key, parent.Key)
	}
	return nil
}

// DeleteUnit deletes a unit without children or channels.
func (s *Service) DeleteUnit(ctx context.Context, p *access.Principal, key string) error {
	u, err := s.Unit(ctx, p, key)
	if err != nil {
		return err
	}
	if err := s.mayManageParentOf(ctx, p, u); err != nil {
		return err
	}
	return s.store.DeleteUnit(ctx, u)
}

// Channels lists the channels the caller may read that pass the filter,
// with the total before paging. Filtering by a unit includes its subtree.
func (s *Service) Channels(ctx context.Context, p *access.Principal, f ChannelFilter) ([]Channel, int, error) {
	unitPath := ""
	if f.Unit != "" {
		u, err := s.Unit(ctx, p, f.Unit)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, 0, errs.Field("unit", "unit %q not found", f.Unit)
			}
			return nil, 0, err
		}
		unitPath = u.Path
	}
	if f.Platform != "" {
		pl, ok := PlatformByKey(f.Platform)
		if !ok {
			return nil, 0, errs.Field("platform", "unknown platform %q (one of %s)", f.Platform, PlatformKeys())
		}
		f.Platform = pl.Key
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, errs.Field("status", "%q is not a channel status (active, paused or retired)", f.Status)
	}
	if f.Limit < 0 || f.Offset < 0 {
		return nil, 0, errs.Field("limit", "limit and offset can't be negative")
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	return s.store.Channels(ctx, p.Scope(access.ReadDirectory), f, unitPath)
}

// Channel returns one channel the caller may read.
func (s *Service) Channel(ctx context.Context, p *access.Principal, id int64) (Channel, error) {
	c, err := s.store.ChannelByID(ctx, id)
	if err != nil {
		return c, err
	}
	if !p.Can(access.ReadDirectory, c.UnitPath) {
		return Channel{}, errs.E(errs.NotFound, "channel %d not found", id)
	}
	return c, nil
}

func (s *Service) channelFor(ctx context.Context, p *access.Principal, id int64) (Channel, error) {
	c, err := s.Channel(ctx, p, id)
	if err != nil {
		return c, err
	}
	if !p.Can(access.ManageDirectory, c.UnitPath) {
		return Channel{}, errs.E(errs.Forbidden, "you may not change channel %d", id)
	}
	return c, nil
}

// ChannelInput is a new channel.
type ChannelInput struct {
	Unit     string `json:"unit"`
	Platform string `json:"platform"`
	URL      string `json:"url"`
	Handle   string `json:"handle"`
	Name     string `json:"name"`
	Status   Status `json:"status"`
	Notes    string `json:"notes"`
}

// CreateChannel registers a channel on a unit the caller manages. The same
// platform account twice is a Conflict naming the existing channel.
func (s *Service) CreateChannel(ctx context.Context, p *access.Principal, in ChannelInput) (Channel, error) {
	if in.Unit == "" {
		return Channel{}, errs.Field("unit", "a channel needs a unit")
	}
	u, err := s.unitFor(ctx, p, in.Unit, access.ManageDirectory)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Channel{}, errs.Field("unit", "unit %q not found", in.Unit)
		}
		return Channel{}, err
	}
	c := Channel{UnitID: u.ID, Unit: u.Key, UnitName: u.Name, UnitPath: u.Path, Platform: in.Platform, GivenURL: in.URL,
		Handle: in.Handle, Name: in.Name, Status: in.Status, Notes: in.Notes}
	if err := prepareChannel(&c, u.Name); err != nil {
		return Channel{}, err
	}
	if err := s.checkUnique(ctx, p, c); err != nil {
		return Channel{}, err
	}
	if err := s.store.CreateChannel(ctx, &c); err != nil {
		return Channel{}, err
	}
	return c, nil
}

// checkUnique refuses a second channel for the same platform account. The
// answer names the existing channel where the caller may see it; where it
// may not, it says only that the account is registered (no leak of what
// another unit runs, but no silent duplicate either).
func (s *Service) checkUnique(ctx context.Context, p *access.Principal, c Channel) error {
	existing, found, err := s.store.ChannelByAccount(ctx, c.Platform, c.AccountKey)
	if err != nil || !found || existing.ID == c.ID {
		return err
	}
	if p.Can(access.ReadDirectory, existing.UnitPath) {
		return &errs.Error{Code: errs.Conflict, Field: "url",
			Message: "this " + c.Platform + " account is already registered as channel " + itoa(existing.ID) + " (" + existing.Name + " of unit " + existing.Unit + ")"}
	}
	return &errs.Error{Code: errs.Conflict, Field: "url", Message: "this " + c.Platform + " account is already registered by another unit"}
}

// ChannelPatch changes some of a channel's fields; nil fields stay.
type ChannelPatch struct {
	Unit     *string `json:"unit"`
	Platform *string `json:"platform"`
	URL      *string `json:"url"`
	Handle   *string `json:"handle"`
	Name     *string `json:"name"`
	Status   *Status `json:"status"`
	Notes    *string `json:"notes"`
}

// UpdateChannel changes a channel the caller manages; moving it to another
// unit needs the right to manage that unit too.
func (s *Service) UpdateChannel(ctx context.Context, p *access.Principal, id int64, patch ChannelPatch) (Channel, error) {
	c, err := s.channelFor(ctx, p, id)
	if err != nil {
		return c, err
	}
	unitName := c.UnitName
	if patch.Unit != nil && *patch.Unit != c.Unit {
		u, err := s.unitFor(ctx, p, *patch.Unit, access.ManageDirectory)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return Channel{}, errs.Field("unit", "unit %q not found", *patch.Unit)
			}
			return Channel{}, err
		}
		c.UnitID, c.Unit, c.UnitName, c.UnitPath, unitName = u.ID, u.Key, u.Name, u.Path, u.Name
	}
	if patch.Platform != nil {
		c.Platform = *patch.Platform
	}
	if patch.URL != nil || patch.Handle != nil || patch.Platform != nil {
		// The account is recognised anew from what is given now.
		if patch.URL != nil {
			c.GivenURL = *patch.URL
		}
		if patch.Handle != nil {
			c.Handle = *patch.Handle
		} else if patch.URL != nil && *patch.URL != "" {
			c.Handle = ""
		}
	}
	if patch.Name != nil {
		c.Name = *patch.Name
	}
	if patch.Status != nil {
		c.Status = *patch.Status
	}
	if patch.Notes != nil {
		c.Notes = *patch.Notes
	}
	if err := prepareChannel(&c, unitName); err != nil {
		return Channel{}, err
	}
	if err := s.checkUnique(ctx, p, c); err != nil {
		return Channel{}, err
	}
	if err := s.store.UpdateChannel(ctx, &c); err != nil {
		return Channel{}, err
	}
	return c, nil
}

// RetireChannel marks a channel retired: it stays in the directory and its
// history, but no longer shows on the public hub or takes posts.
func (s *Service) RetireChannel(ctx context.Context, p *access.Principal, id int64) (Channel, error) {
	st := StatusRetired
	return s.UpdateChannel(ctx, p, id, ChannelPatch{Status: &st})
}

// DeleteChannel removes a channel and its audience history.
func (s *Service) DeleteChannel(ctx context.Context, p *access.Principal, id int64) error {
	c, err := s.channelFor(ctx, p, id)
	if err != nil {
		return err
	}
	return s.store.DeleteChannel(ctx, c.ID)
}

// Audience returns a channel's follower history.
func (s *Service) Audience(ctx context.Context, p *access.Principal, id int64) ([]AudiencePoint, error) {
	c, err := s.Channel(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.store.Audience(ctx, c.ID)
}

// AddAudience records follower counts for a channel the caller manages.
func (s *Service) AddAudience(ctx context.Context, p *access.Principal, id int64, points []AudiencePoint) error {
	c, err := s.channelFor(ctx, p, id)
	if err != nil {
		return err
	}
	if len(points) == 0 {
		return errs.Field("points", "no audience points given")
	}
	for i, pt := range points {
		if !validDay(pt.Day) {
			return errs.Field("points["+itoa(int64(i))+"].day", "%q is not a day (YYYY-MM-DD)", pt.Day)
		}
		if pt.Followers < 0 {
			return errs.Field("points["+itoa(int64(i))+"].followers", "followers can't be negative")
		}
	}
	return s.store.AddAudience(ctx, c.ID, points)
}

// PlatformList returns the platforms with their stored status.
func (s *Service) PlatformList(ctx context.Context) ([]Platform, error) {
	st, err := s.store.PlatformStatuses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Platform, len(Platforms))
	for i, p := range Platforms {
		out[i] = *p
		if v, ok := st[p.Key]; ok {
			out[i].Status = v
		}
	}
	return out, nil
}
