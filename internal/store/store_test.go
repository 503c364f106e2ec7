package store_test

import (
	"context"
	"testing"

	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// Opening a migrated database again applies nothing twice.
func TestMigrationsApplyOnce(t *testing.T) {
	ctx := context.Background()
	dsn, dir := storetest.Config(t)
	st, err := store.Open(ctx, dsn, dir)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := st.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("version %d, %v", v1, err)
	}
	st.Close()
	st, err = store.Open(ctx, dsn, dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	if v2, _ := st.SchemaVersion(ctx); v2 != v1 {
		t.Fatalf("version %d after reopen, was %d", v2, v1)
	}
}
