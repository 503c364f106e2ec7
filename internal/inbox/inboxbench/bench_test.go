package inboxbench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestIngestBench runs the benchmark when VERNETZEN_BENCH_N is set:
//
//	VERNETZEN_BENCH_N=100000 go test ./internal/inbox/inboxbench -run IngestBench -v -timeout 30m
func TestIngestBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VERNETZEN_BENCH_N"))
	if n <= 0 {
		n = 2000 // a smoke run
	}
	dir := os.Getenv("VERNETZEN_BENCH_DIR") // kept, for a look at the databases
	if dir == "" {
		dir = t.TempDir()
	}
	cache, _ := strconv.Atoi(os.Getenv("VERNETZEN_BENCH_CACHE_MB"))
	var pragmas []string
	if v := os.Getenv("VERNETZEN_BENCH_PRAGMAS"); v != "" {
		pragmas = strings.Split(v, ";")
	}
	clients, _ := strconv.Atoi(os.Getenv("VERNETZEN_BENCH_CLIENTS"))
	batch, _ := strconv.Atoi(os.Getenv("VERNETZEN_BENCH_BATCH"))
	res, err := Run(context.Background(), Options{N: n, Dir: dir, Queries: 50, Log: os.Stderr, CacheMB: cache, Pragmas: pragmas,
		Clients: clients, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())
	if res.Leads == 0 {
		t.Fatal("no leads")
	}
}

// TestQueryBench times the filtered queries over a database a previous
// TestIngestBench left in VERNETZEN_BENCH_DIR.
func TestQueryBench(t *testing.T) {
	dir := os.Getenv("VERNETZEN_BENCH_DIR")
	if dir == "" || os.Getenv("VERNETZEN_BENCH_QUERY_ONLY") == "" {
		t.Skip("set VERNETZEN_BENCH_DIR and VERNETZEN_BENCH_QUERY_ONLY=1")
	}
	res, err := QueryOnly(context.Background(), dir, 200, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("filtered message query over %d stored (%d queries), exact total: p50 %.1f ms, p95 %.1f ms, max %.1f ms; "+
		"capped at 10,000 (inbox page): p50 %.1f ms, p95 %.1f ms, max %.1f ms", res.N, res.Queries,
		ms(res.QueryP50), ms(res.QueryP95), ms(res.QueryMax), ms(res.PageP50), ms(res.PageP95), ms(res.PageMax))
}
