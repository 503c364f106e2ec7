package connector

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind classifies a connector error by what the caller must do next.
type Kind int

const (
	// KindTransient: the platform did not act (5xx, network error before
	// the request was sent). Retry with backoff, from RetryAt if set.
	KindTransient Kind = iota + 1
	// KindRateLimited: the platform refused because of a rate limit. Do
	// not call again for this Scope before RetryAt.
	KindRateLimited
	// KindPermanent: the platform refused the request as such (validation,
	// not found, forbidden, unsupported). Show Message; never retry.
	KindPermanent
	// KindReconnectNeeded: the credentials are no longer accepted and
	// could not be refreshed; the channel's owners must reconnect it.
	KindReconnectNeeded
	// KindUnknown: the request may have been carried out but its answer
	// was lost (timeout after sending, connection reset, 502/504 on a
	// write). Reconcile with Publisher.Lookup before any retry.
	KindUnknown
)

// String returns the kind's name, used in delivery states and logs.
func (k Kind) String() string {
	switch k {
	case KindTransient:
		return "transient"
	case KindRateLimited:
		return "rate_limited"
	case KindPermanent:
		return "permanent"
	case KindReconnectNeeded:
		return "reconnect_needed"
	case KindUnknown:
		return "unknown"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Scope is what a rate limit applies to.
type Scope int

const (
	// ScopeChannel: only this channel (user token) is limited.
	ScopeChannel Scope = iota
	// ScopeApp: every channel using the same app (or instance) is limited.
	ScopeApp
)

func (s Scope) String() string {
	if s == ScopeApp {
		return "app"
	}
	return "channel"
}

// Error is the one error type connectors return. Use errors.As, or the
// helpers KindOf and RetryAt.
type Error struct {
	Kind     Kind
	Platform string
	Op       string // what was attempted: "publish", "fetch inbound", "POST /api/v1/statuses"
	// Status is the HTTP status, 0 if no answer was received.
	Status int
	// Code is the platform's error code, if it gives one ("ExpiredToken").
	Code string
	// Message is the platform's own explanation, for users.
	Message string
	// RetryAt is the earliest sensible retry: the rate limit's reset for
	// KindRateLimited, a backoff suggestion for KindTransient.
	RetryAt time.Time
	// Scope is what a rate limit applies to.
	Scope Scope
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	s := e.Platform
	if e.Op != "" {
		s += " " + e.Op
	}
	s += ": " + e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	} else if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Kind == KindRateLimited && !e.RetryAt.IsZero() {
		s += fmt.Sprintf(" (%s limit, retry at %s)", e.Scope, e.RetryAt.UTC().Format(time.RFC3339))
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err. An error that is not an *Error counts
// as KindTransient, except context cancellation, which counts as
// KindUnknown because the caller cannot know what was sent.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return KindUnknown
	}
	return KindTransient
}

// RetryAt returns when err says to retry; zero if it does not say.
func RetryAt(err error) time.Time {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAt
	}
	return time.Time{}
}

// Retryable reports whether the same request may simply be sent again
// later (Transient or RateLimited). Unknown is not retryable until
// reconciled; Permanent and ReconnectNeeded never are.
func Retryable(err error) bool {
	k := KindOf(err)
	return k == KindTransient || k == KindRateLimited
}

// Errorf builds an *Error of the given kind for platform and op.
func Errorf(kind Kind, platform, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Platform: platform, Op: op, Message: fmt.Sprintf(format, args...)}
}

// Unsupported is the Permanent error for a capability a platform lacks.
func Unsupported(platform, op string) *Error {
	return &Error{Kind: KindPermanent, Platform: platform, Op: op, Code: "unsupported",
		Message: platform + " does not support " + op}
}
