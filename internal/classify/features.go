package classify

import (
	"strings"
)

// Features of the intent model: the lexicon cues found in the message, a few
// message-level signals (question mark, link, leading @mention, emoji classes,
// length), and hashed word unigrams and bigrams of the folded text in which
// model names, links, mentions, numbers and emoji are replaced by
// placeholders ("zzmodel", "zzurl", ...), so that "what does the X5 cost" and
// "what does the i4 cost" share their n-grams.

const (
	gQuestion = iota
	gExclaim
	gMultiExclaim
	gLeadMention
	gMention
	gURL
	gPhone
	gModel
	gMultiModel
	gMoney
	gShort
	gMedium
	gLong
	gShout
	gHashtag
	gNoWords
	gDigits
	gNoCue   // no lexicon cue fired: "everything else" is other
	gEmoji   // + emoji class - 1
	nGlobals = gEmoji + int(emoCount) - 1
)

var nCues = len(cueDefs)

// denseBits is the set of active dense features: cues first, then globals.
type denseBits [2]uint64

func (d *denseBits) set(i int)      { d[i>>6] |= 1 << (i & 63) }
func (d *denseBits) has(i int) bool { return d[i>>6]&(1<<(i&63)) != 0 }

func nDense() int { return nCues + nGlobals }

const sparseBits = 14

var (
	hBeg   = hashString("zzbeg")
	hEnd   = hashString("zzend")
	hNum   = hashString("zznum")
	hYear  = hashString("zzyear")
	hModel = hashString("zzmodel")
	hPhone = hashString("zzphone")
	hMoney = hashString("zzmoney")
	hQ     = hashString("?")
	hX     = hashString("!")
	hEmo   [emoCount]uint64
)

func init() {
	for i, w := range emoWords {
		hEmo[i] = hashString(w)
	}
	if nDense() > 128 {
		panic("classify: too many dense features")
	}
}

// compileLexicon folds the lexicon phrases into the automaton's alphabet.
func compileLexicon() *acAutomaton {
	var pats []string
	var cues []int
	for ci, d := range cueDefs {
		for _, p := range d.pats {
			open := strings.HasPrefix(p, "*")
			openEnd := strings.HasSuffix(p, "*")
			body := strings.Trim(p, "*")
			sc := newScratch()
			tokenize(body, sc)
			var b strings.Builder
			if !open {
				b.WriteByte(' ')
			}
			for i, t := range sc.toks {
				if i > 0 {
					b.WriteByte(' ')
				}
				switch t.kind {
				case tkWord:
					b.Write(sc.fold[t.fs:t.fe])
				case tkQuestion:
					b.WriteByte('?')
				case tkExclaim:
					b.WriteByte('!')
				}
			}
			if !openEnd {
				b.WriteByte(' ')
			}
			if strings.TrimSpace(b.String()) == "" {
				continue
			}
			pats = append(pats, b.String())
			cues = append(cues, ci)
		}
	}
	return buildAC(pats, cues)
}

func isYear(b []byte) bool {
	return len(b) == 4 && (b[0] == '1' && b[1] == '9' || b[0] == '2' && b[1] == '0')
}

// buildFeatures fills sc.norm, sc.dense and sc.sparse from sc.toks/sc.spans.
func buildFeatures(sc *scratch, lang string) {
	norm := append(sc.norm[:0], " zzbeg "...)
	sparse := sc.sparse[:0]
	var dense denseBits
	const mask = 1<<sparseBits - 1
	prev := hBeg
	emit := func(w string, h uint64) {
		norm = append(norm, w...)
		norm = append(norm, ' ')
		sparse = append(sparse, uint32(h&mask), uint32(combine(prev, h)&mask))
		prev = h
	}
	emitB := func(w []byte, h uint64) {
		norm = append(norm, w...)
		norm = append(norm, ' ')
		sparse = append(sparse, uint32(h&mask), uint32(combine(prev, h)&mask))
		prev = h
	}
	var emo [emoCount]uint8
	words, exclaims, models := 0, 0, 0
	mentionOrURL := false
	si := 0
	toks := sc.toks
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		if si < len(sc.spans) && int(sc.spans[si].a) == i {
			emit("zzmodel", hModel)
			i = int(sc.spans[si].b)
			si++
			models++
			continue
		}
		switch t.kind {
		case tkWord:
			w := sc.fold[t.fs:t.fe]
			switch {
			case t.flags&tfPhone != 0:
				dense.set(nCues + gPhone)
				if i == 0 || toks[i-1].flags&tfPhone == 0 {
					emit("zzphone", hPhone)
				}
				continue
			case t.flags&tfAllDigit != 0:
				dense.set(nCues + gDigits)
				if isYear(w) {
					emit("zzyear", hYear)
				} else {
					emitB(w, hNum)
				}
				continue
			}
			words++
			if t.flags&tfHashtag != 0 {
				dense.set(nCues + gHashtag)
			}
			if t.flags&tfAllUpper != 0 && t.e-t.s >= 5 {
				dense.set(nCues + gShout)
			}
			emitB(w, t.h)
		case tkURL:
			dense.set(nCues + gURL)
			mentionOrURL = true
			emit("zzurl", hURL)
		case tkMention:
			dense.set(nCues + gMention)
			if i == 0 {
				dense.set(nCues + gLeadMention)
			}
			mentionOrURL = true
			emit("zzmention", hMention)
		case tkQuestion:
			dense.set(nCues + gQuestion)
			emit("?", hQ)
		case tkExclaim:
			exclaims++
			emit("!", hX)
		case tkMoney:
			dense.set(nCues + gMoney)
			emit("zzmoney", hMoney)
		case tkEmoji:
			if emo[t.emo] < 255 {
				emo[t.emo]++
			}
			dense.set(nCues + gEmoji + int(t.emo) - 1)
			emit(emoWords[t.emo], hEmo[t.emo])
		}
	}
	norm = append(norm, "zzend "...)
	sparse = append(sparse, uint32(combine(prev, hEnd)&mask))
	if exclaims > 0 {
		dense.set(nCues + gExclaim)
	}
	if exclaims > 1 {
		dense.set(nCues + gMultiExclaim)
	}
	if models > 0 {
		dense.set(nCues + gModel)
	}
	if models > 1 {
		dense.set(nCues + gMultiModel)
	}
	switch {
	case words == 0:
		dense.set(nCues + gNoWords)
	case words <= 3:
		dense.set(nCues + gShort)
	case words <= 12:
		dense.set(nCues + gMedium)
	case words > 25:
		dense.set(nCues + gLong)
	}
	var cues cueBits
	shared.ac.scan(norm, &cues)
	dense[0] |= cues[0] // cue i is dense feature i
	dense[1] |= cues[1]
	if cues.empty() {
		dense.set(nCues + gNoCue)
	}
	sc.dense = dense
	sc.norm = norm
	sc.sparse = sparse
	sc.emo = emo
	sc.noWord = lang == LangUndetermined && !mentionOrURL && emoCountAny(&emo)
}

func emoCountAny(e *[emoCount]uint8) bool {
	for _, n := range e[1:] {
		if n > 0 {
			return true
		}
	}
	return false
}
