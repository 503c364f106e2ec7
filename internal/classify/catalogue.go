package classify

import (
	"fmt"
	"strings"
)

// Catalogue lists the brands and vehicle models the classifier recognises in
// messages. It is plain data so that the hub can store it, show it to admins
// and let them add models; New compiles it into lookup tables once.
type Catalogue struct {
	Brands []Brand `json:"brands"`
}

// Brand is one make with its models and the words that may follow a model name.
type Brand struct {
	// Name is the brand as shown to users ("BMW", "MINI").
	Name string `json:"name"`
	// Prefixes are spellings of the brand that may stand in front of a model
	// ("BMW", "Rolls-Royce"). They are dropped from reported names ("BMW X5"
	// -> "X5") unless KeepPrefix is set.
	Prefixes []string `json:"prefixes,omitempty"`
	// KeepPrefix reports the prefix as part of the model name, for brands whose
	// name belongs to the model ("MINI Cooper S").
	KeepPrefix bool `json:"keepPrefix,omitempty"`
	// Models are the model names of the brand.
	Models []Model `json:"models"`
	// Variants are trim, body and edition words that may follow a model and
	// then belong to its name ("Touring", "Competition", "Black Badge", "GS").
	// One-letter variants ("S", "R") only count when written in capitals.
	Variants []string `json:"variants,omitempty"`
	// Chassis are internal chassis codes ("E30", "G20"). Written before a model
	// ("E30 M3") they are part of its name; on their own they name the model.
	Chassis []string `json:"chassis,omitempty"`
	// EngineCodes lets drive and engine designations such as "xDrive30d",
	// "eDrive40", "M60i" or "30e" extend a model name ("X3 30e xDrive").
	EngineCodes bool `json:"engineCodes,omitempty"`
}

// Model is one model line. A message names it when it contains Name or one of
// Aliases as whole words (case and accents are ignored, except as noted).
type Model struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	// Ambiguous marks names that are also ordinary words ("GS", "Cooper"):
	// they count only after an article or possessive ("the GS", "mein GS"),
	// after the brand, or when a variant follows. Names made only of digits
	// ("2002", "120") are always treated this way; names made only of letters
	// must be written with a capital ("Ghost", not "ghost").
	Ambiguous bool `json:"ambiguous,omitempty"`
	// NeedsBrand marks names that count only right after the brand
	// ("MINI Electric", "MINI One").
	NeedsBrand bool `json:"needsBrand,omitempty"`
	// NotBefore lists words that, following the name, show it means something
	// else ("M4 motorway", "M1 near Luton").
	NotBefore []string `json:"notBefore,omitempty"`
}

// roadWords follow UK motorway names that coincide with BMW M models.
var roadWords = []string{"motorway", "mway", "near", "junction", "northbound", "southbound", "eastbound",
	"westbound", "between", "toward", "towards", "exit", "services", "roadworks", "traffic", "j1", "j2",
	"j3", "j4", "j5", "j6", "j7", "j8", "j9", "j10", "j11", "j12"}

// DefaultCatalogue returns the seeded catalogue for BMW, BMW Motorrad, MINI
// and Rolls-Royce. Every call returns a fresh copy that the caller may edit.
func DefaultCatalogue() Catalogue {
	return Catalogue{Brands: []Brand{bmwBrand(), motorradBrand(), miniBrand(), rollsRoyceBrand()}}
}

func bmwBrand() Brand {
	b := Brand{
		Name:        "BMW",
		Prefixes:    []string{"BMW", "BMW M", "BMW i", "BMW Individual"},
		EngineCodes: true,
		Variants: []string{"Touring", "Gran Coupé", "Gran Coupe", "Coupé", "Coupe", "Cabrio", "Cabriolet",
			"Convertible", "Roadster", "Competition", "CS", "CSL", "CSi", "M Sport", "M Sport Pro",
			"Sport Evolution", "Evolution", "Hydrogen", "Active Tourer", "Gran Tourer", "Gran Turismo", "GT",
			"Label", "Label Red", "Pure", "Edition", "tii", "ti", "turbo", "Sport", "Sport Line", "Luxury Line",
			"xDrive", "sDrive", "Hybrid", "ActiveHybrid", "Protection", "Security", "Alpina", "Heritage Edition",
			"Sedan", "Limousine", "Hatch", "Compact", "Individual"},
		Chassis: []string{"E3", "E9", "E12", "E21", "E23", "E24", "E26", "E28", "E30", "E31", "E32", "E34",
			"E36", "E38", "E39", "E46", "E52", "E53", "E60", "E61", "E63", "E64", "E65", "E66", "E70", "E71",
			"E82", "E83", "E84", "E85", "E86", "E87", "E88", "E89", "E90", "E91", "E92", "E93", "F10", "F11",
			"F20", "F22", "F30", "F31", "F32", "F80", "F82", "F87", "F90", "F40", "F44", "G20", "G21", "G22",
			"G26", "G30", "G31", "G60", "G61", "G70", "G80", "G81", "G82", "G87", "G90", "G05", "G06", "G07",
			"G01", "G02", "G09", "U06", "U10", "U11", "U25", "I01", "I12", "I20"},
	}
	add := func(name string, aliases ...string) { b.Models = append(b.Models, Model{Name: name, Aliases: aliases}) }
	// Series: "3 Series", "3er", "Série 3", "Serie 3", "Seria 3" and the engine
	// designations ("320d", "M340i", bare "120").
	engines := map[int][]string{
		1: {"114", "116", "118", "120", "123", "125", "128", "130", "135", "M135", "M140"},
		2: {"214", "216", "218", "220", "223", "225", "228", "230", "235", "240", "M235", "M240"},
		3: {"315", "316", "318", "320", "323", "324", "325", "328", "330", "335", "340", "M340"},
		4: {"418", "420", "425", "428", "430", "435", "440", "M440"},
		5: {"518", "520", "523", "524", "525", "528", "530", "535", "540", "545", "550", "M550"},
		6: {"620", "628", "630", "633", "635", "640", "645", "650"},
		7: {"725", "728", "730", "732", "735", "740", "745", "750", "760", "M760"},
		8: {"840", "850", "M850"},
	}
	suffixes := []string{"i", "d", "e", "Li", "Ld", "Le", "Ci", "is", "iX", "xi", "xd", "td", "tds", "sd"}
	for s := 1; s <= 8; s++ {
		n := fmt.Sprint(s)
		aliases := []string{n + "er", n + " Series", n + "-Series", "Série " + n, "Serie " + n, "Seria " + n,
			n + "-serie", n + " Serie", n + "er Reihe", n + "-Reeks", n + " Reeks", "Série " + n + "s"}
		for _, e := range engines[s] {
			if e[0] != 'M' {
				aliases = append(aliases, e) // bare numbers are ambiguous, see Model
			}
			for _, suf := range suffixes {
				aliases = append(aliases, e+suf)
			}
		}
		add(n+" Series", aliases...)
	}
	for _, m := range []string{"X1", "X2", "X3", "X4", "X5", "X6", "X7", "XM", "Z1", "Z3", "Z4", "Z8",
		"i3", "i4", "i5", "i7", "i8", "iX", "iX1", "iX2", "iX3", "iX5", "iX4"} {
		add(m)
	}
	for i := 1; i <= 8; i++ {
		b.Models = append(b.Models, Model{Name: fmt.Sprintf("M%d", i), NotBefore: roadWords})
	}
	add("M3 Touring")
	add("2002", "1602", "1802", "2002 tii", "2002 turbo")
	add("3.0 CSL", "3.0 CS", "3.0 CSi")
	add("Isetta")
	add("507")
	add("503")
	add("Neue Klasse")
	add("Vision Neue Klasse")
	add("Concept Skytop", "Skytop")
	add("Z3 M Coupé")
	return b
}

func motorradBrand() Brand {
	b := Brand{
		Name:     "BMW Motorrad",
		Prefixes: []string{"BMW Motorrad", "BMW", "Motorrad"},
		Variants: []string{"GS", "RT", "RS", "R", "XR", "RR", "GT", "GTL", "GTE", "B", "X", "S", "Adventure",
			"Classic", "Transcontinental", "Bagger", "Pure", "Scrambler", "Urban", "Urban G/S", "Racer", "nineT",
			"Option 719", "Rallye", "Trophy", "Sport", "Roctane", "Pro", "Tour", "Avantgarde", "Black Storm",
			"Triple Black", "Exclusive", "HP", "M", "Comfort", "Enduro", "Touring", "Dakar", "First Edition"},
	}
	bases := []string{"R 1300", "R 1250", "R 1200", "R 1150", "R 1100", "R 850", "R 100", "R 90", "R 80",
		"R 75", "R 69", "R 65", "R 60", "R 51", "R 50", "R 45", "R 32", "R 27", "R 26", "R 25", "R 24", "R 18", "R 12",
		"K 1600", "K 1300", "K 1200", "K 1100", "K 100", "K 75", "K 1", "F 900", "F 850", "F 800", "F 750",
		"F 700", "F 650", "G 310", "G 450", "G 650", "S 1000", "M 1000", "C 400", "C 600", "C 650", "CE 02",
		"CE 04", "HP2", "HP4"}
	compact := []string{"GS", "RT", "RS", "R", "XR", "RR", "GT", "GTL", "X", "S"}
	for _, base := range bases {
		joined := strings.ReplaceAll(base, " ", "")
		aliases := []string{}
		if joined != base {
			aliases = append(aliases, joined)
		}
		for _, v := range compact {
			aliases = append(aliases, joined+v)
		}
		b.Models = append(b.Models, Model{Name: base, Aliases: aliases})
	}
	b.Models = append(b.Models,
		Model{Name: "R nineT", Aliases: []string{"RnineT", "R nine T", "R9T"}},
		Model{Name: "GS", Ambiguous: true},
		Model{Name: "Vision CE"},
	)
	return b
}

func miniBrand() Brand {
	return Brand{
		Name:       "MINI",
		Prefixes:   []string{"MINI", "Mini"},
		KeepPrefix: true,
		Variants: []string{"S", "SE", "SD", "C", "E", "D", "JCW", "John Cooper Works", "ALL4", "Electric",
			"Convertible", "Cabrio", "Hatch", "3-door", "5-door", "3-Türer", "5-Türer", "Classic", "Works"},
		Models: []Model{
			{Name: "Cooper", Ambiguous: true},
			{Name: "Countryman"},
			{Name: "Clubman"},
			{Name: "Aceman"},
			{Name: "Paceman"},
			{Name: "John Cooper Works", Aliases: []string{"JCW"}},
			{Name: "Convertible", NeedsBrand: true},
			{Name: "Cabrio", NeedsBrand: true},
			{Name: "Electric", NeedsBrand: true},
			{Name: "One", NeedsBrand: true},
			{Name: "Coupé", Aliases: []string{"Coupe"}, NeedsBrand: true},
			{Name: "Roadster", NeedsBrand: true},
			{Name: "Moke", NeedsBrand: true},
			{Name: "Hatch", NeedsBrand: true},
		},
	}
}

func rollsRoyceBrand() Brand {
	return Brand{
		Name:     "Rolls-Royce",
		Prefixes: []string{"Rolls-Royce", "Rolls Royce", "RollsRoyce", "Rolls"},
		Variants: []string{"Black Badge", "Extended", "Series II", "Drophead", "Drophead Coupé", "Coupé", "EWB",
			"Bespoke", "Shadow", "Series 2"},
		Models: []Model{
			{Name: "Phantom"}, {Name: "Ghost"}, {Name: "Cullinan"}, {Name: "Spectre"}, {Name: "Wraith"},
			{Name: "Dawn"}, {Name: "Droptail", Aliases: []string{"Arcadia Droptail", "La Rose Noire Droptail"}},
			{Name: "Boat Tail"}, {Name: "Sweptail"}, {Name: "Silver Ghost"}, {Name: "Silver Shadow"},
			{Name: "Silver Spirit"}, {Name: "Silver Cloud"}, {Name: "Silver Seraph"}, {Name: "Silver Spur"},
			{Name: "Corniche"}, {Name: "Camargue"},
		},
	}
}
