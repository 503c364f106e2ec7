package demo

import (
	"context"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// The demo's invented history shows where a young audience is reached:
// the group's Instagram audience is younger than its Facebook audience,
// and starting the demo again adds nothing.
func TestSeedAudienceShowsDemographics(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if err := st.SyncPlatforms(ctx, org.Platforms); err != nil {
		t.Fatal(err)
	}
	orgSvc := org.NewService(st, st.OrgTx)
	if _, err := Load(ctx, orgSvc); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	n, err := SeedAudience(ctx, orgSvc, st, now)
	if err != nil || n < 10 {
		t.Fatalf("seeded %d: %v", n, err)
	}
	if again, err := SeedAudience(ctx, orgSvc, st, now); err != nil || again != 0 {
		t.Fatalf("second start seeded %d: %v", again, err)
	}
	d, err := analytics.NewService(st, orgSvc).Demographics(ctx, access.SystemPrincipal(), "group", "", "", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	young := map[string]float64{}
	for _, m := range d.Platforms {
		if y := m.Young(); y != nil && m.Reported > 0 {
			young[m.Platform] = *y
		}
	}
	if young["instagram"] == 0 || young["facebook"] == 0 || young["instagram"] < 2*young["facebook"] {
		t.Fatalf("young shares by platform: %v", young)
	}
	if d.All.Reported < 10 || d.All.Age == nil {
		t.Fatalf("all: %+v", d.All)
	}
}
