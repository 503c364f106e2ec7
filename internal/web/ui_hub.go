package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/org"
)

// uiHubLink is a channel as the public sees it: no notes, no ids, no
// internal state; only what a visitor needs to find the account.
type uiHubLink struct {
	Name   string
	Unit   string // the unit's name when it is not the brand itself
	URL    string
	Handle string
}

type uiHubPlatform struct {
	Platform string
	Name     string
	Links    []uiHubLink
}

type uiHubBrand struct {
	Key       string // the unit's key, for the section's anchor
	Name      string
	Kind      org.Kind
	Platforms []uiHubPlatform
	Count     int
}

type uiHubData struct {
	uiPage
	Organisation string
	Brands       []uiHubBrand
}

// uiHubHidden are platforms that are no place for the public to find a
// brand: the simulator stands in for a network in the demo and in tests.
var uiHubHidden = map[string]bool{"simulator": true}

// uiHub is the public "where to find us" page: each brand (and the group
// itself) with the active channels of its subtree, by platform, the way
// the interview lists them. It reads as the system, because the public has
// no grants, and filters to what is public: active channels on platforms
// that still exist.
func (s *Server) uiHub(w http.ResponseWriter, r *http.Request) {
	r = s.uiOptionalPrincipal(r)
	ctx := r.Context()
	sys := access.SystemPrincipal()
	tree, err := s.Org.Tree(ctx, sys)
	if err != nil {
		s.uiError(w, r, err)
		return
	}
	channels, _, err := s.Org.Channels(ctx, sys, org.ChannelFilter{Status: org.StatusActive})
	if err != nil {
		s.uiError(w, r, err)
		return
	}
	platforms, err := s.Org.PlatformList(ctx)
	if err != nil {
		s.uiError(w, r, err)
		return
	}
	retired := map[string]bool{}
	for _, p := range platforms {
		if p.Status != "active" {
			retired[p.Key] = true
		}
	}

	// Each channel belongs to its nearest brand-or-group ancestor, so the
	// group's section holds what no brand holds (careers, the museum) and
	// a brand's holds its sub-brands, topics, markets and dealers.
	byID := map[int64]org.Unit{}
	for _, u := range tree {
		byID[u.ID] = u
	}
	home := func(u org.Unit) (org.Unit, bool) {
		for {
			if u.Kind == org.KindBrand || u.Kind == org.KindGroup {
				return u, true
			}
			parent, ok := byID[u.ParentID]
			if !ok {
				return u, false
			}
			u = parent
		}
	}
	perHome := map[int64][]org.Channel{}
	for _, c := range channels {
		if c.Status != org.StatusActive || retired[c.Platform] || uiHubHidden[c.Platform] {
			continue
		}
		h, ok := home(byID[c.UnitID])
		if !ok {
			continue
		}
		perHome[h.ID] = append(perHome[h.ID], c)
	}

	d := uiHubData{uiPage: s.uiBase(r, "Where to find us", "hub")}
	// The brands first, then the group, as the interview answers: the
	// brands' pages, then the group's own. Brands in the order they were
	// entered (the map's order), not by name.
	units := append([]org.Unit(nil), tree...)
	sort.SliceStable(units, func(i, j int) bool { return units[i].ID < units[j].ID })
	var groups []uiHubBrand
	for _, u := range units {
		if u.Kind != org.KindBrand && u.Kind != org.KindGroup {
			continue
		}
		cs := perHome[u.ID]
		if len(cs) == 0 {
			continue
		}
		b := uiHubBrand{Key: u.Key, Name: u.Name, Kind: u.Kind, Count: len(cs)}
		for _, g := range uiGroupByPlatform(cs) {
			hp := uiHubPlatform{Platform: g.Platform, Name: g.Name}
			for _, c := range g.Channels {
				l := uiHubLink{Name: c.Name, URL: c.URL, Handle: c.Handle}
				if c.UnitID != u.ID && !strings.Contains(c.Name, c.UnitName) {
					l.Unit = c.UnitName
				}
				hp.Links = append(hp.Links, l)
			}
			b.Platforms = append(b.Platforms, hp)
		}
		if u.Kind == org.KindGroup {
			d.Organisation = u.Name
			groups = append(groups, b)
		} else {
			d.Brands = append(d.Brands, b)
		}
	}
	d.Brands = append(d.Brands, groups...)
	if principalOf(r) == nil {
		// The anonymous page is the same for everyone: let browsers and
		// proxies keep it a minute.
		w.Header().Set("Cache-Control", "public, max-age=60")
	}
	w.Header().Add("Vary", "Cookie")
	s.uiRender(w, r, http.StatusOK, "hub", d)
}
