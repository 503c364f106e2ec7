package secret

import "log/slog"

// Redacted is what a Secret prints as, anywhere it could be shown.
const Redacted = "[redacted]"

// Secret is a string that must never be shown: access tokens, refresh
// tokens, app passwords, client secrets. Its String, GoString, Format-style
// printing, JSON encoding and slog value are all "[redacted]", so a
// credential that ends up in a log line, an error message or an API answer
// by accident leaks nothing. Code that really needs the value (to put it in
// an Authorization header, or to seal it) calls Reveal, which is easy to
// grep for.
type Secret string

// Reveal returns the secret's value. Call it only where the value leaves
// the process towards its owner (a platform's API) or into a Box.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String implements fmt.Stringer so %s and %v print "[redacted]".
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer so %#v prints "[redacted]" too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON encodes the secret as "[redacted]" (or "" when empty), so a
// struct holding secrets can be returned by the API without echoing them.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText keeps encoders that prefer TextMarshaler (XML, YAML, map keys)
// from seeing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
