// Package errs holds the one error type of vernetzen's services. Every
// service returns *errs.Error for failures a caller can act on; the web layer
// maps its Code to an HTTP status in one place, and anything else is an
// internal error whose details stay in the log.
package errs

import (
	"errors"
	"fmt"
)

// Code says what kind of failure an Error is.
type Code string

const (
	Invalid      Code = "invalid"      // bad input: 400, naming the field
	Unauthorized Code = "unauthorized" // no or bad credentials: 401
	Forbidden    Code = "forbidden"    // known caller, not allowed: 403
	NotFound     Code = "not_found"    // absent or outside the caller's scope: 404
	Conflict     Code = "conflict"     // would duplicate or break a rule of the data: 409
	TooLarge     Code = "too_large"    // request body over the limit: 413
	RateLimited  Code = "rate_limited" // too many attempts: 429
	Unavailable  Code = "unavailable"  // a dependency is down: 503
	Internal     Code = "internal"     // a bug or an I/O failure: 500
)

// Error is a failure with a code, a message for the caller and, for invalid
// input, the field (or file:line) it is about.
type Error struct {
	Code    Code
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// E builds an Error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field builds an Invalid error about one field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the Code of err, or Internal when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// Is reports whether err is an *Error with the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
