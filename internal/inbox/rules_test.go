package inbox

import (
	"strings"
	"testing"
)

// TestQueueFor checks the routing rules' order and conditions: the
// nearest unit's rules first, then by position; every set condition must
// hold; keywords match whole words, accents folded.
func TestQueueFor(t *testing.T) {
	units := []UnitRef{
		{ID: 1, Key: "group", Kind: "group", Path: "/1/"},
		{ID: 2, Key: "bmw-de", Kind: "market", Path: "/1/2/"},
		{ID: 3, Key: "bmw-hh", Kind: "dealer", Path: "/1/2/3/"},
		{ID: 4, Key: "bmw-uk", Kind: "market", Path: "/1/4/"},
	}
	d := buildDirectory(units, []ChannelRef{{ID: 10, UnitID: 2}, {ID: 11, UnitID: 3}, {ID: 12, UnitID: 4}})
	d.rules = map[int64][]compiledRule{}
	for _, r := range []RoutingRule{
		// Listed in the order the store gives them: deepest unit first,
		// then position.
		{UnitID: 3, Position: 1, Keywords: []string{"Flotte"}, Queue: "hh-fleet"},
		{UnitID: 2, Position: 1, Keywords: []string{"Flotte", "Firmen wagen"}, Queue: "fleet"},
		{UnitID: 2, Position: 2, Lang: "en", Queue: "english"},
		{UnitID: 1, Position: 1, Intent: "complaint", Queue: "escalation"},
		{UnitID: 1, Position: 2, Channel: 12, Keywords: []string{"Müller"}, Queue: "vip"},
	} {
		d.rules[r.UnitID] = append(d.rules[r.UnitID], compileRule(r))
	}
	cases := []struct {
		unit, channel int64
		lang, intent  string
		text, want    string
	}{
		{2, 10, "de", "purchase", "Angebot für unsere Flotte?", "fleet"},
		{3, 11, "de", "purchase", "Angebot für unsere Flotte?", "hh-fleet"}, // the dealer's own rule first
		{2, 10, "de", "purchase", "Flottenmanagement gesucht", "sales"},     // not a whole word: the intent decides
		{2, 10, "de", "question", "Gibt es Firmen-Wagen?", "fleet"},         // a phrase, punctuation aside
		{2, 10, "en", "complaint", "broken again", "english"},               // bmw-de's rules before the group's
		{4, 12, "en", "complaint", "broken again", "escalation"},
		{4, 12, "en", "praise", "thanks, Mr MULLER", "vip"},            // accents folded
		{1, 10, "de", "praise", "Herr Müller sagt danke", "community"}, // the channel condition fails
	}
	for _, c := range cases {
		m := Message{UnitID: c.unit, ChannelID: c.channel, Lang: c.lang, Intent: c.intent, Text: c.text}
		if got := d.queueFor(&m); got != c.want {
			t.Errorf("%+v: queue %q, want %q", c, got, c.want)
		}
	}
	// Without rules the intent alone decides (the fast path).
	d.rules = nil
	if got := d.queueFor(&Message{UnitID: 2, Intent: "purchase", Text: "Flotte"}); got != "sales" {
		t.Errorf("without rules: %q", got)
	}
}

// TestBuiltInBrand: a brand unit takes the built-in catalogue of the
// brand its name starts with, the longest such name.
func TestBuiltInBrand(t *testing.T) {
	for name, want := range map[string]string{
		"BMW": "BMW", "BMW Motorrad": "BMW Motorrad", "Rolls-Royce Motor Cars": "Rolls-Royce", "MINI": "MINI",
		"bmw motorrad italia": "BMW Motorrad", "Alpina": "",
	} {
		b, ok := builtInBrand(name)
		if ok != (want != "") || b.Name != want {
			t.Errorf("%q: %q (%t), want %q", name, b.Name, ok, want)
		}
	}
}

// BenchmarkQueueFor measures what routing rules add to ingest per
// message: none (the intent decides), and ten keyword rules over a
// dealer's and its market's units.
func BenchmarkQueueFor(b *testing.B) {
	units := []UnitRef{{ID: 1, Path: "/1/"}, {ID: 2, Path: "/1/2/"}, {ID: 3, Path: "/1/2/3/"}}
	text := "Hallo, wir suchen für unsere Firma drei neue Fahrzeuge, am liebsten den iX3 oder einen X1 als Dienstwagen. Gibt es Rabatte?"
	for _, n := range []int{0, 10} {
		d := buildDirectory(units, nil)
		d.rules = map[int64][]compiledRule{}
		for i := 0; i < n; i++ {
			r := RoutingRule{UnitID: int64(2 + i%2), Position: i, Keywords: []string{"Flotte", "Leasingrate", "Gewerbe"}, Queue: "fleet"}
			d.rules[r.UnitID] = append(d.rules[r.UnitID], compileRule(r))
		}
		b.Run(map[int]string{0: "no-rules", 10: "ten-keyword-rules"}[n], func(b *testing.B) {
			m := Message{UnitID: 3, Intent: "purchase", Lang: "de", Text: text}
			for i := 0; i < b.N; i++ {
				d.queueFor(&m)
			}
		})
	}
}

// TestFoldedText: the keyword matcher's text is the words routing sees
// (words), each between spaces, however the text mixes scripts.
func TestFoldedText(t *testing.T) {
	for _, text := range []string{"Hallo, wir suchen für unsere Firma ÄÖÜ ß Straße x-Drive 320d!!", "  ", "", "München—Nord…Ærø", "ÉCOLE l'été", "iX3/X1"} {
		want := " "
		if ws := words(text); len(ws) > 0 {
			want = " " + strings.Join(ws, " ") + " "
		}
		if got := foldedText(text); got != want {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
}
