package classify

import (
	"testing"
)

func logReport(t *testing.T, rep Report) {
	t.Helper()
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
}

// TestCrossValidation checks quality on messages the model was not trained
// on: all labelled data (the dev set and the sets written since), each fold
// classified by a model trained on the other folds. The cue lexicon is fixed
// and was written with the older sets in view, so this figure is optimistic
// for the cue part; TestNewestSetUnseen and BENCHMARKS.md's first scores of
// each new set are the honest check on wording the lexicon never saw.
func TestCrossValidation(t *testing.T) {
	rep := CrossValidate(TrainingSet(), 10, 1)
	logReport(t, rep)
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

// TestNewestSetUnseen scores the newest labelled set (intent-more3.jsonl,
// 160 messages in eight languages written without sight of the classifier)
// with a model trained on everything else. Scored once before any change it
// gave macro-F1 0.875, purchase F1 0.889, language 0.994; general cue gaps it
// showed (callbacks, reserving, finishing an order, deal adverts for every
// brand) were then filled, so it guards against regressions now.
func TestNewestSetUnseen(t *testing.T) {
	newest, err := LabelledSet("intent-more3.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range newest {
		seen[r.ID] = true
	}
	var train []Record
	for _, r := range TrainingSet() {
		if !seen[r.ID] {
			train = append(train, r)
		}
	}
	c := NewTrained(DefaultCatalogue(), train)
	preds := make([]Result, len(newest))
	for i, r := range newest {
		preds[i] = c.Classify(r.Text)
	}
	rep := Evaluate(newest, preds)
	logReport(t, rep)
	if rep.MacroF1 < 0.85 || rep.PurchaseF1 < 0.9 || rep.LangAccuracy < 0.95 {
		t.Errorf("newest set: macro-F1 %.3f, purchase F1 %.3f, language %.3f", rep.MacroF1, rep.PurchaseF1, rep.LangAccuracy)
	}
}
