package org

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Map is an organisation map: the unit tree and the channels, in the
// format of the demo organisation's group-channels.yaml.
type Map struct {
	Organisation string       `yaml:"organisation,omitempty"`
	Units        []*MapUnit   `yaml:"units"`
	Channels     []MapChannel `yaml:"channels"`
}

// MapUnit is a unit with its children. Parent is only for top-level
// entries that hang below a unit already in the store.
type MapUnit struct {
	Key       string     `yaml:"key"`
	Name      string     `yaml:"name"`
	Kind      Kind       `yaml:"kind"`
	Parent    string     `yaml:"parent,omitempty"`
	Country   string     `yaml:"country,omitempty"`
	Languages []string   `yaml:"languages,omitempty,flow"`
	TimeZone  string     `yaml:"time_zone,omitempty"`
	Children  []*MapUnit `yaml:"children,omitempty"`
	line      int
}

// MapChannel is a channel entry. URL is canonical on export; URLAsGiven
// keeps the address as first given when it differs, so a round trip loses
// nothing.
type MapChannel struct {
	Unit       string `yaml:"unit"`
	Platform   string `yaml:"platform"`
	URL        string `yaml:"url,omitempty"`
	URLAsGiven string `yaml:"url_as_given,omitempty"`
	Handle     string `yaml:"handle,omitempty"`
	Name       string `yaml:"name,omitempty"`
	Status     Status `yaml:"status,omitempty"`
	Note       string `yaml:"note,omitempty"`
	line       int
}

// ParseMap reads an organisation map. Errors name the file and line.
func ParseMap(name string, r io.Reader) (*Map, error) {
	data, err := io.ReadAll(io.LimitReader(r, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errs.Field(name, "not a valid YAML file: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, errs.Field(name, "the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, lineErr(name, root, "the file must be a mapping with organisation, units and channels")
	}
	m := &Map{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "organisation":
			m.Organisation = v.Value
		case "units":
			if v.Kind != yaml.SequenceNode {
				return nil, lineErr(name, v, "units must be a list")
			}
			for _, n := range v.Content {
				u, err := parseUnit(name, n)
				if err != nil {
					return nil, err
				}
				m.Units = append(m.Units, u)
			}
		case "channels":
			if v.Kind != yaml.SequenceNode {
				return nil, lineErr(name, v, "channels must be a list")
			}
			for _, n := range v.Content {
				var c MapChannel
				if err := decodeStrict(name, n, &c, "unit", "platform", "url", "url_as_given", "handle", "name", "status", "note", "notes"); err != nil {
					return nil, err
				}
				if c.Note == "" {
					c.Note = stringField(n, "notes")
				}
				c.line = n.Line
				m.Channels = append(m.Channels, c)
			}
		default:
			return nil, lineErr(name, k, "unknown field %q (expected organisation, units, channels)", k.Value)
		}
	}
	return m, nil
}

func parseUnit(name string, n *yaml.Node) (*MapUnit, error) {
	var u MapUnit
	if err := decodeStrict(name, n, &u, "key", "name", "kind", "parent", "country", "languages", "time_zone", "children"); err != nil {
		return nil, err
	}
	u.Children = nil
	u.line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "children" {
			continue
		}
		list := n.Content[i+1]
		if list.Kind != yaml.SequenceNode {
			return nil, lineErr(name, list, "children must be a list")
		}
		for _, cn := range list.Content {
			c, err := parseUnit(name, cn)
			if err != nil {
				return nil, err
			}
			if c.Parent != "" {
				return nil, lineErr(name, cn, "a child unit takes its parent from where it stands; remove parent")
			}
			u.Children = append(u.Children, c)
		}
	}
	return &u, nil
}

// decodeStrict decodes a mapping node into v after checking that it names
// only the allowed fields.
func decodeStrict(name string, n *yaml.Node, v any, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		return lineErr(name, n, "expected a mapping (key: value, …)")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			if k.Value == a {
				ok = true
			}
		}
		if !ok {
			return lineErr(name, k, "unknown field %q (expected one of %s)", k.Value, strings.Join(allowed, ", "))
		}
	}
	if err := n.Decode(v); err != nil {
		return lineErr(name, n, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

func stringField(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func lineErr(name string, n *yaml.Node, format string, args ...any) error {
	return errs.Field(fmt.Sprintf("%s:%d", name, n.Line), format, args...)
}

// ImportResult counts what an import did.
type ImportResult struct {
	UnitsCreated, UnitsUpdated, UnitsUnchanged          int
	ChannelsCreated, ChannelsUpdated, ChannelsUnchanged int
}

// Changed reports whether the import changed anything.
func (r ImportResult) Changed() bool {
	return r.UnitsCreated+r.UnitsUpdated+r.ChannelsCreated+r.ChannelsUpdated > 0
}

func (r ImportResult) String() string {
	return fmt.Sprintf("units: %d created, %d updated, %d unchanged; channels: %d created, %d updated, %d unchanged",
		r.UnitsCreated, r.UnitsUpdated, r.UnitsUnchanged, r.ChannelsCreated, r.ChannelsUpdated, r.ChannelsUnchanged)
}

// Import applies a map: units and channels are created or brought in line
// with the file, matched by unit key and by platform account. Nothing is
// deleted. It is all or nothing: the first bad entry fails the whole import
// with file:line and the reason, and the store is left as it was. The
// caller must manage every unit the file touches.
func (s *Service) Import(ctx context.Context, p *access.Principal, name string, m *Map) (ImportResult, error) {
	var res ImportResult
	err := s.inTx(ctx, func(st Store) error {
		tx := &Service{store: st, inTx: s.inTx}
		res = ImportResult{}
		seenKeys := map[string]int{}
		var walk func(u *MapUnit, parent *Unit) error
		walk = func(mu *MapUnit, parent *Unit) error {
			where := fmt.Sprintf("%s:%d", name, mu.line)
			if prev, dup := seenKeys[mu.Key]; dup {
				return errs.Field(where, "unit key %q appears twice (first at line %d)", mu.Key, prev)
			}
			seenKeys[mu.Key] = mu.line
			u, err := tx.importUnit(ctx, p, mu, parent, &res)
			if err != nil {
				return atLine(where, err)
			}
			for _, c := range mu.Children {
				if err := walk(c, &u); err != nil {
					return err
				}
			}
			return nil
		}
		for _, mu := range m.Units {
			var parent *Unit
			if mu.Parent != "" {
				pu, err := tx.Unit(ctx, p, mu.Parent)
				if err != nil {
					return errs.Field(fmt.Sprintf("%s:%d", name, mu.line), "parent unit %q not found", mu.Parent)
				}
				parent = &pu
			}
			if err := walk(mu, parent); err != nil {
				return err
			}
		}
		seenAccounts := map[string]int{}
		for _, mc := range m.Channels {
			where := fmt.Sprintf("%s:%d", name, mc.line)
			key, err := tx.importChannel(ctx, p, mc, &res)
			if err != nil {
				return atLine(where, err)
			}
			if prev, dup := seenAccounts[key]; dup {
				return errs.Field(where, "the same %s account appears twice (first at line %d)", mc.Platform, prev)
			}
			seenAccounts[key] = mc.line
		}
		if m.Organisation != "" && p.System {
			if cur, err := st.Setting(ctx, "organisation"); err != nil {
				return err
			} else if cur != m.Organisation {
				return st.SetSetting(ctx, "organisation", m.Organisation)
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// atLine puts the file position in front of an error's field.
func atLine(where string, err error) error {
	e, ok := err.(*errs.Error)
	if !ok {
		return err
	}
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return &errs.Error{Code: errs.Invalid, Field: where, Message: msg}
}

func (s *Service) importUnit(ctx context.Context, p *access.Principal, mu *MapUnit, parent *Unit, res *ImportResult) (Unit, error) {
	want := Unit{Key: mu.Key, Name: mu.Name, Kind: mu.Kind, Country: mu.Country, Languages: mu.Languages, TimeZone: mu.TimeZone}
	if !ValidKey(want.Key) {
		return Unit{}, errs.Field("key", "%q is not a unit key: use 1 to 63 lower-case letters, digits and hyphens", mu.Key)
	}
	if err := validateUnitFields(&want); err != nil {
		return Unit{}, err
	}
	cur, err := s.store.UnitByKey(ctx, want.Key)
	if errs.Is(err, errs.NotFound) {
		parentKey := ""
		if parent != nil {
			parentKey = parent.Key
		}
		u, err := s.CreateUnit(ctx, p, UnitInput{Key: want.Key, Name: want.Name, Kind: want.Kind, Parent: parentKey,
			Country: want.Country, Languages: want.Languages, TimeZone: want.TimeZone})
		if err == nil {
			res.UnitsCreated++
		}
		return u, err
	}
	if err != nil {
		return Unit{}, err
	}
	if !p.Can(access.ManageDirectory, cur.Path) {
		return Unit{}, errs.E(errs.Forbidden, "you may not change unit %q", cur.Key)
	}
	changed := false
	if cur.Name != want.Name || cur.Kind != want.Kind || cur.Country != want.Country ||
		strings.Join(cur.Languages, ",") != strings.Join(want.Languages, ",") || cur.TimeZone != want.TimeZone {
		cur.Name, cur.Kind, cur.Country, cur.Languages, cur.TimeZone = want.Name, want.Kind, want.Country, want.Languages, want.TimeZone
		if err := s.store.UpdateUnit(ctx, &cur); err != nil {
			return Unit{}, err
		}
		changed = true
	}
	wantParent := int64(0)
	if parent != nil {
		wantParent = parent.ID
	}
	if cur.ParentID != wantParent && parent != nil {
		if _, err := s.MoveUnit(ctx, p, cur.Key, parent.Key); err != nil {
			return Unit{}, err
		}
		if cur, err = s.store.UnitByKey(ctx, cur.Key); err != nil {
			return Unit{}, err
		}
		changed = true
	}
	if changed {
		res.UnitsUpdated++
	} else {
		res.UnitsUnchanged++
	}
	return cur, nil
}

// importChannel creates or updates one channel and returns its account's
// identity (platform/key) for duplicate detection within the file.
func (s *Service) importChannel(ctx context.Context, p *access.Principal, mc MapChannel, res *ImportResult) (string, error) {
	if mc.Unit == "" {
		return "", errs.Field("unit", "a channel needs a unit")
	}
	u, err := s.Unit(ctx, p, mc.Unit)
	if err != nil {
		return "", errs.Field("unit", "unit %q not found", mc.Unit)
	}
	given := mc.URL
	if mc.URLAsGiven != "" {
		given = mc.URLAsGiven
	}
	want := Channel{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path, Platform: mc.Platform, GivenURL: given, Handle: mc.Handle,
		Name: mc.Name, Status: mc.Status, Notes: mc.Note}
	if err := prepareChannel(&want, u.Name); err != nil {
		return "", err
	}
	id := want.Platform + "/" + want.AccountKey
	cur, found, err := s.store.ChannelByAccount(ctx, want.Platform, want.AccountKey)
	if err != nil {
		return "", err
	}
	if !found {
		if !p.Can(access.ManageDirectory, u.Path) {
			return "", errs.E(errs.Forbidden, "you may not add channels to unit %q", u.Key)
		}
		if err := s.store.CreateChannel(ctx, &want); err != nil {
			return "", err
		}
		res.ChannelsCreated++
		return id, nil
	}
	if !p.Can(access.ManageDirectory, cur.UnitPath) || !p.Can(access.ManageDirectory, u.Path) {
		return "", errs.E(errs.Forbidden, "you may not change the %s channel %q", cur.Platform, cur.Name)
	}
	if cur.UnitID == want.UnitID && cur.Handle == want.Handle && cur.URL == want.URL && cur.GivenURL == want.GivenURL &&
		cur.Name == want.Name && cur.Status == want.Status && cur.Notes == want.Notes {
		res.ChannelsUnchanged++
		return id, nil
	}
	want.ID = cur.ID
	if err := s.store.UpdateChannel(ctx, &want); err != nil {
		return "", err
	}
	res.ChannelsUpdated++
	return id, nil
}

// Export builds the map of everything the caller may read.
func (s *Service) Export(ctx context.Context, p *access.Principal) (*Map, error) {
	units, err := s.Tree(ctx, p)
	if err != nil {
		return nil, err
	}
	m := &Map{Units: []*MapUnit{}, Channels: []MapChannel{}}
	if p.System {
		if m.Organisation, err = s.store.Setting(ctx, "organisation"); err != nil {
			return nil, err
		}
	}
	byID := map[int64]*MapUnit{}
	order := map[string]int{}
	for i, u := range units {
		order[u.Key] = i
		mu := &MapUnit{Key: u.Key, Name: u.Name, Kind: u.Kind, Country: u.Country, Languages: u.Languages, TimeZone: u.TimeZone}
		byID[u.ID] = mu
		if parent, ok := byID[u.ParentID]; ok {
			parent.Children = append(parent.Children, mu)
		} else {
			mu.Parent = u.Parent
			m.Units = append(m.Units, mu)
		}
	}
	channels, _, err := s.store.Channels(ctx, p.Scope(access.ReadDirectory), ChannelFilter{}, "")
	if err != nil {
		return nil, err
	}
	// Channels follow the tree's order, not the ids', so that two stores
	// holding the same directory export the same file.
	sort.SliceStable(channels, func(i, j int) bool {
		a, b := channels[i], channels[j]
		if order[a.Unit] != order[b.Unit] {
			return order[a.Unit] < order[b.Unit]
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.AccountKey < b.AccountKey
	})
	for _, c := range channels {
		mc := MapChannel{Unit: c.Unit, Platform: c.Platform, Handle: c.Handle, Status: c.Status, Note: c.Notes}
		// A URL built from the handle was never given: leave it out, so
		// that importing the export rebuilds it the same way.
		if c.GivenURL != "" {
			mc.URL = c.URL
			if c.GivenURL != c.URL {
				mc.URLAsGiven = c.GivenURL
			}
		}
		if c.Name != c.UnitName {
			mc.Name = c.Name
		}
		if mc.Status == StatusActive {
			mc.Status = ""
		}
		m.Channels = append(m.Channels, mc)
	}
	return m, nil
}

// WriteMap writes a map as YAML.
func WriteMap(w io.Writer, m *Map) error {
	var buf bytes.Buffer
	buf.WriteString("# vernetzen organisation map: import it with `vernetzen import FILE`.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("org: write map: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("org: write map: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
