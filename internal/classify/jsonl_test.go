package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRunJSONL(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a1","text":"Was kostet ein X5 im Leasing?"}`,
		``,
		`  {"text":"🔥🔥🔥😍","id":42, "channel":{"name":"fb","tags":["x",1,true,null]}}  `,
		`{"id":"a\"3","text":"Line\nbreak \u00e9t\u00e9 \ud83d\ude0d MINI Cooper S"}`,
		"{\"id\":\"a4\",\"text\":\"windows line ending\"}\r",
	}, "\n")
	var out bytes.Buffer
	if err := RunJSONL(strings.NewReader(in), &out, testClassifier()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d output lines, want 4:\n%s", len(lines), out.String())
	}
	type row struct {
		ID     any       `json:"id"`
		Intent string    `json:"intent"`
		Lang   string    `json:"lang"`
		Models *[]string `json:"models"`
		Score  float64   `json:"score"`
	}
	var rows []row
	for _, l := range lines {
		var r row
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("output %q is not JSON: %v", l, err)
		}
		if r.Models == nil {
			t.Errorf("output %q: models must be an array, never null", l)
		}
		if r.Score <= 0 || r.Score > 1 {
			t.Errorf("output %q: score out of range", l)
		}
		rows = append(rows, r)
	}
	if rows[0].ID != "a1" || rows[0].Intent != IntentPurchase || rows[0].Lang != "de" || (*rows[0].Models)[0] != "X5" {
		t.Errorf("line 1: %+v", rows[0])
	}
	if rows[1].ID != float64(42) || rows[1].Intent != IntentPraise || rows[1].Lang != LangUndetermined || len(*rows[1].Models) != 0 {
		t.Errorf("line 3: %+v", rows[1])
	}
	if rows[2].ID != `a"3` || len(*rows[2].Models) != 1 || (*rows[2].Models)[0] != "MINI Cooper S" {
		t.Errorf("line 4: %+v", rows[2])
	}
	if !strings.HasPrefix(lines[1], `{"id":42,"intent":"praise","lang":"und","models":[],"score":`) {
		t.Errorf("unexpected layout %q", lines[1])
	}
}

func TestRunJSONLErrors(t *testing.T) {
	good := `{"id":"1","text":"hello"}` + "\n"
	cases := []struct{ input, want string }{
		{good + good + `{"id":"3","text":"unterminated}` + "\n", "line 3: invalid JSON"},
		{good + `{"id":"2"}`, `line 2: missing "text"`},
		{`{"text":"no id"}`, `line 1: missing "id"`},
		{good + "\n" + `["not","an","object"]`, "line 3: invalid JSON at column 1: expected a JSON object"},
		{`{"id":"1","text":42}`, `line 1: invalid JSON at column 18: "text" must be a string`},
		{`{"id":null,"text":"x"}`, `"id" must be a string or a number`},
		{`{"id":"1","text":"x"} trailing`, "unexpected data after the object"},
		{`{"id":"1","text":"bad \q escape"}`, `bad escape \q`},
		{`{"id":"1" "text":"x"}`, "expected ',' or '}'"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		err := RunJSONL(strings.NewReader(tc.input), &out, testClassifier())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("input %q: error %v, want it to contain %q", tc.input, err, tc.want)
		}
	}
	// the lines before the bad one are written
	var out bytes.Buffer
	_ = RunJSONL(strings.NewReader(good+good+"{oops\n"), &out, testClassifier())
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("wrote %d lines before the error, want 2", n)
	}
}

func TestRunJSONLLongLine(t *testing.T) {
	long := strings.Repeat("Was kostet ein X5 im Leasing? ", 10000) // > bufio buffer
	in := `{"id":"long","text":"` + long + `"}` + "\n" + `{"id":"short","text":"ok"}`
	var out bytes.Buffer
	if err := RunJSONL(strings.NewReader(in), &out, testClassifier()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 || !strings.Contains(out.String(), `"id":"long","intent":"purchase"`) {
		t.Errorf("unexpected output %q", out.String()[:min(200, out.Len())])
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunJSONLWriteError(t *testing.T) {
	in := strings.Repeat(`{"id":"1","text":"hello"}`+"\n", 5000)
	if err := RunJSONL(strings.NewReader(in), failWriter{}, testClassifier()); err == nil {
		t.Error("write error not reported")
	}
}
