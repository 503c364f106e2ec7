package inbox

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// The vehicle model catalogue is kept per brand: each unit of kind
// "brand" has one. Until someone edits it, a brand unit uses the built-in
// catalogue of the brand its name starts with ("Rolls-Royce Motor Cars":
// Rolls-Royce), which is how the demo organisation comes seeded. The
// classifier recognises the models of every brand's catalogue.

// StoredCatalogue is a brand unit's edited catalogue.
type StoredCatalogue struct {
	UnitID  int64
	Brand   classify.Brand
	Version int64
}

// CatalogueStore keeps the edited catalogues.
type CatalogueStore interface {
	VehicleCatalogues(ctx context.Context) ([]StoredCatalogue, error)
	// SaveVehicleCatalogue stores a brand's catalogue if its stored
	// version is still version (0: none stored yet) and returns the new
	// version; errs.Conflict when someone saved in between.
	SaveVehicleCatalogue(ctx context.Context, unitID int64, b classify.Brand, version int64) (int64, error)
}

// BrandCatalogue is one brand unit's catalogue as the API and pages show it.
type BrandCatalogue struct {
	Unit     string         `json:"unit"`
	UnitName string         `json:"unit_name"`
	Brand    classify.Brand `json:"brand"`
	// Version changes with every edit; an edit names the version it saw.
	Version int64 `json:"version"`
	// Seeded: the built-in catalogue, not edited yet.
	Seeded bool `json:"seeded"`
}

// ModelInput adds or replaces one model of a brand's catalogue.
type ModelInput struct {
	Name       string   `json:"name"`
	Aliases    []string `json:"aliases"`
	Ambiguous  bool     `json:"ambiguous"`
	NeedsBrand bool     `json:"needs_brand"`
	// Version is the catalogue's version the edit starts from.
	Version int64 `json:"version"`
}

// catalogueCache is the classifier compiled from the catalogues, rebuilt
// when they change (training takes a while: not per directory reload).
type catalogueCache struct {
	mu       sync.Mutex
	key      string // the catalogues and the corrections it was trained on
	catKey   string // the catalogues alone
	cls      *classify.Classifier
	training bool // a new one is being trained in the background
}

// brandUnits are the units that hold a catalogue, by id.
func brandUnits(units []UnitRef) []UnitRef {
	var out []UnitRef
	for _, u := range units {
		if u.Kind == "brand" {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// builtInBrand returns the built-in catalogue of the brand a unit's name
// starts with (the longest such brand name).
func builtInBrand(unitName string) (classify.Brand, bool) {
	var best classify.Brand
	found := false
	name := strings.ToLower(unitName)
	for _, b := range classify.DefaultCatalogue().Brands {
		bn := strings.ToLower(b.Name)
		if (name == bn || strings.HasPrefix(name, bn+" ")) && len(bn) > len(best.Name) {
			best, found = b, true
		}
	}
	return best, found
}

// catalogues resolves every brand unit's catalogue.
func catalogues(units []UnitRef, stored []StoredCatalogue) []BrandCatalogue {
	byUnit := map[int64]StoredCatalogue{}
	for _, c := range stored {
		byUnit[c.UnitID] = c
	}
	var out []BrandCatalogue
	for _, u := range brandUnits(units) {
		c := BrandCatalogue{Unit: u.Key, UnitName: u.Name}
		if st, ok := byUnit[u.ID]; ok {
			c.Brand, c.Version = st.Brand, st.Version
		} else if b, ok := builtInBrand(u.Name); ok {
			c.Brand, c.Seeded = b, true
		} else {
			c.Brand, c.Seeded = classify.Brand{Name: u.Name, Prefixes: []string{u.Name}, Models: []classify.Model{}}, true
		}
		out = append(out, c)
	}
	return out
}

// classifierFor returns the classifier of the catalogues, trained on the
// labelled data and the agents' intent corrections: the configured one
// when the service was given a classifier, the built-in catalogue's when
// the organisation has no brand units and there are no corrections. When
// a catalogue or the corrections changed it is trained anew, in the
// background once there is one to go on with: ingest does not wait.
func (s *Service) classifierFor(ctx context.Context, units []UnitRef, stored []StoredCatalogue) (*classify.Classifier, error) {
	if s.cfg.Classifier != nil {
		return s.cls, nil
	}
	n, latest, err := s.cfg.Store.IntentCorrectionStamp(ctx)
	if err != nil {
		return nil, err
	}
	cats := catalogues(units, stored)
	var catKey strings.Builder
	for _, c := range cats {
		fmt.Fprintf(&catKey, "%s:%d:%t:%s;", c.Unit, c.Version, c.Seeded, c.Brand.Name)
	}
	key := fmt.Sprintf("%s|corrections:%d:%d", catKey.String(), n, latest.UnixNano())
	if len(cats) == 0 && n == 0 {
		return s.cls, nil
	}
	c := &s.catalogue
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cls != nil && (c.key == key || c.training) && c.catKey == catKey.String() {
		return c.cls, nil
	}
	cat := classify.DefaultCatalogue()
	if len(cats) > 0 {
		cat = classify.Catalogue{}
		for _, bc := range cats {
			if len(bc.Brand.Models) > 0 {
				cat.Brands = append(cat.Brands, bc.Brand)
			}
		}
	}
	var corrections []Correction
	if n > 0 {
		if corrections, err = s.cfg.Store.RecentIntentCorrections(ctx, maxTrainingCorrections); err != nil {
			return nil, err
		}
	}
	train := func() *classify.Classifier {
		return classify.NewTrained(cat, append(classify.TrainingSet(), correctionRecords(corrections)...))
	}
	if c.cls == nil || c.catKey != catKey.String() {
		// A catalogue edit applies to the very next message.
		c.key, c.catKey, c.cls = key, catKey.String(), train()
		return c.cls, nil
	}
	c.training = true
	go func() {
		cls := train()
		c.mu.Lock()
		if c.catKey == catKey.String() { // not overtaken by a catalogue edit
			c.key, c.cls = key, cls
		}
		c.training = false
		c.mu.Unlock()
		s.Invalidate() // the next message takes the new classifier
	}()
	return c.cls, nil
}

// Catalogues lists the catalogues of the brand units the caller sees.
func (s *Service) Catalogues(ctx context.Context, p *access.Principal) ([]BrandCatalogue, error) {
	if !p.CanAnywhere(access.ReadDirectory) {
		return nil, errs.E(errs.Forbidden, "you may not read the directory")
	}
	dir, err := s.directory(ctx, true)
	if err != nil {
		return nil, err
	}
	out := []BrandCatalogue{}
	for _, c := range dir.catalogues {
		if p.Can(access.ReadDirectory, dir.byKey[c.Unit].Path) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Catalogue returns one brand unit's catalogue.
func (s *Service) Catalogue(ctx context.Context, p *access.Principal, unit string) (BrandCatalogue, error) {
	dir, err := s.directory(ctx, true)
	if err != nil {
		return BrandCatalogue{}, err
	}
	u, ok := dir.byKey[unit]
	if !ok || !p.Can(access.ReadDirectory, u.Path) {
		return BrandCatalogue{}, errs.E(errs.NotFound, "no such unit: %q", unit)
	}
	for _, c := range dir.catalogues {
		if c.Unit == unit {
			return c, nil
		}
	}
	return BrandCatalogue{}, errs.Field("unit", "%s is not a brand: only brand units have a model catalogue", unit)
}

// editCatalogue applies an edit to a brand's catalogue and stores it.
func (s *Service) editCatalogue(ctx context.Context, p *access.Principal, unit string, version int64, edit func(b *classify.Brand) error) (BrandCatalogue, error) {
	c, err := s.Catalogue(ctx, p, unit)
	if err != nil {
		return BrandCatalogue{}, err
	}
	dir, err := s.directory(ctx, false)
	if err != nil {
		return BrandCatalogue{}, err
	}
	u := dir.byKey[unit]
	if !p.Can(access.ManageDirectory, u.Path) {
		return BrandCatalogue{}, errs.E(errs.Forbidden, "you may not edit the model catalogue of %s", unit)
	}
	if version != c.Version {
		return BrandCatalogue{}, errs.E(errs.Conflict, "the catalogue of %s changed since you loaded it (version %d, now %d): reload it and edit again", unit, version, c.Version)
	}
	b := c.Brand
	b.Models = append([]classify.Model(nil), c.Brand.Models...)
	if err := edit(&b); err != nil {
		return BrandCatalogue{}, err
	}
	if c.Version, err = s.cfg.Store.SaveVehicleCatalogue(ctx, u.ID, b, version); err != nil {
		return BrandCatalogue{}, err
	}
	c.Brand, c.Seeded = b, false
	s.settingsChanged()
	return c, nil
}

func modelIndex(b *classify.Brand, name string) int {
	for i, m := range b.Models {
		if strings.EqualFold(m.Name, name) {
			return i
		}
	}
	return -1
}

// checkModel cleans a model's input.
func checkModel(in ModelInput) (classify.Model, error) {
	m := classify.Model{Name: strings.TrimSpace(in.Name), Ambiguous: in.Ambiguous, NeedsBrand: in.NeedsBrand}
	switch {
	case m.Name == "":
		return m, errs.Field("name", "is required")
	case len(m.Name) > 60:
		return m, errs.Field("name", "is longer than 60 bytes")
	case len(words(m.Name)) == 0:
		return m, errs.Field("name", "holds no letter or digit")
	case len(in.Aliases) > 500:
		return m, errs.Field("aliases", "at most 500, not %d", len(in.Aliases))
	}
	seen := map[string]bool{strings.ToLower(m.Name): true}
	for _, a := range in.Aliases {
		a = strings.TrimSpace(a)
		switch {
		case a == "" || seen[strings.ToLower(a)]:
			continue
		case len(a) > 60:
			return m, errs.Field("aliases", "%q is longer than 60 bytes", a)
		case len(words(a)) == 0:
			return m, errs.Field("aliases", "%q holds no letter or digit", a)
		}
		seen[strings.ToLower(a)] = true
		m.Aliases = append(m.Aliases, a)
	}
	return m, nil
}

// SetModel adds a model to a brand's catalogue, or replaces the model
// named original (which may rename it).
func (s *Service) SetModel(ctx context.Context, p *access.Principal, unit, original string, in ModelInput) (BrandCatalogue, error) {
	m, err := checkModel(in)
	if err != nil {
		return BrandCatalogue{}, err
	}
	return s.editCatalogue(ctx, p, unit, in.Version, func(b *classify.Brand) error {
		at := -1
		if original != "" {
			if at = modelIndex(b, original); at < 0 {
				return errs.E(errs.NotFound, "no model %q in the catalogue of %s", original, unit)
			}
		}
		if i := modelIndex(b, m.Name); i >= 0 && i != at {
			return errs.Field("name", "%s already has a model named %q", unit, b.Models[i].Name)
		}
		if at >= 0 {
			m.NotBefore = b.Models[at].NotBefore // not editable here: kept
			b.Models[at] = m
		} else {
			b.Models = append(b.Models, m)
		}
		return nil
	})
}

// DeleteModel removes a model from a brand's catalogue.
func (s *Service) DeleteModel(ctx context.Context, p *access.Principal, unit, name string, version int64) (BrandCatalogue, error) {
	return s.editCatalogue(ctx, p, unit, version, func(b *classify.Brand) error {
		i := modelIndex(b, name)
		if i < 0 {
			return errs.E(errs.NotFound, "no model %q in the catalogue of %s", name, unit)
		}
		b.Models = append(b.Models[:i], b.Models[i+1:]...)
		return nil
	})
}
