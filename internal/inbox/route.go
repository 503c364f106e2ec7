package inbox

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vernetzen/vernetzen/internal/classify"
)

// directory is the routing's copy of units and channels.
type directory struct {
	units    map[int64]UnitRef
	byKey    map[string]UnitRef
	channels map[int64]ChannelRef
	// places maps a unit to the markets and dealers below it whose names
	// carry a place ("BMW Hamburg Hafen": hamburg, hafen), deepest first.
	places map[int64][]place
	// slas are the units' own SLA settings; policies caches what they
	// come to per unit and queue (ingest resolves one per message).
	slas     map[int64]SLASettings
	policies sync.Map // policyKey → sla
	// anc lists each unit and its ancestors, nearest first.
	anc map[int64][]int64
	// rules are the routing rules by unit, in order (rules.go).
	rules map[int64][]compiledRule
	// catalogues are the brand units' model catalogues, and cls the
	// classifier that knows their models (catalogue.go).
	catalogues []BrandCatalogue
	cls        *classify.Classifier
}

type place struct {
	unit  int64
	depth int
	words []string
}

// directory returns the routing's copy, loading it when stale or forced.
func (s *Service) directory(ctx context.Context, force bool) (*directory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != nil && !force && s.cfg.Now().Sub(s.loaded) < s.cfg.DirectoryTTL {
		return s.dir, nil
	}
	units, err := s.cfg.Store.InboxUnits(ctx)
	if err != nil {
		return nil, err
	}
	channels, err := s.cfg.Store.InboxChannels(ctx)
	if err != nil {
		return nil, err
	}
	slas, err := s.cfg.Store.SLASettings(ctx)
	if err != nil {
		return nil, err
	}
	rules, err := s.cfg.Store.RoutingRules(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.cfg.Store.VehicleCatalogues(ctx)
	if err != nil {
		return nil, err
	}
	d := buildDirectory(units, channels)
	d.slas = make(map[int64]SLASettings, len(slas))
	for _, st := range slas {
		d.slas[st.UnitID] = st
	}
	d.rules = map[int64][]compiledRule{}
	for _, r := range rules {
		d.rules[r.UnitID] = append(d.rules[r.UnitID], compileRule(r))
	}
	d.catalogues = catalogues(units, stored)
	if d.cls, err = s.classifierFor(ctx, units, stored); err != nil {
		return nil, err
	}
	s.dir, s.loaded = d, s.cfg.Now()
	return s.dir, nil
}

// Invalidate drops the routing's copy of units and channels.
func (s *Service) Invalidate() {
	s.mu.Lock()
	s.dir = nil
	s.mu.Unlock()
}

// genericWords never name a place.
var genericWords = map[string]bool{
	"bmw": true, "mini": true, "rolls": true, "royce": true, "motorrad": true, "autohaus": true, "niederlassung": true,
	"dealer": true, "store": true, "group": true, "gmbh": true, "nord": true, "north": true, "south": true, "east": true,
	"west": true, "mitte": true, "city": true, "center": true, "centre": true, "zentrum": true, "park": true, "sport": true,
	"motors": true, "cars": true, "automobile": true, "service": true, "brand": true,
}

func buildDirectory(units []UnitRef, channels []ChannelRef) *directory {
	d := &directory{units: map[int64]UnitRef{}, byKey: map[string]UnitRef{}, channels: map[int64]ChannelRef{}, places: map[int64][]place{}}
	for _, u := range units {
		d.units[u.ID] = u
		d.byKey[u.Key] = u
	}
	d.anc = make(map[int64][]int64, len(units))
	for _, u := range units {
		d.anc[u.ID] = d.ancestorsOf(u.ID)
	}
	for _, c := range channels {
		d.channels[c.ID] = c
	}
	var all []place
	for _, u := range units {
		if u.Kind != "market" && u.Kind != "dealer" {
			continue
		}
		if ws := placeWords(u.Name); len(ws) > 0 {
			all = append(all, place{unit: u.ID, depth: strings.Count(u.Path, "/"), words: ws})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].depth > all[j].depth })
	for _, u := range units {
		for _, p := range all {
			pu := d.units[p.unit]
			if p.unit != u.ID && strings.HasPrefix(pu.Path, u.Path) {
				d.places[u.ID] = append(d.places[u.ID], p)
			}
		}
	}
	return d
}

// placeWords are the words of a unit's name that may name a place.
func placeWords(name string) []string {
	var out []string
	for _, w := range words(name) {
		if len([]rune(w)) >= 4 && !genericWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// words splits text into lower-case words with diacritics folded
// ("München" → "munchen", and "muenchen" stays as written).
func words(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteString(fold(unicode.ToLower(r)))
		default:
			flush()
		}
	}
	flush()
	return out
}

func fold(r rune) string {
	switch r {
	case 'ä', 'à', 'á', 'â', 'ã', 'å':
		return "a"
	case 'ö', 'ò', 'ó', 'ô', 'õ':
		return "o"
	case 'ü', 'ù', 'ú', 'û':
		return "u"
	case 'é', 'è', 'ê', 'ë':
		return "e"
	case 'í', 'ì', 'î', 'ï':
		return "i"
	case 'ñ':
		return "n"
	case 'ç':
		return "c"
	case 'ß':
		return "ss"
	}
	return string(r)
}

// route picks the unit a message goes to: the channel's unit, or the
// deepest market or dealer below it whose name's place the text mentions
// (when exactly one at that depth matches).
func (d *directory) route(unitID int64, text string) int64 {
	cands := d.places[unitID]
	if len(cands) == 0 || text == "" {
		return unitID
	}
	ws := words(text)
	if len(ws) == 0 {
		return unitID
	}
	set := make(map[string]bool, len(ws))
	for _, w := range ws {
		set[w] = true
		// "muenchen" → "munchen"
		if strings.Contains(w, "ue") || strings.Contains(w, "ae") || strings.Contains(w, "oe") {
			set[strings.NewReplacer("ue", "u", "ae", "a", "oe", "o").Replace(w)] = true
		}
	}
	best, bestDepth, bestHits, tie := int64(0), -1, 0, false
	for _, p := range cands {
		if bestDepth > p.depth && best != 0 {
			break // candidates are deepest first
		}
		hits := 0
		for _, w := range p.words {
			if set[w] {
				hits++
			}
		}
		if hits == 0 {
			continue
		}
		switch {
		case best == 0 || hits > bestHits:
			best, bestDepth, bestHits, tie = p.unit, p.depth, hits, false
		case hits == bestHits:
			tie = true
		}
	}
	if best == 0 || tie {
		return unitID
	}
	return best
}

// ---- live updates ----

// Event tells open inbox pages about a new message.
type Event struct {
	ID       int64  `json:"id"`
	UnitPath string `json:"-"`
	Intent   string `json:"intent"`
	Channel  int64  `json:"channel"`
}

type hub struct {
	mu     sync.Mutex
	subs   map[chan Event]bool
	closed bool
	// shared, when set, carries new messages between the nodes sharing
	// the database (see ShareEvents): publish notifies it, and every
	// node's listener fans its notifications out.
	shared     Notifier
	stopShared context.CancelFunc
}

// Subscribe returns a channel of new-message events and a function that
// ends the subscription. A slow subscriber misses events instead of
// slowing ingest.
func (s *Service) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	s.events.mu.Lock()
	if s.events.closed {
		s.events.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	if s.events.subs == nil {
		s.events.subs = map[chan Event]bool{}
	}
	s.events.subs[ch] = true
	s.events.mu.Unlock()
	return ch, func() {
		s.events.mu.Lock()
		delete(s.events.subs, ch)
		s.events.mu.Unlock()
	}
}

// Close ends every subscription (their channels are closed) and refuses
// new ones: call it when the server shuts down, so that open event
// streams end instead of holding the shutdown up. It also stops
// listening to the other nodes.
func (s *Service) Close() {
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	if s.events.closed {
		return
	}
	s.events.closed = true
	if s.events.stopShared != nil {
		s.events.stopShared()
	}
	for ch := range s.events.subs {
		close(ch)
		delete(s.events.subs, ch)
	}
}

// publish tells open inbox pages about stored messages: through the
// database's notifications when the nodes share them (this node's pages
// hear it from its own listener, like every other node's), else directly.
func (s *Service) publish(dir *directory, msgs []Message) {
	if len(msgs) == 0 {
		return
	}
	s.events.mu.Lock()
	shared := s.events.shared
	s.events.mu.Unlock()
	if shared != nil {
		ids := make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		// The messages are committed: a lost notification costs only the
		// live update (the pages also poll), never a message.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shared.NotifyMessages(ctx, ids); err != nil {
			s.cfg.Log.Warn("inbox: notify other nodes of new messages", "messages", len(ids), "err", err)
		}
		return
	}
	evs := make([]Event, len(msgs))
	for i, m := range msgs {
		evs[i] = Event{ID: m.ID, UnitPath: dir.units[m.UnitID].Path, Intent: m.Intent, Channel: m.ChannelID}
	}
	s.fanOut(evs)
}

// fanOut hands events to this node's subscribers; each stream filters
// them by its caller's units.
func (s *Service) fanOut(evs []Event) {
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	for _, ev := range evs {
		for ch := range s.events.subs {
			select {
			case ch <- ev:
			default:
			}
		}
	}
}

// UnitPath resolves a unit key to its materialised path ("" if unknown).
func (s *Service) UnitPath(ctx context.Context, key string) (string, error) {
	dir, err := s.directory(ctx, false)
	if err != nil {
		return "", err
	}
	return dir.byKey[key].Path, nil
}
