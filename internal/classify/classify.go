// Package classify is the message classifier of the hub: for an inbound
// social message it tells the intent (purchase, support, complaint, question,
// praise, spam, other, as defined in the labelling guide), the language and
// the vehicle models named.
//
// It combines hand-written multilingual cue lexicons (lexicon.go) with a
// small logistic-regression model over those cues and hashed word n-grams,
// trained when the Classifier is created. Hand-written cues carry knowledge
// that a few hundred labelled messages cannot teach (how customers ask for a
// price in Polish); the model weighs the cues against each other and learns
// the wording the lexicon misses. Everything is pure Go without I/O, and
// classification neither allocates maps nor uses regular expressions, so a
// single core handles hundreds of thousands of messages per second.
package classify

import (
	"sync"
)

// Intent names, in the order of the guide's precedence rule
// (spam > purchase > support > complaint > question > praise > other).
const (
	IntentPurchase  = "purchase"
	IntentSupport   = "support"
	IntentComplaint = "complaint"
	IntentQuestion  = "question"
	IntentPraise    = "praise"
	IntentSpam      = "spam"
	IntentOther     = "other"
)

const nIntents = 7

const (
	iPurchase = iota
	iSupport
	iComplaint
	iQuestion
	iPraise
	iSpam
	iOther
)

// Intents lists the seven intents in a fixed order (used by reports).
var Intents = [nIntents]string{IntentPurchase, IntentSupport, IntentComplaint, IntentQuestion, IntentPraise,
	IntentSpam, IntentOther}

func intentIndex(s string) int {
	for i, n := range Intents {
		if n == s {
			return i
		}
	}
	return -1
}

// LangUndetermined is the language of messages without words (emoji only).
const LangUndetermined = "und"

// Result is the classification of one message.
type Result struct {
	Intent string `json:"intent"`
	// Lang is an ISO 639-1 code (de, en, fr, es, it, nl, pt, pl) or "und".
	Lang string `json:"lang"`
	// Models are the vehicle models named, as written, brand prefix dropped
	// except where it belongs to the name ("X5", "MINI Cooper S").
	Models []string `json:"models"`
	// Score is the model's confidence in Intent, between 0 and 1.
	Score float64 `json:"score"`
}

// Classifier classifies messages. It is immutable after New and safe for
// concurrent use.
type Classifier struct {
	models *modelIndex
	lr     *linearModel
}

// shared holds the tables that do not depend on the catalogue or training
// data; they are built once per process.
var shared struct {
	once sync.Once
	ac   *acAutomaton
	lang *langModel
}

func sharedTables() {
	shared.once.Do(func() {
		shared.ac = compileLexicon()
		shared.lang = buildLangModel()
	})
}

// New returns a classifier for the given catalogue, trained on the labelled
// messages embedded in the package.
func New(cat Catalogue) *Classifier {
	return NewTrained(cat, TrainingSet())
}

// NewTrained returns a classifier for the given catalogue trained on the
// given labelled records (cross-validation uses it to train on some folds).
func NewTrained(cat Catalogue, train []Record) *Classifier {
	sharedTables()
	c := &Classifier{models: compileCatalogue(cat)}
	ex := make([]example, 0, len(train))
	sc := newScratch()
	for _, r := range train {
		y := intentIndex(r.Intent)
		if y < 0 {
			continue
		}
		c.analyse(r.Text, sc)
		ex = append(ex, example{dense: sc.dense, sparse: append([]uint32(nil), sc.sparse...), y: y})
	}
	c.lr = trainLinear(ex, defaultTrainParams)
	return c
}

// scratch holds the per-call buffers; pooled so that classification does not
// allocate in the steady state.
type scratch struct {
	toks   []token
	fold   []byte
	norm   []byte
	spans  []span
	sparse []uint32
	dense  denseBits
	models []string
	line   []byte
	out    []byte
	noWord bool
	emo    [emoCount]uint8
}

func newScratch() *scratch {
	return &scratch{
		toks:   make([]token, 0, 64),
		fold:   make([]byte, 0, 512),
		norm:   make([]byte, 0, 1024),
		spans:  make([]span, 0, 8),
		sparse: make([]uint32, 0, 128),
		models: make([]string, 0, 8),
	}
}

var scratchPool = sync.Pool{New: func() any { return newScratch() }}

// noModels is returned for messages without model names: never nil, so
// that JSON shows [] rather than null, and shared because it is empty.
var noModels = []string{}

// maxPooledText bounds the buffers kept for reuse, so that one huge message
// does not pin its scratch memory for the life of the process.
const maxPooledText = 64 << 10

// Classify classifies one message.
func (c *Classifier) Classify(text string) Result {
	sc := scratchPool.Get().(*scratch)
	res := c.classify(text, sc)
	res.Models = noModels
	if len(sc.models) > 0 {
		res.Models = append([]string(nil), sc.models...)
	}
	putScratch(sc)
	return res
}

func putScratch(sc *scratch) {
	if cap(sc.norm) <= 2*maxPooledText && cap(sc.line) <= maxPooledText {
		sc.models = sc.models[:0] // do not keep the text alive through the names
		scratchPool.Put(sc)
	}
}

// classify leaves the model names in sc.models (they point into text).
func (c *Classifier) classify(text string, sc *scratch) Result {
	lang := c.analyse(text, sc)
	sc.models = appendModelNames(sc.models[:0], text, sc.toks, sc.spans)
	var p [nIntents]float32
	c.lr.predict(&sc.dense, sc.sparse, &p)
	best := 0
	for k := 1; k < nIntents; k++ {
		if p[k] > p[best] {
			best = k
		}
	}
	score := float64(p[best])
	if sc.noWord {
		// No words at all: the guide calls emoji-only cheers praise; laughing
		// (tagging someone) is other; eye-rolling and thumbs-down complaint.
		e := &sc.emo
		switch {
		case e[emoLove]+e[emoHype]+e[emoCelebrate]+e[emoPray]+e[emoOther] > 0 && e[emoNeg] == 0:
			best, score = iPraise, max(score, 0.9)
		case e[emoNeg] > 0 && e[emoLove]+e[emoHype] == 0:
			best, score = iComplaint, max(score, 0.8)
		case e[emoLaugh] > 0:
			best, score = iOther, max(score, 0.8)
		}
	}
	return Result{Intent: Intents[best], Lang: lang, Score: score}
}

// analyse tokenizes text, finds model names and computes the features of
// the intent model. It returns the language.
func (c *Classifier) analyse(text string, sc *scratch) string {
	tokenize(text, sc)
	sc.spans = c.models.extract(text, sc.toks, sc.fold, sc.spans[:0])
	lang := shared.lang.identify(text, sc.toks, sc.spans)
	buildFeatures(sc, lang)
	return lang
}
