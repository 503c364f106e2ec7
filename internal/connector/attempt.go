package connector

import (
	"errors"
	"fmt"
	"time"
)

// States of a publication's delivery (a post to a channel, or a reply)
// that the failure policy moves between.
const (
	AttemptScheduled = "scheduled" // not done; the next step may publish (after looking first, if it ever tried)
	AttemptFailed    = "failed"    // done: the platform refused it
	AttemptUnknown   = "unknown"   // the outcome is lost and can't be settled without a person or a lookup
)

// Attempt is the part of a delivery the failure policy decides on.
type Attempt struct {
	State     string
	Failures  int // transient or unknown outcomes so far
	Error     string
	ErrorKind string
}

// AttemptPolicy is what post deliveries and replies do after a failed
// publish or lookup; both use it so that they can never disagree on when
// publishing again is safe.
type AttemptPolicy struct {
	// RetryBase is the first backoff after a transient failure, doubling
	// up to 10 minutes; MinWait bounds rate-limit waits from below.
	RetryBase, MinWait time.Duration
	// MaxFailures is how many transient or unknown outcomes a delivery
	// survives before it is settled as failed or unknown.
	MaxFailures int
}

// Backoff is the wait after the given number of transient failures.
func (p AttemptPolicy) Backoff(failures int) time.Duration {
	d := p.RetryBase
	for i := 1; i < failures && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// AfterFailure records err, from a publish or (lookup) a reconciling
// look-up, in a and returns the wait before the next step (0: a is
// settled, or the caller's state stands).
func (p AttemptPolicy) AfterFailure(a *Attempt, err error, lookup bool, now time.Time) time.Duration {
	kind := KindOf(err)
	a.Error, a.ErrorKind = Explain(err), kind.String()
	switch kind {
	case KindRateLimited:
		// Refused, nothing done: after a publish it is simply scheduled
		// again; a look-up keeps its state.
		if !lookup {
			a.State = AttemptScheduled
		}
		return max(RetryAt(err).Sub(now), p.MinWait)
	case KindPermanent, KindReconnectNeeded:
		if lookup {
			// The platform can't say whether it has the post: a person
			// must look; publishing again could duplicate it.
			a.State = AttemptUnknown
			a.Error = "outcome unknown and the platform can't be asked: " + a.Error
		} else {
			a.State = AttemptFailed
		}
		return 0
	default: // transient, unknown: reconcile before the next attempt
		a.Failures++
		if !lookup {
			a.State = AttemptUnknown
			if kind == KindTransient {
				a.State = AttemptScheduled // not done; the next attempt still looks first
			}
		}
		if a.Failures >= p.MaxFailures {
			if a.State == AttemptScheduled {
				a.State = AttemptFailed
			} else {
				a.State = AttemptUnknown
				a.Error = fmt.Sprintf("outcome unknown after %d attempts: %s", a.Failures, a.Error)
			}
			return 0
		}
		// The platform's Retry-After (and the client's jittered backoff,
		// which spreads the retries of many channels that failed
		// together) is honoured when it asks for longer.
		return max(p.Backoff(a.Failures), RetryAt(err).Sub(now))
	}
}

// Explain is the platform's own explanation of err when it gave one.
func Explain(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		if e.Status != 0 {
			return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
		}
		return e.Message
	}
	return err.Error()
}
