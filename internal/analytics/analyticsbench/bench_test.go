package analyticsbench

import (
	"context"
	"strings"
	"testing"

	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// The benchmark runs end to end at a tiny size on the test's engine.
func TestRunSmall(t *testing.T) {
	dsn, _ := storetest.Config(t)
	res, err := Run(context.Background(), Options{Channels: 60, Days: 40, PostMetrics: 1000, Queries: 3, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if res.AudienceRows != 60*40 || res.Overview28P95 <= 0 || res.CampaignP95 <= 0 || !strings.Contains(res.String(), "group overview") {
		t.Fatalf("%+v", res)
	}
}
