package classify

import (
	"os"
	"testing"
)

// TestCrossValidation checks quality on messages the model was not trained
// on: each fold is classified by a model trained on the other folds. The
// lexicon is fixed and was written with the dev set in view, so this figure is
// optimistic for the cue part; TestHoldout covers that.
func TestCrossValidation(t *testing.T) {
	recs := DevSet()
	rep := CrossValidate(recs, 10, 1)
	t.Log("\n" + rep.String())
	if testing.Verbose() {
		for _, m := range rep.Misses {
			t.Logf("intent %s gold=%s pred=%s %.2f | %s", m.ID, m.Gold, m.Pred, m.Score, m.Text)
		}
		for _, m := range rep.LangErrors {
			t.Logf("lang %s gold=%s pred=%s | %s", m.ID, m.Gold, m.Pred, m.Text)
		}
		for _, m := range rep.ModelErrors {
			t.Logf("models %s gold=%s pred=%s | %s", m.ID, m.Gold, m.Pred, m.Text)
		}
	}
	if rep.MacroF1 < 0.85 {
		t.Errorf("macro-F1 %.3f < 0.85", rep.MacroF1)
	}
	if rep.PurchaseF1 < 0.95 {
		t.Errorf("purchase F1 %.3f < 0.95", rep.PurchaseF1)
	}
	if rep.LangAccuracy < 0.95 {
		t.Errorf("language accuracy %.3f < 0.95", rep.LangAccuracy)
	}
}

// TestHoldout scores the shipped classifier (trained on the whole dev set)
// on messages that are not in the dev set, written in phrasings it does not
// use. intent-holdout.jsonl was written after the first lexicon and then used
// to find gaps; intent-holdout2.jsonl was written later and scored once
// before any change (macro-F1 0.869, purchase F1 0.938, language 0.986), then
// used to fix general gaps it revealed. Both now guard against regressions.
func TestHoldout(t *testing.T) {
	for _, name := range []string{"testdata/intent-holdout.jsonl", "testdata/intent-holdout2.jsonl"} {
		t.Run(name, func(t *testing.T) { testHoldout(t, name) })
	}
}

func testHoldout(t *testing.T, name string) {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := LoadRecords(f)
	if err != nil {
		t.Fatal(err)
	}
	c := New(DefaultCatalogue())
	preds := make([]Result, len(recs))
	for i, r := range recs {
		preds[i] = c.Classify(r.Text)
	}
	rep := Evaluate(recs, preds)
	t.Log("\n" + rep.String())
	if testing.Verbose() {
		for _, m := range rep.Misses {
			t.Logf("intent %s gold=%s pred=%s %.2f | %s", m.ID, m.Gold, m.Pred, m.Score, m.Text)
		}
		for _, m := range rep.LangErrors {
			t.Logf("lang %s gold=%s pred=%s | %s", m.ID, m.Gold, m.Pred, m.Text)
		}
		for _, m := range rep.ModelErrors {
			t.Logf("models %s gold=%s pred=%s | %s", m.ID, m.Gold, m.Pred, m.Text)
		}
	}
	if rep.MacroF1 < 0.85 || rep.PurchaseF1 < 0.9 || rep.LangAccuracy < 0.95 || rep.ModelRecall < 0.95 {
		t.Errorf("hold-out regression: macro-F1 %.3f, purchase F1 %.3f, language %.3f, model recall %.3f",
			rep.MacroF1, rep.PurchaseF1, rep.LangAccuracy, rep.ModelRecall)
	}
}
