// Package all is the one place where the platform packages are put
// together: Registry builds a connector.Registry holding every platform
// the binary supports, all sharing one set of connector.Options (HTTP
// client, rate-limit memory, clock). A new platform package is added here
// and nowhere else.
package all

import (
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/bluesky"
	"github.com/vernetzen/vernetzen/internal/connector/facebook"
	"github.com/vernetzen/vernetzen/internal/connector/instagram"
	"github.com/vernetzen/vernetzen/internal/connector/linkedin"
	"github.com/vernetzen/vernetzen/internal/connector/mastodon"
	"github.com/vernetzen/vernetzen/internal/connector/rss"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/connector/x"
	"github.com/vernetzen/vernetzen/internal/connector/youtube"
)

// Registry returns a registry of every supported platform. Pass one
// connector.Limiter in o (or leave it nil to get a fresh one shared by
// all) so that rate-limit blocks are seen by every worker in the process.
func Registry(o connector.Options) *connector.Registry {
	if o.Limiter == nil {
		o.Limiter = connector.NewLimiter()
	}
	return connector.NewRegistry(
		bluesky.New(o),
		facebook.New(o),
		instagram.New(o),
		linkedin.New(o),
		mastodon.New(o),
		rss.New(o),
		sim.New(o),
		x.New(o),
		youtube.New(o),
	)
}
