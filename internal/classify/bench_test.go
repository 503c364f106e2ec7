package classify

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func benchTexts() []string {
	var texts []string
	for _, r := range DevSet() {
		texts = append(texts, r.Text)
	}
	return texts
}

func reportRate(b *testing.B, msgs int) {
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkClassify measures Classify over the dev-set messages.
func BenchmarkClassify(b *testing.B) {
	c := New(DefaultCatalogue())
	texts := benchTexts()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Classify(texts[i%len(texts)])
	}
	reportRate(b, b.N)
}

var sinkN int

// BenchmarkBaselineLowercaseTokenize only lower-cases and splits the same
// messages: the floor any classifier has to pay, for comparison.
func BenchmarkBaselineLowercaseTokenize(b *testing.B) {
	texts := benchTexts()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkN += len(strings.Fields(strings.ToLower(texts[i%len(texts)])))
	}
	reportRate(b, b.N)
}

// BenchmarkRunJSONL measures the CLI path end to end: parse, classify, write.
func BenchmarkRunJSONL(b *testing.B) {
	c := New(DefaultCatalogue())
	var in bytes.Buffer
	const copies = 10
	recs := DevSet()
	for k := 0; k < copies; k++ {
		for _, r := range recs {
			line, _ := json.Marshal(map[string]string{"id": r.ID, "text": r.Text})
			in.Write(line)
			in.WriteByte('\n')
		}
	}
	data := in.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := RunJSONL(bytes.NewReader(data), io.Discard, c); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*copies*len(recs))
}
