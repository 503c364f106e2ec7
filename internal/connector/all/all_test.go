package all

import (
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
)

func TestRegistryHoldsEveryPlatformConsistently(t *testing.T) {
	r := Registry(connector.Options{}) // panics on a capability mismatch
	want := []string{"bluesky", "mastodon", "rss", "simulator"}
	all := r.All()
	if len(all) < len(want) {
		t.Fatalf("%d connectors", len(all))
	}
	for _, p := range want {
		c, ok := r.Get(p)
		if !ok || c.Platform() != p {
			t.Errorf("platform %s missing", p)
		}
	}
}
