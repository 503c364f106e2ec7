package connector

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Registry maps platform names to connectors. The binary fills one
// Registry in one place (package connector/all) and hands it to the
// services; there is no global registry and no init-time registration, so
// tests can build a registry with exactly the connectors they need.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Connector
}

// NewRegistry returns a registry holding cs; it panics like Register.
func NewRegistry(cs ...Connector) *Registry {
	r := &Registry{m: map[string]Connector{}}
	for _, c := range cs {
		r.Register(c)
	}
	return r
}

// Register adds c. It panics on a duplicate platform name or when c's
// Capabilities claim something its methods do not implement, because both
// are programming errors found at start-up.
func (r *Registry) Register(c Connector) {
	if err := CheckCapabilities(c); err != nil {
		panic(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Connector{}
	}
	name := c.Platform()
	if _, dup := r.m[name]; dup {
		panic("connector: platform registered twice: " + name)
	}
	r.m[name] = c
}

// Get returns the connector for platform.
func (r *Registry) Get(platform string) (Connector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.m[platform]
	return c, ok
}

// All returns the registered connectors sorted by platform name.
func (r *Registry) All() []Connector {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Connector, 0, len(r.m))
	for _, c := range r.m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Connector) int {
		switch {
		case a.Platform() < b.Platform():
			return -1
		case a.Platform() > b.Platform():
			return 1
		}
		return 0
	})
	return out
}

// CheckCapabilities reports a declared capability whose interface c does
// not implement (and the reverse for the main abilities), so the UI and
// the workers never disagree about what a platform can do.
func CheckCapabilities(c Connector) error {
	caps := c.Capabilities()
	_, pub := c.(Publisher)
	_, in := c.(InboundFetcher)
	_, met := c.(MetricsFetcher)
	_, dem := c.(DemographicsFetcher)
	_, con := c.(Connecter)
	_, ref := c.(Refresher)
	_, oa := c.(OAuthFlow)
	_, wh := c.(WebhookReceiver)
	check := []struct {
		name      string
		declared  bool
		implement bool
	}{
		{"Publish", caps.Publish || caps.Reply || caps.Delete, pub},
		{"Inbound", len(caps.Inbound) > 0, in},
		{"Metrics", caps.Metrics, met},
		{"Demographics", caps.Demographics, dem},
		{"Connect", caps.Connect, con},
		{"Refresh", caps.Refresh, ref},
		{"OAuth", caps.OAuth, oa},
		{"Webhooks", caps.Webhooks, wh},
	}
	for _, k := range check {
		if k.declared != k.implement {
			return fmt.Errorf("connector %s: capability %s declared=%v but interface implemented=%v",
				c.Platform(), k.name, k.declared, k.implement)
		}
	}
	return nil
}

// Publish calls c's Publisher, or returns a Permanent error if c cannot
// publish (or reply, when req.InReplyTo is set).
func Publish(ctx context.Context, c Connector, acct *Account, req PublishRequest) (Published, error) {
	p, ok := c.(Publisher)
	if !ok || (req.InReplyTo != nil && !c.Capabilities().Reply) || (req.InReplyTo == nil && !c.Capabilities().Publish) {
		op := "publish"
		if req.InReplyTo != nil {
			op = "reply"
		}
		return Published{}, Unsupported(c.Platform(), op)
	}
	if req.IdempotencyKey == "" {
		return Published{}, Errorf(KindPermanent, c.Platform(), "publish", "idempotency key required")
	}
	return p.Publish(ctx, acct, req)
}

// Lookup calls c's Publisher.Lookup, or returns a Permanent error.
func Lookup(ctx context.Context, c Connector, acct *Account, req PublishRequest) (Published, bool, error) {
	p, ok := c.(Publisher)
	if !ok {
		return Published{}, false, Unsupported(c.Platform(), "lookup")
	}
	return p.Lookup(ctx, acct, req)
}

// Delete calls c's Publisher.Delete, or returns a Permanent error.
func Delete(ctx context.Context, c Connector, acct *Account, platformID string) error {
	p, ok := c.(Publisher)
	if !ok || !c.Capabilities().Delete {
		return Unsupported(c.Platform(), "delete")
	}
	return p.Delete(ctx, acct, platformID)
}

// FetchInbound calls c's InboundFetcher, or returns a Permanent error.
func FetchInbound(ctx context.Context, c Connector, acct *Account, cursor string) (Page, error) {
	f, ok := c.(InboundFetcher)
	if !ok {
		return Page{}, Unsupported(c.Platform(), "fetch inbound")
	}
	return f.FetchInbound(ctx, acct, cursor)
}

// FetchMetrics calls c's MetricsFetcher, or returns a Permanent error.
func FetchMetrics(ctx context.Context, c Connector, acct *Account, postIDs []string) (Metrics, error) {
	f, ok := c.(MetricsFetcher)
	if !ok {
		return Metrics{}, Unsupported(c.Platform(), "fetch metrics")
	}
	return f.FetchMetrics(ctx, acct, postIDs)
}
