package classify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// RunJSONL is the body of `vernetzen classify`: it reads JSON Lines objects
// with "id" (string or number) and "text" (string) from r and writes one line
// per input to w:
//
//	{"id":"d1","intent":"purchase","lang":"de","models":["X5"],"score":0.93}
//
// Blank lines are skipped; other fields are ignored. The first malformed
// line stops the run with an error naming its line number and the problem;
// the lines before it have been written. The JSON is parsed by hand because
// encoding/json would cost more than the classification itself.
func RunJSONL(r io.Reader, w io.Writer, c *Classifier) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	sc := scratchPool.Get().(*scratch)
	defer putScratch(sc)
	var long []byte
	lineNo := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			lineNo++
			if lineNo == 1 && len(line) >= 3 && line[0] == 0xEF && line[1] == 0xBB && line[2] == 0xBF {
				line = line[3:] // byte order mark
			}
			out, perr := processLine(line, sc, c)
			if perr != nil {
				if ferr := bw.Flush(); ferr != nil {
					return ferr
				}
				return fmt.Errorf("classify: line %d: %w", lineNo, perr)
			}
			if _, werr := bw.Write(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			bw.Flush()
			return fmt.Errorf("classify: reading line %d: %w", lineNo+1, err)
		}
	}
	return bw.Flush()
}

// processLine classifies one input line and returns the output line (empty
// for blank input). The result is valid until the next call.
func processLine(line []byte, sc *scratch, c *Classifier) ([]byte, error) {
	p := jsonParser{b: line}
	p.ws()
	if p.i == len(p.b) {
		return nil, nil
	}
	var id []byte
	var text string
	hasText := false
	if !p.eat('{') {
		return nil, p.errorf("expected a JSON object")
	}
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			key, err := p.str(sc.line[:0])
			if err != nil {
				return nil, fmt.Errorf("%v (object key)", err)
			}
			sc.line = key[:0]
			p.ws()
			if !p.eat(':') {
				return nil, p.errorf("expected ':' after key %q", key)
			}
			p.ws()
			switch string(key) {
			case "id":
				start := p.i
				switch {
				case p.peek() == '"':
					if _, err := p.str(sc.out[:0]); err != nil {
						return nil, fmt.Errorf("%v (\"id\")", err)
					}
				case p.peek() == '-' || isDigitByte(p.peek()):
					if err := p.number(); err != nil {
						return nil, err
					}
				default:
					return nil, p.errorf("\"id\" must be a string or a number")
				}
				id = p.b[start:p.i]
			case "text":
				if p.peek() != '"' {
					return nil, p.errorf("\"text\" must be a string")
				}
				t, err := p.str(sc.line[:0])
				if err != nil {
					return nil, fmt.Errorf("%v (\"text\")", err)
				}
				text, hasText = string(t), true
				sc.line = t[:0]
			default:
				if err := p.skip(0); err != nil {
					return nil, err
				}
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return nil, p.errorf("expected ',' or '}'")
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, p.errorf("unexpected data after the object")
	}
	if id == nil {
		return nil, errors.New(`missing "id"`)
	}
	if !hasText {
		return nil, errors.New(`missing "text"`)
	}
	res := c.classify(text, sc)
	out := append(sc.out[:0], `{"id":`...)
	out = append(out, id...)
	out = append(out, `,"intent":"`...)
	out = append(out, res.Intent...)
	out = append(out, `","lang":"`...)
	out = append(out, res.Lang...)
	out = append(out, `","models":[`...)
	for i, m := range sc.models {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, m)
	}
	out = append(out, `],"score":`...)
	out = strconv.AppendFloat(out, res.Score, 'f', 4, 64)
	out = append(out, "}\n"...)
	sc.out = out
	return out, nil
}

// jsonParser is a minimal JSON reader for one line.
type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at column %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str decodes a JSON string at p.i, appending it to dst.
func (p *jsonParser) str(dst []byte) ([]byte, error) {
	if !p.eat('"') {
		return dst, p.errorf("expected a string")
	}
	for {
		start := p.i
		for p.i < len(p.b) {
			c := p.b[p.i]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			p.i++
		}
		dst = append(dst, p.b[start:p.i]...)
		if p.i >= len(p.b) {
			return dst, p.errorf("unterminated string")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return dst, nil
		case c < 0x20:
			return dst, p.errorf("control character in string")
		}
		p.i++ // backslash
		if p.i >= len(p.b) {
			return dst, p.errorf("unterminated string")
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return dst, p.errorf("bad \\u escape")
			}
			if r >= 0xD800 && r < 0xDC00 { // surrogate pair
				save := p.i
				if p.eat('\\') && p.eat('u') {
					if r2, ok := p.hex4(); ok && r2 >= 0xDC00 && r2 < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					} else {
						p.i, r = save, utf8.RuneError
					}
				} else {
					p.i, r = save, utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, p.errorf("bad escape \\%c", e)
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

func (p *jsonParser) number() error {
	start := p.i
	p.eat('-')
	digits := 0
	for p.i < len(p.b) && (isDigitByte(p.b[p.i]) || p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E' ||
		p.b[p.i] == '+' || p.b[p.i] == '-') {
		if isDigitByte(p.b[p.i]) {
			digits++
		}
		p.i++
	}
	if digits == 0 {
		return p.errorf("bad number")
	}
	if _, err := strconv.ParseFloat(string(p.b[start:p.i]), 64); err != nil {
		return p.errorf("bad number %q", p.b[start:p.i])
	}
	return nil
}

// skip passes over any JSON value (fields we do not use).
func (p *jsonParser) skip(depth int) error {
	if depth > 64 {
		return p.errorf("nesting too deep")
	}
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str(nil)
		return err
	case c == '-' || isDigitByte(c):
		return p.number()
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.eat(end) {
			return nil
		}
		for {
			p.ws()
			if c == '{' {
				if _, err := p.str(nil); err != nil {
					return err
				}
				p.ws()
				if !p.eat(':') {
					return p.errorf("expected ':'")
				}
				p.ws()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat(end) {
				return nil
			}
			return p.errorf("expected ',' or '%c'", end)
		}
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				return nil
			}
		}
		return p.errorf("unexpected character %q", c)
	}
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
