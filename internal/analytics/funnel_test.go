package analytics

import (
	"testing"
	"time"
)

func TestHumanDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                "45s",
		12*time.Minute + 30*time.Second: "12m",
		3*time.Hour + 20*time.Minute:    "3h20m",
		3 * time.Hour:                   "3h",
		50 * time.Hour:                  "2d2h",
		48 * time.Hour:                  "2d",
	} {
		if got := human(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
	if got := median([]time.Duration{time.Hour, 3 * time.Hour}); got != "2h" {
		t.Errorf("median of two: %q", got)
	}
	if median(nil) != "" {
		t.Error("median of none")
	}
}
