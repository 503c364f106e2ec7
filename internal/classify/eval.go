package classify

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strings"
)

// Record is one labelled message (the format of intent-dev.jsonl).
type Record struct {
	ID     string   `json:"id"`
	Text   string   `json:"text"`
	Lang   string   `json:"lang"`
	Intent string   `json:"intent"`
	Models []string `json:"models"`
}

//go:embed data/intent-dev.jsonl
var devSetJSONL []byte

// labelled holds every labelled message set: the project's development set
// (intent-dev.jsonl) and the sets written since (intent-more*.jsonl, each
// written later and first scored, unseen, as a hold-out; see
// BENCHMARKS.md).
//
//go:embed data/intent-*.jsonl
var labelled embed.FS

// DevSet returns the project's labelled development set.
func DevSet() []Record {
	recs, err := LoadRecords(bytes.NewReader(devSetJSONL))
	if err != nil {
		panic("classify: embedded dev set: " + err.Error())
	}
	return recs
}

// LabelledSet returns one embedded labelled set by file name
// ("intent-more3.jsonl").
func LabelledSet(name string) ([]Record, error) {
	b, err := labelled.ReadFile("data/" + name)
	if err != nil {
		return nil, err
	}
	recs, err := LoadRecords(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return recs, nil
}

// TrainingSet returns every labelled message embedded in the package, the
// training data of the shipped classifier: more labelled data is what
// teaches it new wording.
func TrainingSet() []Record {
	entries, err := labelled.ReadDir("data")
	if err != nil {
		panic("classify: embedded labelled data: " + err.Error())
	}
	var all []Record
	for _, e := range entries { // sorted by name: dev first
		recs, err := LabelledSet(e.Name())
		if err != nil {
			panic("classify: embedded labelled data: " + err.Error())
		}
		all = append(all, recs...)
	}
	return all
}

// LoadRecords reads labelled records from JSON Lines.
func LoadRecords(r io.Reader) ([]Record, error) {
	var recs []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if intentIndex(rec.Intent) < 0 {
			return nil, fmt.Errorf("line %d: unknown intent %q", line, rec.Intent)
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}

// IntentStats are precision, recall and F1 of one intent.
type IntentStats struct {
	Intent    string
	Support   int // gold messages with this intent
	TP, FP    int
	FN        int
	Precision float64
	Recall    float64
	F1        float64
}

// Miss is a misclassified message in a report.
type Miss struct {
	ID, Text, Gold, Pred string
	Score                float64
}

// Report is the outcome of an evaluation.
type Report struct {
	Folds int
	Seed  int64
	N     int

	PerIntent  [nIntents]IntentStats
	Confusion  [nIntents][nIntents]int // [gold][predicted]
	Accuracy   float64
	MacroF1    float64
	PurchaseF1 float64

	LangAccuracy float64
	LangErrors   []Miss // Gold/Pred hold language codes

	// Model extraction, counted per name (exact string match).
	ModelPrecision float64
	ModelRecall    float64
	ModelErrors    []Miss // Gold/Pred hold the name lists

	Misses []Miss
}

// CrossValidate estimates quality on unseen messages: the records are split
// into k folds stratified by intent (shuffled with seed); each fold is
// classified by a classifier trained on the other folds with the default
// catalogue. Language and model extraction do not learn from the data, so
// they are scored on the same predictions.
func CrossValidate(records []Record, k int, seed int64) Report {
	if k < 2 {
		k = 2
	}
	fold := assignFolds(records, k, seed)
	cat := DefaultCatalogue()
	preds := make([]Result, len(records))
	for f := 0; f < k; f++ {
		var train []Record
		for i, r := range records {
			if fold[i] != f {
				train = append(train, r)
			}
		}
		c := NewTrained(cat, train)
		for i, r := range records {
			if fold[i] == f {
				preds[i] = c.Classify(r.Text)
			}
		}
	}
	rep := Evaluate(records, preds)
	rep.Folds, rep.Seed = k, seed
	return rep
}

// assignFolds deals each intent's records round-robin to the folds after a
// seeded shuffle, so every fold has about the same intent mix.
func assignFolds(records []Record, k int, seed int64) []int {
	rng := rand.New(rand.NewSource(seed))
	byIntent := map[string][]int{}
	for i, r := range records {
		byIntent[r.Intent] = append(byIntent[r.Intent], i)
	}
	fold := make([]int, len(records))
	next := 0
	for _, name := range Intents {
		idx := byIntent[name]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

// Evaluate scores predictions against the labelled records.
func Evaluate(records []Record, preds []Result) Report {
	var rep Report
	rep.N = len(records)
	correct, langOK := 0, 0
	modelTP, modelPred, modelGold := 0, 0, 0
	for i, r := range records {
		p := preds[i]
		g, q := intentIndex(r.Intent), intentIndex(p.Intent)
		if g >= 0 && q >= 0 {
			rep.Confusion[g][q]++
		}
		if g == q {
			correct++
		} else {
			rep.Misses = append(rep.Misses, Miss{ID: r.ID, Text: r.Text, Gold: r.Intent, Pred: p.Intent, Score: p.Score})
		}
		if r.Lang == p.Lang {
			langOK++
		} else {
			rep.LangErrors = append(rep.LangErrors, Miss{ID: r.ID, Text: r.Text, Gold: r.Lang, Pred: p.Lang})
		}
		gold := map[string]int{}
		for _, m := range r.Models {
			gold[m]++
		}
		tp := 0
		for _, m := range p.Models {
			if gold[m] > 0 {
				gold[m]--
				tp++
			}
		}
		modelTP += tp
		modelPred += len(p.Models)
		modelGold += len(r.Models)
		if tp != len(p.Models) || tp != len(r.Models) {
			rep.ModelErrors = append(rep.ModelErrors, Miss{ID: r.ID, Text: r.Text,
				Gold: fmt.Sprintf("%q", r.Models), Pred: fmt.Sprintf("%q", p.Models)})
		}
	}
	macro := 0.0
	for k := 0; k < nIntents; k++ {
		st := IntentStats{Intent: Intents[k]}
		for j := 0; j < nIntents; j++ {
			st.Support += rep.Confusion[k][j]
			if j != k {
				st.FN += rep.Confusion[k][j]
				st.FP += rep.Confusion[j][k]
			}
		}
		st.TP = rep.Confusion[k][k]
		st.Precision = ratio(st.TP, st.TP+st.FP)
		st.Recall = ratio(st.TP, st.TP+st.FN)
		if st.Precision+st.Recall > 0 {
			st.F1 = 2 * st.Precision * st.Recall / (st.Precision + st.Recall)
		}
		rep.PerIntent[k] = st
		macro += st.F1
	}
	rep.MacroF1 = macro / nIntents
	rep.PurchaseF1 = rep.PerIntent[iPurchase].F1
	rep.Accuracy = ratio(correct, len(records))
	rep.LangAccuracy = ratio(langOK, len(records))
	rep.ModelPrecision = ratio(modelTP, modelPred)
	rep.ModelRecall = ratio(modelTP, modelGold)
	sort.Slice(rep.Misses, func(a, b int) bool { return rep.Misses[a].ID < rep.Misses[b].ID })
	return rep
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// String renders the report as a table.
func (r Report) String() string {
	var b strings.Builder
	if r.Folds > 0 {
		fmt.Fprintf(&b, "%d-fold cross-validation (seed %d), %d messages\n", r.Folds, r.Seed, r.N)
	}
	fmt.Fprintf(&b, "%-10s %9s %9s %9s %8s\n", "intent", "precision", "recall", "F1", "support")
	for _, s := range r.PerIntent {
		fmt.Fprintf(&b, "%-10s %9.3f %9.3f %9.3f %8d\n", s.Intent, s.Precision, s.Recall, s.F1, s.Support)
	}
	fmt.Fprintf(&b, "macro-F1 %.3f  purchase F1 %.3f  accuracy %.3f\n", r.MacroF1, r.PurchaseF1, r.Accuracy)
	fmt.Fprintf(&b, "language accuracy %.3f\n", r.LangAccuracy)
	fmt.Fprintf(&b, "model names: precision %.3f recall %.3f\n", r.ModelPrecision, r.ModelRecall)
	return b.String()
}
