// Package leads turns purchase intent into leads: scoring, routing to the
// market or dealer that should follow up, states, and CRM export.
package leads

// Service is the leads' use cases.
type Service struct{}
