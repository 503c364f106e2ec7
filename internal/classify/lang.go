package classify

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Language identification: function-word hits plus character-trigram
// log-likelihoods from built-in profiles, plus a bonus for letters that
// belong to few languages (ß, ñ, ã, ł ...). Words that say nothing about the
// language are skipped: @mentions, links, hashtags, model names, numbers and
// words in capitals (mostly brands and acronyms).

const (
	triBits    = 14
	triScale   = 8    // int8 fixed point for centred trigram log-probabilities
	stopWeight = 2.0  // one function word
	triWeight  = 0.12 // per trigram
	accWeight  = 1.5  // one distinctive letter
)

type langModel struct {
	stop *u64Table      // hash of lower-case word -> bit set of languages
	tri  [][nLangs]int8 // trigram bucket -> centred log-probability per language
}

func triHash(a, b, c rune) uint64 {
	h := uint64(a)*0x9E3779B185EBCA87 ^ uint64(b)
	h = h*0xC2B2AE3D27D4EB4F ^ uint64(c)
	h *= 0x165667B19E3779F9
	return h >> (64 - triBits)
}

func lowerRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

func hashLowerWord(w string) uint64 {
	h := fnvOffset
	var buf [4]byte
	for _, r := range w {
		r = lowerRune(r)
		if r < utf8.RuneSelf {
			h = hashStep(h, byte(r))
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for _, c := range buf[:n] {
			h = hashStep(h, c)
		}
	}
	return h
}

func buildLangModel() *langModel {
	lm := &langModel{stop: newU64Table(2048), tri: make([][nLangs]int8, 1<<triBits)}
	for l, list := range stopwords {
		for _, w := range strings.Fields(list) {
			lm.stop.or(hashLowerWord(w), 1<<uint(l))
			if strings.ContainsAny(w, "'’") { // also as split at the apostrophe
				for _, part := range strings.FieldsFunc(w, func(r rune) bool { return r == '\'' || r == '’' }) {
					lm.stop.or(hashLowerWord(part), 1<<uint(l))
				}
			}
		}
	}
	var counts [nLangs][]float64
	var totals [nLangs]float64
	for l, text := range langSamples {
		counts[l] = make([]float64, 1<<triBits)
		words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) })
		for _, w := range words {
			forTrigrams(w, func(b uint64) { counts[l][b]++; totals[l]++ })
		}
	}
	const alpha = 0.5
	var lp [nLangs]float64
	for b := range lm.tri {
		mean := 0.0
		for l := 0; l < nLangs; l++ {
			lp[l] = math.Log((counts[l][b] + alpha) / (totals[l] + alpha*float64(len(lm.tri))))
			mean += lp[l]
		}
		mean /= nLangs
		for l := 0; l < nLangs; l++ {
			v := math.Round((lp[l] - mean) * triScale)
			lm.tri[b][l] = int8(max(-127, min(127, v)))
		}
	}
	return lm
}

// forTrigrams calls f with the bucket of each character trigram of word,
// padded with a space on both sides (" wo", "wor", "ord", "rd ").
func forTrigrams(word string, f func(uint64)) {
	a, b := rune(' '), rune(' ')
	first := true
	for _, r := range word {
		r = lowerRune(r)
		if !first {
			f(triHash(a, b, r))
		}
		first = false
		a, b = b, r
	}
	if !first {
		f(triHash(a, b, ' '))
	}
}

// accentLang returns the languages that a letter points to.
func accentLang(r rune) uint32 {
	switch r {
	case 'ß', 'ä', 'ö', 'ü':
		return 1 << lDE
	case 'ñ':
		return 1 << lES
	case 'ã', 'õ':
		return 1 << lPT
	case 'ł', 'ą', 'ę', 'ś', 'ź', 'ż', 'ć', 'ń':
		return 1 << lPL
	case 'œ', 'è', 'ù', 'î', 'û', 'ë':
		return 1<<lFR | (1 << lIT) // è, ù also Italian
	case 'ê', 'ç':
		return 1<<lFR | 1<<lPT
	case 'ì', 'ò':
		return 1 << lIT
	case 'â', 'ô':
		return 1<<lFR | 1<<lPT
	case 'í', 'ó', 'ú', 'á':
		return 1<<lES | 1<<lPT | 1<<lPL
	}
	return 0
}

// identify returns the language code of the message, "und" when it has no
// words that carry language.
func (lm *langModel) identify(text string, toks []token, spans []span) string {
	var score [nLangs]float64
	var tri [nLangs]int32 // trigram sums in fixed point, added to score at the end
	words := 0
	si := 0
	for i, t := range toks {
		for si < len(spans) && int(spans[si].b) < i {
			si++
		}
		if si < len(spans) && int(spans[si].a) <= i && i <= int(spans[si].b) {
			continue // model name
		}
		switch t.kind {
		case tkQuestion, tkExclaim:
			if c := text[t.s]; c >= utf8.RuneSelf { // ¿ ¡
				score[lES] += accWeight
			}
			continue
		case tkWord:
		default:
			continue
		}
		if t.flags&(tfHashtag|tfDigit) != 0 || t.flags&tfLetter == 0 {
			continue
		}
		w := text[t.s:t.e]
		if t.flags&tfAllUpper != 0 && t.e-t.s <= 5 {
			// Short words in capitals are mostly brands and acronyms (BMW,
			// MINI, TÜV, ABS); they count only if they are function words
			// ("OK", "WOW", "DAS").
			m, ok := lm.stop.get(hashLowerWord(w))
			if !ok {
				continue
			}
			words++
			addMask(&score, m, stopWeight)
			continue
		}
		words++
		h := fnvOffset
		var buf [4]byte
		a, b := rune(' '), rune(' ')
		first := true
		for _, r := range w {
			r = lowerRune(r)
			if r < utf8.RuneSelf {
				h = hashStep(h, byte(r))
			} else {
				n := utf8.EncodeRune(buf[:], r)
				for _, c := range buf[:n] {
					h = hashStep(h, c)
				}
				if m := accentLang(r); m != 0 {
					addMask(&score, m, accWeight)
				}
			}
			if !first {
				addTri(&tri, &lm.tri[triHash(a, b, r)])
			}
			first = false
			a, b = b, r
		}
		addTri(&tri, &lm.tri[triHash(a, b, ' ')])
		if m, ok := lm.stop.get(h); ok {
			addMask(&score, m, stopWeight)
		}
	}
	if words == 0 {
		return LangUndetermined
	}
	for l := range score {
		score[l] += float64(tri[l]) * (triWeight / triScale)
	}
	best := 0
	for l := 1; l < nLangs; l++ {
		if score[l] > score[best] {
			best = l
		}
	}
	return langCodes[best]
}

func addMask(score *[nLangs]float64, m uint32, w float64) {
	n := 0
	for x := m; x != 0; x &= x - 1 {
		n++
	}
	w /= float64(n)
	for l := 0; l < nLangs; l++ {
		if m&(1<<uint(l)) != 0 {
			score[l] += w
		}
	}
}

func addTri(sum *[nLangs]int32, t *[nLangs]int8) {
	for l := 0; l < nLangs; l++ {
		sum[l] += int32(t[l])
	}
}
