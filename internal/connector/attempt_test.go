package connector

import (
	"errors"
	"testing"
	"time"
)

func TestAttemptPolicy(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := AttemptPolicy{RetryBase: time.Second, MinWait: time.Second, MaxFailures: 3}
	limited := &Error{Kind: KindRateLimited, Message: "slow down", Status: 429, RetryAt: now.Add(30 * time.Second)}
	cases := []struct {
		name      string
		state     string
		failures  int
		err       error
		lookup    bool
		wantState string
		wantWait  time.Duration
		wantFails int
	}{
		{"429 on publish: scheduled again at the reset", "publishing", 0, limited, false, AttemptScheduled, 30 * time.Second, 0},
		{"429 on lookup keeps the state", AttemptUnknown, 0, limited, true, AttemptUnknown, 30 * time.Second, 0},
		{"refused publish fails", "publishing", 0, &Error{Kind: KindPermanent, Message: "too long"}, false, AttemptFailed, 0, 0},
		{"refused lookup needs a person", "publishing", 0, &Error{Kind: KindPermanent}, true, AttemptUnknown, 0, 0},
		{"5xx: scheduled, looked up first", "publishing", 0, &Error{Kind: KindTransient}, false, AttemptScheduled, time.Second, 1},
		{"lost answer: unknown", "publishing", 1, &Error{Kind: KindUnknown}, false, AttemptUnknown, 2 * time.Second, 2},
		{"too many 5xx: failed", "publishing", 2, &Error{Kind: KindTransient}, false, AttemptFailed, 0, 3},
		{"too many lost answers: unknown", "publishing", 2, &Error{Kind: KindUnknown, Message: "timeout"}, false, AttemptUnknown, 0, 3},
		{"5xx with Retry-After: its time, when longer", "publishing", 0, &Error{Kind: KindTransient, RetryAt: now.Add(45 * time.Second)}, false, AttemptScheduled, 45 * time.Second, 1},
		{"5xx with a sooner time: the backoff", "publishing", 1, &Error{Kind: KindTransient, RetryAt: now.Add(time.Second)}, false, AttemptScheduled, 2 * time.Second, 2},
		{"an error of no kind counts as transient", "publishing", 0, errors.New("eof"), false, AttemptScheduled, time.Second, 1},
	}
	for _, tc := range cases {
		a := Attempt{State: tc.state, Failures: tc.failures}
		wait := p.AfterFailure(&a, tc.err, tc.lookup, now)
		if a.State != tc.wantState || wait != tc.wantWait || a.Failures != tc.wantFails || a.Error == "" {
			t.Errorf("%s: %+v wait %v", tc.name, a, wait)
		}
	}
	if got := Explain(limited); got != "slow down (HTTP 429)" {
		t.Errorf("explain: %q", got)
	}
	if p.Backoff(20) != 10*time.Minute {
		t.Error("backoff is not capped")
	}
}
