package all

import (
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/org"
)

func TestRegistryHoldsEveryPlatformConsistently(t *testing.T) {
	r := Registry(connector.Options{}) // panics on a capability mismatch
	want := []string{"bluesky", "facebook", "instagram", "linkedin", "mastodon", "rss", "simulator", "x", "youtube"}
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

// Every platform a connector serves is a platform of the directory, so a
// channel's platform key finds its connector.
func TestConnectorPlatformsAreDirectoryPlatforms(t *testing.T) {
	for _, c := range Registry(connector.Options{}).All() {
		if _, ok := org.PlatformByKey(c.Platform()); !ok {
			t.Errorf("connector %q has no directory platform", c.Platform())
		}
	}
}

// OAuth platforms that can't Connect must tell whose credentials an
// Exchange returned, or their channels could not be polled.
func TestOAuthPlatformsKnowTheirAccount(t *testing.T) {
	for _, c := range Registry(connector.Options{}).All() {
		if _, ok := c.(connector.OAuthFlow); !ok {
			continue
		}
		_, connects := c.(connector.Connecter)
		_, profiles := c.(connector.Profiler)
		if !connects && !profiles {
			t.Errorf("%s has OAuth but neither Connect nor Profile", c.Platform())
		}
	}
}
