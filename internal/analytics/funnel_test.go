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

func TestPercentile(t *testing.T) {
	ds := []time.Duration{}
	for i := 1; i <= 10; i++ {
		ds = append(ds, time.Duration(i)*time.Minute)
	}
	if got := percentile(ds, 0.9); got != "9m" {
		t.Errorf("p90 of 1..10 minutes: %q", got)
	}
	if got := percentile(ds, 0.5); got != "5m" {
		t.Errorf("median of 1..10 minutes: %q", got)
	}
	if percentile(nil, 0.9) != "" {
		t.Error("p90 of none")
	}
}
