package mastodontest_test

import (
	"context"
	"testing"

	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/mastodon"
	"github.com/vernetzen/vernetzen/internal/connector/mastodon/mastodontest"
)

// The real Mastodon connector publishes to the fake: a retry with the same
// key finds the first status, and a 429 comes back as RateLimited with
// the reset the fake gave.
func TestConnectorAgainstFake(t *testing.T) {
	srv := mastodontest.New(mastodontest.Config{})
	defer srv.Close()
	c := mastodon.New(connector.Options{HTTP: srv.Client(), Limiter: connector.NewLimiter()})
	acct := &connector.Account{ChannelID: "1", BaseURL: srv.URL(), Credentials: connector.Credentials{AccessToken: "tok-7"}}
	if _, err := c.Connect(context.Background(), acct); err != nil || acct.ExternalID != "7" {
		t.Fatalf("connect: %v %q", err, acct.ExternalID)
	}
	req := connector.PublishRequest{IdempotencyKey: "d-1", Variant: connector.Variant{Text: "Hello"}}
	a, err := c.Publish(context.Background(), acct, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Publish(context.Background(), acct, req)
	if err != nil || b.ID != a.ID {
		t.Fatalf("retry: %v %v", b, err)
	}
	if got, found, err := c.Lookup(context.Background(), acct, req); err != nil || !found || got.ID != a.ID {
		t.Fatalf("lookup: %v %v %v", got, found, err)
	}
	if n := srv.PerAccount()["7"]; n != 1 {
		t.Fatalf("%d statuses", n)
	}

	limited := mastodontest.New(mastodontest.Config{RateLimited: 1})
	defer limited.Close()
	c2 := mastodon.New(connector.Options{HTTP: limited.Client(), Limiter: connector.NewLimiter()})
	acct2 := &connector.Account{ChannelID: "2", BaseURL: limited.URL(), ExternalID: "8", Credentials: connector.Credentials{AccessToken: "tok-8"}}
	_, err = c2.Publish(context.Background(), acct2, connector.PublishRequest{IdempotencyKey: "d-2", Variant: connector.Variant{Text: "Hi"}})
	if connector.KindOf(err) != connector.KindRateLimited || connector.RetryAt(err).IsZero() {
		t.Fatalf("want rate limited, got %v", err)
	}
	if limited.LimitedUntil("8", "d-2").IsZero() {
		t.Fatal("the fake did not record the limit")
	}
}
