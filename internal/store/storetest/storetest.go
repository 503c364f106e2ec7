// Package storetest opens a fresh store for a test: SQLite in the test's
// temporary directory, or, when VERNETZEN_TEST_POSTGRES holds a DSN, a new
// schema of that PostgreSQL database that is dropped when the test ends.
// Every test of the suite that needs a database goes through Open, so the
// whole suite runs on both engines.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/vernetzen/vernetzen/internal/store"
)

// PostgresDSN returns the test database's DSN, or "" for SQLite.
func PostgresDSN() string { return os.Getenv("VERNETZEN_TEST_POSTGRES") }

// Open returns a migrated, empty store that lives as long as the test.
func Open(t testing.TB) *store.Store {
	t.Helper()
	dsn, dir := Config(t)
	st, err := store.Open(context.Background(), dsn, dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Config returns the --db and --data values of a fresh, empty database for
// the test (for tests that start the whole binary or server).
func Config(t testing.TB) (dsn, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	base := PostgresDSN()
	if base == "" {
		return "", dataDir
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("VERNETZEN_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), dataDir
}
