package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

// uiPlatformGroup is a unit's (or a brand's) channels on one platform.
type uiPlatformGroup struct {
	Platform string
	Name     string
	Channels []org.Channel
}

// uiGroupByPlatform groups channels by platform in the platforms' display
// order, keeping the channels' own order within a platform.
func uiGroupByPlatform(list []org.Channel) []uiPlatformGroup {
	byKey := map[string][]org.Channel{}
	for _, c := range list {
		byKey[c.Platform] = append(byKey[c.Platform], c)
	}
	var out []uiPlatformGroup
	for _, p := range org.Platforms {
		if cs := byKey[p.Key]; len(cs) > 0 {
			out = append(out, uiPlatformGroup{Platform: p.Key, Name: p.Name, Channels: cs})
			delete(byKey, p.Key)
		}
	}
	for k, cs := range byKey { // a platform the code no longer knows: still shown
		out = append(out, uiPlatformGroup{Platform: k, Name: k, Channels: cs})
	}
	return out
}

// uiFilter reads the channel filter of the directory and unit pages from
// the query string (platform, status, q).
func uiFilter(r *http.Request, unit string) (org.ChannelFilter, *uiForm) {
	q := r.URL.Query()
	f := newUIForm("filter")
	for _, n := range []string{"platform", "status", "q"} {
		f.Values[n] = strings.TrimSpace(q.Get(n))
	}
	return org.ChannelFilter{Unit: unit, Platform: f.Values["platform"], Status: org.Status(f.Values["status"]), Text: f.Values["q"]}, f
}

// uiPlatformOptions lists the platforms for a select, retired ones marked.
func (s *Server) uiPlatformOptions(ctx context.Context, empty string) ([]uiOption, error) {
	list, err := s.Org.PlatformList(ctx)
	if err != nil {
		return nil, err
	}
	opts := []uiOption{{Value: "", Label: empty}}
	for _, p := range list {
		label := p.Name
		if p.Status == "retired" {
			label += " (retired)"
		}
		opts = append(opts, uiOption{Value: p.Key, Label: label})
	}
	return opts, nil
}

func uiStatusOptions(empty string) []uiOption {
	var opts []uiOption
	if empty != "" {
		opts = append(opts, uiOption{Value: "", Label: empty})
	}
	for _, st := range []org.Status{org.StatusActive, org.StatusPaused, org.StatusRetired} {
		opts = append(opts, uiOption{Value: string(st), Label: strings.ToUpper(string(st[:1])) + string(st[1:])})
	}
	return opts
}

func uiKindOptions() []uiOption {
	opts := make([]uiOption, len(org.Kinds))
	for i, k := range org.Kinds {
		opts[i] = uiOption{Value: string(k), Label: string(k)}
	}
	return opts
}

// uiUnitOptions lists the units of the tree the caller holds perm on,
// indented by depth; skip leaves out a subtree (by path) when not "".
func uiUnitOptions(tree []org.Unit, p *access.Principal, perm access.Permission, skip, empty string) []uiOption {
	var opts []uiOption
	if empty != "" {
		opts = append(opts, uiOption{Value: "", Label: empty})
	}
	for _, u := range tree {
		if !p.Can(perm, u.Path) || (skip != "" && strings.HasPrefix(u.Path, skip)) {
			continue
		}
		opts = append(opts, uiOption{Value: u.Key, Label: strings.Repeat("\u00a0\u00a0\u00a0", u.Depth) + u.Name})
	}
	return opts
}

// ---- directory ----

type uiDirectoryRow struct {
	Unit org.Unit
	// Indent is the depth within the caller's view: a manager's own unit
	// is a root there, however deep it sits in the organisation.
	Indent int
	Groups []uiPlatformGroup
	// Context marks a unit shown only because a matching unit is below it.
	Context bool
}

type uiDirectoryData struct {
	uiPage
	Filter    *uiForm
	Query     string
	Platforms []uiOption
	Statuses  []uiOption
	Rows      []uiDirectoryRow
	Channels  int
	Units     int
	Filtered  bool
	CanCreate bool
}

func (s *Server) uiDirectory(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	ctx := r.Context()
	filter, ff := uiFilter(r, "")
	d := uiDirectoryData{uiPage: s.uiBase(r, "Directory", "directory"), Filter: ff,
		Statuses: uiStatusOptions("Any status"), CanCreate: p.CanAnywhere(access.ManageDirectory)}
	s.uiTakeFlash(w, r, &d.uiPage)
	var err error
	if d.Platforms, err = s.uiPlatformOptions(ctx, "All platforms"); err != nil {
		return err
	}
	tree, err := s.Org.Tree(ctx, p)
	if err != nil {
		return err
	}
	d.Filtered = filter.Platform != "" || filter.Status != "" || filter.Text != ""
	d.Query = uiQuery(ff)
	status := http.StatusOK
	channels, _, err := s.Org.Channels(ctx, p, filter)
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		ff.fail(s, r, err, "platform", "status")
		status = http.StatusBadRequest
	}
	d.Channels = len(channels)
	byUnit := map[int64][]org.Channel{}
	for _, c := range channels {
		byUnit[c.UnitID] = append(byUnit[c.UnitID], c)
	}
	// Filtered, the tree keeps the units with matches and, for context,
	// their ancestors; unfiltered it shows every unit.
	var matchPaths []string
	for _, u := range tree {
		if len(byUnit[u.ID]) > 0 {
			matchPaths = append(matchPaths, u.Path)
		}
	}
	indent := map[int64]int{}
	for _, u := range tree {
		if d, ok := indent[u.ParentID]; ok {
			indent[u.ID] = d + 1
		} else {
			indent[u.ID] = 0
		}
	}
	for _, u := range tree {
		row := uiDirectoryRow{Unit: u, Indent: indent[u.ID], Groups: uiGroupByPlatform(byUnit[u.ID])}
		if d.Filtered && len(row.Groups) == 0 {
			isAncestor := false
			for _, mp := range matchPaths {
				if strings.HasPrefix(mp, u.Path) {
					isAncestor = true
					break
				}
			}
			if !isAncestor {
				continue
			}
			row.Context = true
		}
		if !row.Context {
			d.Units++
		}
		d.Rows = append(d.Rows, row)
	}
	if uiHTMXFragment(r, "results") {
		// 200 even for a bad filter: htmx swaps only successful answers,
		// and the fragment carries the error message itself.
		s.uiRenderBlock(w, r, http.StatusOK, "directory", "results", d)
		return nil
	}
	s.uiRender(w, r, status, "directory", d)
	return nil
}

// uiQuery is the filter as a query string, for links that keep it.
func uiQuery(f *uiForm) string {
	v := url.Values{}
	for _, n := range []string{"platform", "status", "q"} {
		if f.Values[n] != "" {
			v.Set(n, f.Values[n])
		}
	}
	return v.Encode()
}

// ---- unit page ----

type uiUnitData struct {
	uiPage
	Unit      org.Unit
	Crumbs    []org.Unit
	Children  []org.Unit
	Groups    []uiPlatformGroup
	Channels  int
	Filter    *uiForm
	Filtered  bool
	Platforms []uiOption
	Statuses  []uiOption
	// What the caller may do: change the unit, add below it, and (holding
	// the parent) move or delete it.
	CanManage     bool
	CanMoveDelete bool
	Edit          *uiForm
	Child         *uiForm
	Move          *uiForm
	Delete        *uiForm
	Kinds         []uiOption
	Parents       []uiOption
}

// uiParentPath is the materialised path of a unit's parent ("" for a root).
func uiParentPath(path string) string {
	t := strings.TrimSuffix(path, "/")
	i := strings.LastIndex(t, "/")
	if i <= 0 {
		return ""
	}
	return t[:i+1]
}

// uiLoadUnit builds the unit page with its forms filled from the stored
// unit; a failed POST then replaces the one form it was about.
func (s *Server) uiLoadUnit(w http.ResponseWriter, r *http.Request, p *access.Principal, key string) (*uiUnitData, error) {
	ctx := r.Context()
	u, err := s.Org.Unit(ctx, p, key)
	if err != nil {
		return nil, err
	}
	tree, err := s.Org.Tree(ctx, p)
	if err != nil {
		return nil, err
	}
	d := &uiUnitData{uiPage: s.uiBase(r, u.Name, "directory"), Unit: u, Statuses: uiStatusOptions("Any status"), Kinds: uiKindOptions()}
	if d.Platforms, err = s.uiPlatformOptions(ctx, "All platforms"); err != nil {
		return nil, err
	}
	for _, t := range tree {
		switch {
		case t.ID != u.ID && strings.HasPrefix(u.Path, t.Path):
			d.Crumbs = append(d.Crumbs, t)
		case t.ParentID == u.ID:
			d.Children = append(d.Children, t)
		}
	}
	d.CanManage = p.Can(access.ManageDirectory, u.Path)
	parent := uiParentPath(u.Path)
	d.CanMoveDelete = parent != "" && p.Can(access.ManageDirectory, parent)

	d.Edit = newUIForm("edit")
	d.Edit.Values = map[string]string{"name": u.Name, "kind": string(u.Kind), "country": u.Country,
		"languages": strings.Join(u.Languages, ", "), "time_zone": u.TimeZone}
	d.Child = newUIForm("child")
	d.Child.Values = map[string]string{"kind": string(u.Kind), "country": u.Country,
		"languages": strings.Join(u.Languages, ", "), "time_zone": u.TimeZone}
	d.Move = newUIForm("move")
	d.Move.Values["parent"] = u.Parent
	d.Parents = uiUnitOptions(tree, p, access.ManageDirectory, u.Path, "")
	d.Delete = newUIForm("delete")

	filter, ff := uiFilter(r, u.Key)
	d.Filter = ff
	d.Filtered = filter.Platform != "" || filter.Status != "" || filter.Text != ""
	channels, _, err := s.Org.Channels(ctx, p, filter)
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return nil, err
		}
		ff.fail(s, r, err, "platform", "status")
	}
	d.Channels = len(channels)
	d.Groups = uiGroupByPlatform(channels)
	s.uiTakeFlash(w, r, &d.uiPage)
	return d, nil
}

func (s *Server) uiUnit(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d, err := s.uiLoadUnit(w, r, p, r.PathValue("key"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(d.Filter.Errors) > 0 {
		status = http.StatusBadRequest
	}
	if uiHTMXFragment(r, "unit-channels") {
		s.uiRenderBlock(w, r, http.StatusOK, "unit", "unit-channels", d)
		return nil
	}
	s.uiRender(w, r, status, "unit", d)
	return nil
}

// uiFormFailure reports whether a service error belongs on the form (bad
// input or a conflict) rather than on an error page (missing, forbidden,
// internal).
func uiFormFailure(err error) bool {
	return errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict)
}

// uiRerenderUnit shows the unit page again with one form failed.
func (s *Server) uiRerenderUnit(w http.ResponseWriter, r *http.Request, p *access.Principal, key string, err error, apply func(d *uiUnitData)) error {
	if !uiFormFailure(err) {
		return err
	}
	d, lerr := s.uiLoadUnit(w, r, p, key)
	if lerr != nil {
		return lerr
	}
	apply(d)
	s.uiRender(w, r, statusOf(err), "unit", d)
	return nil
}

var uiUnitFields = []string{"key", "name", "kind", "country", "languages", "time_zone"}

func uiLanguages(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if out == nil {
		out = []string{}
	}
	return out
}

func (s *Server) uiUnitUpdate(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	key := r.PathValue("key")
	f := newUIForm("edit").fill(r, uiUnitFields...)
	name, kind, country, tz := f.Values["name"], org.Kind(f.Values["kind"]), f.Values["country"], f.Values["time_zone"]
	langs := uiLanguages(f.Values["languages"])
	u, err := s.Org.UpdateUnit(r.Context(), p, key, org.UnitPatch{Name: &name, Kind: &kind, Country: &country, Languages: &langs, TimeZone: &tz})
	if err != nil {
		f.fail(s, r, err, uiUnitFields...)
		return s.uiRerenderUnit(w, r, p, key, err, func(d *uiUnitData) { d.Edit = f })
	}
	s.uiSetFlash(w, "Saved "+u.Name+".")
	http.Redirect(w, r, "/units/"+url.PathEscape(u.Key), http.StatusSeeOther)
	return nil
}

func (s *Server) uiUnitCreateChild(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	key := r.PathValue("key")
	f := newUIForm("child").fill(r, uiUnitFields...)
	u, err := s.Org.CreateUnit(r.Context(), p, org.UnitInput{Key: f.Values["key"], Name: f.Values["name"], Kind: org.Kind(f.Values["kind"]),
		Parent: key, Country: f.Values["country"], Languages: uiLanguages(f.Values["languages"]), TimeZone: f.Values["time_zone"]})
	if err != nil {
		if errs.Is(err, errs.Conflict) {
			// The only conflict here is a taken key: say so beside it.
			err = &errs.Error{Code: errs.Conflict, Field: "key", Message: s.publicError(r, err).Message}
		}
		f.fail(s, r, err, uiUnitFields...)
		return s.uiRerenderUnit(w, r, p, key, err, func(d *uiUnitData) { d.Child = f })
	}
	s.uiSetFlash(w, "Created unit "+u.Name+".")
	http.Redirect(w, r, "/units/"+url.PathEscape(u.Key), http.StatusSeeOther)
	return nil
}

func (s *Server) uiUnitMove(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	key := r.PathValue("key")
	f := newUIForm("move").fill(r, "parent")
	u, err := s.Org.MoveUnit(r.Context(), p, key, f.Values["parent"])
	if err != nil {
		f.fail(s, r, err, "parent")
		return s.uiRerenderUnit(w, r, p, key, err, func(d *uiUnitData) { d.Move = f })
	}
	s.uiSetFlash(w, "Moved "+u.Name+".")
	http.Redirect(w, r, "/units/"+url.PathEscape(u.Key), http.StatusSeeOther)
	return nil
}

func (s *Server) uiUnitDelete(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	key := r.PathValue("key")
	f := newUIForm("delete").fill(r, "confirm")
	u, err := s.Org.Unit(r.Context(), p, key)
	if err != nil {
		return err
	}
	if f.Values["confirm"] != "yes" {
		err = errs.Field("confirm", "tick the box to confirm")
	} else {
		err = s.Org.DeleteUnit(r.Context(), p, key)
	}
	if err != nil {
		f.fail(s, r, err, "confirm")
		return s.uiRerenderUnit(w, r, p, key, err, func(d *uiUnitData) { d.Delete = f })
	}
	s.uiSetFlash(w, "Deleted unit "+u.Name+".")
	if u.Parent != "" {
		http.Redirect(w, r, "/units/"+url.PathEscape(u.Parent), http.StatusSeeOther)
	} else {
		http.Redirect(w, r, "/directory", http.StatusSeeOther)
	}
	return nil
}
