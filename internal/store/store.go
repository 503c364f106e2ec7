// Package store keeps vernetzen's data in SQLite (the embedded default) or
// PostgreSQL (when several nodes share one database). The SQL is written
// once, in the subset both engines understand ($n parameters, RETURNING,
// ON CONFLICT); where the engines differ, the migration files differ.
// Times are stored as Unix milliseconds (BIGINT) so that both engines sort
// and compare them the same way.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Engine names the database engine behind a Store.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is the database. Its methods are safe for concurrent use.
type Store struct {
	engine Engine
	// SQLite allows one writer at a time: writes go through a pool of one
	// connection (so they queue in Go instead of failing with SQLITE_BUSY)
	// while reads use a pool of many. On PostgreSQL both are the same pool.
	wdb, rdb *sql.DB
	// w and r are the queriers in use: the pools, or one transaction for both.
	w, r querier
	inTx bool
	now  func() time.Time
	// batch groups small concurrent writes into shared transactions on
	// SQLite (see Batched); nil on PostgreSQL.
	batch *batcher
	// inBatch, inside a batch's transaction, collects what its writes
	// leave for the batch's end (see finishBatch).
	inBatch *batchState
	// stmts caches prepared statements within one transaction (see
	// execPrepared); nil outside one.
	stmts map[string]*sql.Stmt
	// stopCheckpoints ends the SQLite checkpointer (see checkpoints).
	stopCheckpoints func()
}

// Open opens the database: a PostgreSQL DSN (postgres:// or postgresql://)
// when dsn is set, otherwise SQLite in dataDir/vernetzen.db. It applies the
// migrations before it returns.
func Open(ctx context.Context, dsn, dataDir string) (*Store, error) {
	var s *Store
	var err error
	if dsn != "" {
		s, err = openPostgres(dsn)
	} else {
		s, err = openSQLite(dataDir)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(dsn string) (*Store, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("store: --db must be a postgres:// URL")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{engine: Postgres, wdb: db, rdb: db, w: db, r: db, now: time.Now}, nil
}

func openSQLite(dataDir string) (*Store, error) {
	if dataDir == "" {
		dataDir = "."
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(dataDir, "vernetzen.db")
	// WAL lets readers run beside the writer; busy_timeout makes a second
	// process wait instead of failing; foreign keys are off by default in
	// SQLite; synchronous=NORMAL is durable against a process crash (the
	// WAL is fsynced at checkpoints), which is what "survives a SIGKILL"
	// needs, at a fraction of FULL's cost.
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	// The one writer keeps a large page cache (64 MB): a batch of
	// messages dirties pages all over the secondary indexes and the
	// full-text index, and with SQLite's default 2 MB cache every one of
	// them is read back from the file for the next batch. Sorts and
	// temporary b-trees stay in memory. The writer checkpoints after a
	// commit that takes the WAL past wal_autocheckpoint pages: at SQLite's
	// default of 1,000 (4 MB) every big batch's commit ran one, copying the
	// same hot index pages again each time; at 8,192 (32 MB) one copies the
	// last version of a page that several batches wrote, and most of it
	// the background checkpointer has copied already.
	writerPragmas := "&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(8192)"
	wdb, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+writerPragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(8)
	// Create the file and switch it to WAL before readers open it.
	if _, err := wdb.Exec("SELECT 1"); err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	s := &Store{engine: SQLite, wdb: wdb, rdb: rdb, w: wdb, r: rdb, now: time.Now, batch: newBatcher()}
	cdb, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	s.stopCheckpoints = checkpoints(cdb, checkpointEvery)
	return s, nil
}

// checkpointEvery is how often the checkpointer copies committed WAL pages
// into the database file.
const checkpointEvery = 250 * time.Millisecond

// checkpoints copies the WAL's committed pages into the database file in
// the background (PRAGMA wal_checkpoint(PASSIVE), which waits for nobody
// and blocks nobody), on its own connection: the writer's commits then
// find most of the WAL copied already, and its own checkpoint, due when
// the WAL reaches wal_autocheckpoint pages, copies only the rest before
// the WAL starts over. That takes most of the copying and its fsyncs off
// the one writer. It returns the function that stops it and closes db.
func checkpoints(db *sql.DB, every time.Duration) (stop func()) {
	db.SetMaxOpenConns(1)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// Errors (SQLITE_BUSY while another checkpoint runs) only
				// leave the copying to the next round or the writer.
				db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		db.Close()
	}
}

// Engine tells which database engine the store runs on.
func (s *Store) Engine() Engine { return s.engine }

// DB returns the pool for writes (used by the job queue).
func (s *Store) DB() *sql.DB { return s.wdb }

// Close closes the pools.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.close()
	}
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
		s.stopCheckpoints = nil
	}
	err := s.wdb.Close()
	if s.rdb != s.wdb {
		if err2 := s.rdb.Close(); err == nil {
			err = err2
		}
	}
	return err
}

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.PingContext(ctx)
}

// InTx runs fn with a Store whose every read and write goes through one
// transaction; fn's error rolls it back. Nested calls join the outer one.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	txs := *s
	txs.w, txs.r, txs.inTx, txs.stmts = tx, tx, true, map[string]*sql.Stmt{}
	if err := fn(&txs); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// ms converts a time to the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// isUnique reports whether err is a unique-constraint violation on either
// engine; the store checks first and this is the backstop for races.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// scopeClause renders "(col LIKE $n || '%' OR …)" for unit-path prefixes,
// appending the arguments. An empty scope matches nothing.
func scopeClause(col string, scope []string, args []any) (string, []any) {
	if len(scope) == 0 {
		return "1=0", args
	}
	parts := make([]string, len(scope))
	for i, p := range scope {
		args = append(args, escapeLike(p)+"%")
		parts[i] = fmt.Sprintf("%s LIKE $%d ESCAPE '\\'", col, len(args))
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// escapeLike escapes LIKE's wildcards in a literal.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }

// Tx returns the transaction a Store from InTx runs in (nil outside one),
// so that the job queue can insert jobs in it.
func (s *Store) Tx() *sql.Tx {
	tx, _ := s.w.(*sql.Tx)
	return tx
}
