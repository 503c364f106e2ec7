package classify

import (
	"reflect"
	"testing"
)

func TestModelExtraction(t *testing.T) {
	c := testClassifier()
	cases := []struct {
		text string
		want []string
	}{
		{"Was kostet der BMW X5 im Leasing?", []string{"X5"}},
		{"Looking at the MINI Cooper S or the Countryman", []string{"MINI Cooper S", "Countryman"}},
		{"Is a Rolls-Royce Phantom or a Cullinan Black Badge better?", []string{"Phantom", "Cullinan Black Badge"}},
		{"BMW Motorrad R 1300 GS Adventure vs R1250GS", []string{"R 1300 GS Adventure", "R1250GS"}},
		{"Leasing für den X3 30e xDrive, bitte", []string{"X3 30e xDrive"}},
		{"my 2019 330i and my wife's 2021 X1 sDrive18d", []string{"330i", "X1 sDrive18d"}},
		{"stuck on the M4 motorway near Reading in my M340i", []string{"M340i"}},
		{"Apartment with 50 m2 for sale", nil},
		{"the ghost of christmas past", nil},
		{"My Ghost was delivered today", []string{"Ghost"}},
		{"Picked up my dad's 2002 tii", []string{"2002 tii"}},
		{"Seit 2002 fahre ich BMW", nil},
		{"Warum heißt der 2002 eigentlich 2002?", []string{"2002"}},
		{"How many E30 M3 Sport Evolution were built?", []string{"E30 M3 Sport Evolution"}},
		{"Un devis pour une BMW Série 1 svp", []string{"Série 1"}},
		{"Der neue 5er Touring und der 7er", []string{"5er Touring", "7er"}},
		{"Dream car #Spectre #RollsRoyce", []string{"Spectre"}},
		{"Heute meinen ersten MINI abgeholt", nil},
		{"La nuova Countryman sembra un frigorifero", []string{"Countryman"}},
		{"Noch 120 km Reichweite", nil},
		{"Möchte auf einen 120 umsteigen", []string{"120"}},
		{"i4 eDrive40 oder i4 M50? Der i4 gefällt mir", []string{"i4 eDrive40", "i4 M50", "i4"}},
		{"Rückgabe meines Leasing-X5", []string{"X5"}},
		{"CE 04 or C 400 GT for the city?", []string{"CE 04", "C 400 GT"}},
		{"Got a MINI Electric and a MINI One", []string{"MINI Electric", "MINI One"}},
		{"one electric car is enough", nil},
		{"Link: bit.ly/bmw-x5-free", nil},
		{"X5 x5 X5", []string{"X5"}},
	}
	for _, tc := range cases {
		got := c.Classify(tc.text).Models
		if tc.want == nil {
			tc.want = []string{}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: models %q, want %q", tc.text, got, tc.want)
		}
	}
}

// The catalogue is data: an admin-added model is recognised.
func TestCustomCatalogue(t *testing.T) {
	cat := DefaultCatalogue()
	cat.Brands = append(cat.Brands, Brand{Name: "Acme", Prefixes: []string{"Acme"}, KeepPrefix: true,
		Models: []Model{{Name: "Roadrunner", Aliases: []string{"RR-1"}}}, Variants: []string{"Turbo"}})
	cat.Brands[0].Models = append(cat.Brands[0].Models, Model{Name: "X9"})
	c := New(cat)
	got := c.Classify("Is the Acme Roadrunner Turbo faster than the RR-1 or the new X9?").Models
	want := []string{"Acme Roadrunner Turbo", "RR-1", "X9"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("models %q, want %q", got, want)
	}
	if m := New(Catalogue{}).Classify("BMW X5").Models; len(m) != 0 {
		t.Errorf("empty catalogue found %q", m)
	}
}

func TestEngineCodes(t *testing.T) {
	for code, want := range map[string]bool{
		"xdrive": true, "xdrive30d": true, "edrive40": true, "sdrive18d": true, "m60i": true, "m50": true,
		"30e": true, "45e": true, "30": false, "days": false, "m": false, "xdrive3": false, "m5": false,
	} {
		if got := isEngineCode([]byte(code)); got != want {
			t.Errorf("isEngineCode(%q) = %v, want %v", code, got, want)
		}
	}
}
