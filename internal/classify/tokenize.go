package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The tokenizer makes one pass over a message and yields words (with their
// byte span in the original text and a hash of their folded, lower-cased
// form), URLs, @mentions, question and exclamation marks, currency symbols and
// emoji classes. Everything downstream (model names, language, intent cues,
// the n-gram model) works from that one token list.

type tokKind uint8

const (
	tkWord tokKind = iota
	tkURL
	tkMention
	tkQuestion
	tkExclaim
	tkMoney
	tkEmoji
)

const (
	tfUpper      uint16 = 1 << iota // contains an upper-case letter
	tfFirstUpper                    // starts with an upper-case letter
	tfAllUpper                      // two or more letters, all upper case ("BMW", "BESTELLEN")
	tfLetter                        // contains a letter
	tfDigit                         // contains a digit
	tfAllDigit                      // digits only (with inner . or , as in "3.0", "15.000")
	tfHashtag                       // written as #word
	tfApos                          // directly preceded by an apostrophe (the "s" of "dad's")
	tfBreak                         // punctuation other than - and / since the previous token
	tfPhone                         // part of a phone number
	tfPlus                          // number written with a leading +
	tfAccent                        // contains a non-ASCII letter
)

type token struct {
	s, e   int32  // byte span in the original text
	fs, fe int32  // byte span of the folded form in scratch.fold
	h      uint64 // hash of the folded form
	kind   tokKind
	emo    uint8 // emoji class for tkEmoji
	flags  uint16
}

// Emoji classes. Emoji carry much of the tone of social messages ("😂" tags a
// friend, "🙄" is sarcasm, "🔥😍" is praise), but individual emoji are too rare
// to learn one by one, so they are grouped.
const (
	emoNone uint8 = iota
	emoLove
	emoHype
	emoLaugh
	emoNeg
	emoCash
	emoCTA
	emoCelebrate
	emoPray
	emoOther
	emoCount
	emoSkip uint8 = 255 // joiners, variation selectors, skin tones
)

var emoWords = [emoCount]string{"", "zzlove", "zzhype", "zzlaugh", "zzneg", "zzcash", "zzcta", "zzcelebrate", "zzpray", "zzemo"}

func emojiClass(r rune) uint8 {
	switch r {
	case 0x2764, 0x2665, 0x1F60D, 0x1F970, 0x1F618, 0x1F499, 0x1F49A, 0x1F49B, 0x1F49C, 0x1F9E1,
		0x1F5A4, 0x1F90D, 0x1F90E, 0x1F497, 0x1F496, 0x1F495, 0x1F49E, 0x1F493, 0x1F63B, 0x1F929, 0x1F498:
		return emoLove
	case 0x1F525, 0x1F4AF, 0x26A1, 0x1F680, 0x1F4AA, 0x1F44F, 0x1F64C, 0x1F3C1, 0x1F44D, 0x1F3C6,
		0x1F60E, 0x1F918, 0x2728, 0x2B50, 0x1F31F, 0x1F947, 0x1F44C, 0x1F62E, 0x1F924, 0x1F60A, 0x263A:
		return emoHype
	case 0x1F602, 0x1F923, 0x1F605, 0x1F606, 0x1F601, 0x1F604, 0x1F603, 0x1F600, 0x1F648, 0x1F61C,
		0x1F61D, 0x1F61B, 0x1F92A, 0x1F639, 0x1F609, 0x1F92D:
		return emoLaugh
	case 0x1F644, 0x1F621, 0x1F620, 0x1F92C, 0x1F624, 0x1F44E, 0x1F612, 0x1F61E, 0x1F629, 0x1F62B,
		0x1F622, 0x1F62D, 0x1F926, 0x1F937, 0x1F4A9, 0x1F611, 0x1F610, 0x1F921, 0x1F614, 0x1F615,
		0x1F641, 0x2639, 0x1F92E, 0x1F922, 0x1F62C, 0x1F928:
		return emoNeg
	case 0x1F4B0, 0x1F4B8, 0x1F4B5, 0x1F4B6, 0x1F4B7, 0x1F911, 0x1F4B2, 0x1F48E, 0x1F4C8:
		return emoCash
	case 0x1F381, 0x1F389, 0x1F38A, 0x1F388, 0x1F449, 0x1F447, 0x27A1, 0x1F517, 0x1F4F2, 0x1F193,
		0x2705, 0x2192, 0x1F4E9, 0x1F4AC:
		return emoCTA
	case 0x1F973, 0x1F384, 0x1F423, 0x1F382, 0x1F385, 0x1F386, 0x1F37E, 0x1F942, 0x1F370, 0x1F370 + 1:
		return emoCelebrate
	case 0x1F64F:
		return emoPray
	case 0xFE0F, 0xFE0E, 0x200D, 0x20E3, 0x2640, 0x2642:
		return emoSkip
	}
	switch {
	case r >= 0x1F3FB && r <= 0x1F3FF:
		return emoSkip
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2B00 && r <= 0x2BFF,
		r >= 0x2300 && r <= 0x23FF, r >= 0x2190 && r <= 0x21FF:
		return emoOther
	}
	return emoNone
}

// foldTab maps runes below foldMax to their lower-case, accent-free form
// ("Ä" -> "a", "ß" -> "ss", "Ł" -> "l"). Folding lets one lexicon entry match
// the many ways customers write a word (with or without accents, any case).
const foldMax = 0x370

var foldTab [foldMax]string

var foldGroups = [...]struct{ from, to string }{
	{"àáâãäåāăą", "a"}, {"æ", "ae"}, {"çćĉċč", "c"}, {"ďđð", "d"}, {"èéêëēĕėęě", "e"},
	{"ĝğġģ", "g"}, {"ĥħ", "h"}, {"ìíîïĩīĭįı", "i"}, {"ĳ", "ij"}, {"ĵ", "j"}, {"ķ", "k"},
	{"ĺļľŀł", "l"}, {"ñńņňŉ", "n"}, {"òóôõöøōŏő", "o"}, {"œ", "oe"}, {"ŕŗř", "r"},
	{"śŝşšș", "s"}, {"ß", "ss"}, {"ţťŧț", "t"}, {"ùúûüũūŭůűų", "u"}, {"ŵ", "w"},
	{"ýÿŷ", "y"}, {"źżž", "z"}, {"þ", "th"},
}

func init() {
	for r := rune(0x80); r < foldMax; r++ {
		l := unicode.ToLower(r)
		for _, g := range foldGroups {
			if strings.ContainsRune(g.from, l) {
				foldTab[r] = g.to
				break
			}
		}
		if foldTab[r] == "" && unicode.IsLetter(l) {
			foldTab[r] = string(l)
		}
	}
}

func appendFold(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	if r < foldMax {
		return append(dst, foldTab[r]...) // combining marks fold to nothing
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

// asciiClass speeds up the common ASCII case of the rune tests below.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			t[c] = chWord
		case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			t[c] = chSpace
		}
	}
	return
}()

const (
	chOther uint8 = iota
	chWord
	chSpace
)

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == chWord
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isSpaceRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == chSpace
	}
	return unicode.IsSpace(r) || r == 0x200B
}

func isDigitByte(b byte) bool { return b >= '0' && b <= '9' }

func decodeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// topLevelDomains recognises bare domains ("gewinn-bmw.de") as links. A fixed
// list avoids mistaking abbreviations such as "z.B." or "Bj." for links.
var topLevelDomains = map[string]bool{
	"com": true, "net": true, "org": true, "de": true, "co": true, "io": true, "ly": true, "fr": true,
	"es": true, "it": true, "nl": true, "pt": true, "pl": true, "uk": true, "info": true, "biz": true,
	"xyz": true, "me": true, "ru": true, "cn": true, "us": true, "tv": true, "app": true, "online": true,
	"shop": true, "site": true, "link": true, "club": true, "top": true, "live": true, "ch": true,
	"at": true, "be": true, "eu": true, "ca": true, "au": true, "in": true, "br": true, "mx": true,
	"gg": true, "to": true, "cc": true, "ws": true, "store": true, "vip": true, "win": true, "click": true,
}

// isURLChunk reports whether a whitespace-delimited chunk is a link.
func isURLChunk(c string) bool {
	for len(c) > 0 && !isWordRune(rune(c[0])) && c[0] < utf8.RuneSelf {
		c = c[1:]
	}
	if len(c) < 4 {
		return false
	}
	if hasPrefixFold(c, "http://") || hasPrefixFold(c, "https://") || hasPrefixFold(c, "www.") || strings.Contains(c, "://") {
		return true
	}
	host := c
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	for len(host) > 0 && strings.IndexByte(".,;:!?)\"'", host[len(host)-1]) >= 0 {
		host = host[:len(host)-1]
	}
	dot := strings.LastIndexByte(host, '.')
	if dot < 2 || dot > len(host)-3 || len(host)-dot-1 > 6 {
		return false
	}
	var tld [8]byte
	n := 0
	for i := dot + 1; i < len(host); i++ {
		b := host[i]
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b < 'a' || b > 'z' {
			return false
		}
		tld[n] = b
		n++
	}
	alnum := 0
	for i := 0; i < dot; i++ {
		b := host[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
			alnum++
		case b == '-' || b == '.' || b == '_':
		default:
			return false
		}
	}
	return alnum >= 2 && topLevelDomains[string(tld[:n])]
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Hashes of the placeholder words that stand in for whole token classes.
var (
	hURL     = hashString("zzurl")
	hMention = hashString("zzmention")
)

// tokenize splits text into sc.toks, writing folded word forms to sc.fold.
func tokenize(text string, sc *scratch) {
	toks := sc.toks[:0]
	fold := sc.fold[:0]
	n := len(text)
	var pending uint16 // flags for the next word token
	i := 0
	for i < n {
		r, sz := decodeAt(text, i)
		if isSpaceRune(r) {
			i += sz
			continue
		}
		j := i + sz
		maybeURL := false // an inner '.' or "://": only then is the chunk checked for a link
		for j < n {
			c := text[j]
			if c < utf8.RuneSelf {
				if asciiClass[c] == chSpace {
					break
				}
				if (c == '.' || c == ':') && j+1 < n && (text[j+1] >= utf8.RuneSelf || asciiClass[text[j+1]] != chSpace) {
					maybeURL = true
				}
				j++
				continue
			}
			r2, sz2 := utf8.DecodeRuneInString(text[j:])
			if isSpaceRune(r2) {
				break
			}
			j += sz2
		}
		if maybeURL && isURLChunk(text[i:j]) {
			toks = append(toks, token{s: int32(i), e: int32(j), kind: tkURL, h: hURL})
			pending = 0
			i = j
			continue
		}
		k := i
		if text[k] == '@' && k+1 < j {
			m := k + 1
			for m < j {
				r2, sz2 := decodeAt(text, m)
				if isWordRune(r2) || r2 == '_' || (r2 == '.' && m+1 < j && isWordRune(rune(text[m+1])) && text[m+1] < utf8.RuneSelf) {
					m += sz2
					continue
				}
				break
			}
			if m > k+1 {
				toks = append(toks, token{s: int32(k), e: int32(m), kind: tkMention, h: hMention})
				pending = 0
				k = m
			}
		}
		for k < j {
			r, sz := decodeAt(text, k)
			if isWordRune(r) {
				start, fs := k, len(fold)
				var letters, upper, digits, accent int
				first := true
				firstUpper := false
				for k < j {
					r, sz = decodeAt(text, k)
					if !isWordRune(r) {
						// keep "3.0" and "15.000" together
						if (r == '.' || r == ',') && letters == 0 && digits > 0 && k+1 < j && isDigitByte(text[k+1]) {
							fold = append(fold, byte(r))
							k++
							continue
						}
						break
					}
					switch {
					case r >= '0' && r <= '9' || r >= utf8.RuneSelf && unicode.IsDigit(r):
						digits++
					case r < utf8.RuneSelf:
						letters++
						if r <= 'Z' {
							upper++
							if first {
								firstUpper = true
							}
						}
					default:
						if unicode.IsLetter(r) {
							letters++
							accent++
							if unicode.IsUpper(r) {
								upper++
								if first {
									firstUpper = true
								}
							}
						}
					}
					first = false
					fold = appendFold(fold, r)
					k += sz
				}
				f := pending
				if letters > 0 {
					f |= tfLetter
				}
				if upper > 0 {
					f |= tfUpper
				}
				if firstUpper {
					f |= tfFirstUpper
				}
				if letters >= 2 && upper == letters {
					f |= tfAllUpper
				}
				if digits > 0 {
					f |= tfDigit
					if letters == 0 {
						f |= tfAllDigit
					}
				}
				if accent > 0 {
					f |= tfAccent
				}
				toks = append(toks, token{s: int32(start), e: int32(k), fs: int32(fs), fe: int32(len(fold)),
					h: hashBytes(fold[fs:]), kind: tkWord, flags: f})
				pending = 0
				continue
			}
			k += sz
			switch r {
			case '#':
				pending |= tfHashtag
			case '\'', '’', '`', '´':
				pending |= tfApos
			case '-', '/', '_', '–', '&':
			case '+':
				if k < j && isDigitByte(text[k]) {
					pending |= tfPlus
				}
			case '?', '¿', '!', '¡':
				kind := tkQuestion
				if r == '!' || r == '¡' {
					kind = tkExclaim
				}
				if l := len(toks); l > 0 && toks[l-1].kind == kind && toks[l-1].e == int32(k-sz) {
					toks[l-1].e = int32(k) // "!!!" is one token
				} else {
					toks = append(toks, token{s: int32(k - sz), e: int32(k), kind: kind})
				}
				pending = tfBreak
			case '€', '$', '£', '¥':
				toks = append(toks, token{s: int32(k - sz), e: int32(k), kind: tkMoney})
				pending = tfBreak
			default:
				c := emojiClass(r)
				switch {
				case c == emoSkip:
				case c != emoNone:
					if l := len(toks); l == 0 || toks[l-1].kind != tkEmoji || toks[l-1].emo != c || toks[l-1].e != int32(k-sz) {
						toks = append(toks, token{s: int32(k - sz), e: int32(k), kind: tkEmoji, emo: c})
					} else {
						toks[l-1].e = int32(k)
					}
					pending = tfBreak
				default:
					pending |= tfBreak
				}
			}
		}
		i = j
	}
	markPhones(toks, fold)
	sc.toks = toks
	sc.fold = fold
}

// markPhones flags runs of number tokens that together look like a phone
// number ("+44 7700 900123", "0151 23456789"): a strong spam signal. Numbers
// written with separators ("15.000", "12.12.2024") are amounts or dates.
func markPhones(toks []token, fold []byte) {
	for a := 0; a < len(toks); {
		if toks[a].kind != tkWord || toks[a].flags&tfAllDigit == 0 {
			a++
			continue
		}
		b, digits, seps := a, 0, false
		for b < len(toks) && toks[b].kind == tkWord && toks[b].flags&tfAllDigit != 0 && (b == a || toks[b].flags&tfBreak == 0) {
			for _, c := range fold[toks[b].fs:toks[b].fe] {
				if c == '.' || c == ',' {
					seps = true
				} else {
					digits++
				}
			}
			b++
		}
		if (digits >= 8 && !seps) || (toks[a].flags&tfPlus != 0 && digits >= 7) {
			for t := a; t < b; t++ {
				toks[t].flags |= tfPhone
			}
		}
		a = b
	}
}
