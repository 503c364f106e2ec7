package classify

import (
	"strings"
	"sync"
	"testing"
)

var testClassifier = sync.OnceValue(func() *Classifier { return New(DefaultCatalogue()) })

// Cases for the guide's rules, phrased differently from the dev set.
func TestIntentGuideCases(t *testing.T) {
	c := testClassifier()
	cases := []struct{ text, intent string }{
		// precedence: a buying signal wins over complaint and praise
		{"The dealer in Bonn never called me back after the test drive, and I really wanted to order the car.", IntentPurchase},
		{"Love it!! What would leasing one cost per month?", IntentPurchase},
		{"Absolutely gorgeous. How much is it with the bigger battery?", IntentPurchase},
		// spam wins over everything
		{"Best prices on car wraps!!! DM for prices or WhatsApp +44 7700 900456", IntentSpam},
		{"Congratulations, you have won a free X5! Click the link in bio to claim 🎁", IntentSpam},
		// specs alone are questions, unless the author says they will buy
		{"What is the towing capacity of the X5 xDrive50e?", IntentQuestion},
		{"Wie groß ist der Kofferraum beim i5 Touring?", IntentQuestion},
		{"Does the i4 have a heat pump as standard? If yes I'm buying one next month.", IntentPurchase},
		// order already placed is support; before ordering it is purchase
		{"Ordered my X1 in May and paid the deposit, any update on the delivery date?", IntentSupport},
		{"If I order an X1 this week, how long is the delivery time?", IntentPurchase},
		// support wins over complaint
		{"Fourth workshop visit for the same rattle in my dashboard. Ridiculous.", IntentSupport},
		{"Pure complaint: the new grille is the ugliest thing you have ever designed.", IntentComplaint},
		{"Never again. The salesman ignored me for half an hour.", IntentComplaint},
		{"Are there internships in Munich for computer science students?", IntentQuestion},
		{"Congrats on the Le Mans result, what a race! 🏁", IntentPraise},
		{"@anna_k look, your dream car 😂", IntentOther},
		{"ok", IntentOther},
		{"First!", IntentOther},
	}
	for _, tc := range cases {
		if got := c.Classify(tc.text); got.Intent != tc.intent {
			t.Errorf("%q: intent %s (%.2f), want %s", tc.text, got.Intent, got.Score, tc.intent)
		}
	}
}

func TestEmojiOnly(t *testing.T) {
	c := testClassifier()
	for _, text := range []string{"🔥🔥🔥😍", "👏👏❤️", "💙🤍💙🤍🏁", "😍"} {
		got := c.Classify(text)
		if got.Lang != LangUndetermined || got.Intent != IntentPraise {
			t.Errorf("%q: %s/%s, want und/praise", text, got.Lang, got.Intent)
		}
		if got.Models == nil || len(got.Models) != 0 {
			t.Errorf("%q: models %#v, want empty non-nil", text, got.Models)
		}
	}
	if got := c.Classify("🙄🙄"); got.Intent != IntentComplaint || got.Lang != LangUndetermined {
		t.Errorf("eye-roll only: %s/%s, want und/complaint", got.Lang, got.Intent)
	}
	if got := c.Classify(""); got.Lang != LangUndetermined || got.Intent == "" {
		t.Errorf("empty message: %+v", got)
	}
}

func TestLanguages(t *testing.T) {
	c := testClassifier()
	cases := map[string]string{
		"Wann hat das Museum am Sonntag geöffnet?":                    "de",
		"Can someone tell me when the museum opens on Sunday?":        "en",
		"Est-ce que le musée est ouvert le dimanche ?":                "fr",
		"¿El museo abre los domingos por la mañana?":                  "es",
		"Il museo è aperto anche la domenica mattina?":                "it",
		"Is het museum op zondag ook open?":                           "nl",
		"O museu abre aos domingos de manhã?":                         "pt",
		"Czy muzeum jest otwarte w niedzielę?":                        "pl",
		"Traumwagen, einfach nur schön":                               "de",
		"mooi hoor, echt gaaf":                                        "nl",
		"@someone 😂😂":                                                 LangUndetermined,
		"BMW X5 🔥":                                                    LangUndetermined,
		"Qué belleza 😍":                                               "es",
		"Que beleza de carro, parabéns pelo trabalho!":                "pt",
		"Gratulacje dla całego zespołu, piękny samochód!":             "pl",
		"Magnifique voiture, bravo à toute l'équipe de design":        "fr",
		"Complimenti a tutto il team, una macchina davvero stupenda!": "it",
		"Mein Händler meldet sich nicht zurück, was kann ich tun?":    "de",
		"my dealer isn't answering, what can I do?":                   "en",
	}
	for text, want := range cases {
		if got := c.Classify(text).Lang; got != want {
			t.Errorf("%q: lang %s, want %s", text, got, want)
		}
	}
}

func TestScoreRange(t *testing.T) {
	c := testClassifier()
	for _, r := range DevSet() {
		res := c.Classify(r.Text)
		if res.Score <= 0 || res.Score > 1 {
			t.Fatalf("%s: score %v outside (0,1]", r.ID, res.Score)
		}
		if intentIndex(res.Intent) < 0 {
			t.Fatalf("%s: unknown intent %q", r.ID, res.Intent)
		}
	}
}

// The classifier must be usable from many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := testClassifier()
	recs := DevSet()
	want := make([]Result, len(recs))
	for i, r := range recs {
		want[i] = c.Classify(r.Text)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := range recs {
				j := (i + g*37) % len(recs)
				got := c.Classify(recs[j].Text)
				if got.Intent != want[j].Intent || got.Lang != want[j].Lang ||
					strings.Join(got.Models, "|") != strings.Join(want[j].Models, "|") {
					t.Errorf("%s: concurrent result %+v differs from %+v", recs[j].ID, got, want[j])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestAllocations(t *testing.T) {
	c := testClassifier()
	c.Classify("warm up")
	if n := testing.AllocsPerRun(200, func() {
		c.Classify("Was kostet das Leasing für einen Neuwagen? Komme aus Stuttgart.")
	}); n > 0 {
		t.Errorf("message without models: %.1f allocations per call, want 0", n)
	}
	if n := testing.AllocsPerRun(200, func() {
		c.Classify("Was kostet der X3 30e xDrive im Leasing?")
	}); n > 1 {
		t.Errorf("message with a model: %.1f allocations per call, want at most 1 (the Models slice)", n)
	}
}
