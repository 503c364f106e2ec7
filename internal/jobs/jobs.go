// Package jobs is the durable job queue: scheduled publishing, polling and
// retries run through it. It is River on either engine, over the store's
// own database/sql pool, so that a job can be inserted in the same
// transaction as the rows it works on (a post and its delivery commit with
// the job that publishes it, or not at all), and several nodes sharing one
// PostgreSQL split the work between them without a coordinator of their own.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Engine is the database engine behind the queue ("sqlite" or "postgres").
type Engine string

// Config tunes the queue.
type Config struct {
	Log *slog.Logger
	// Concurrency is how many jobs of the default queue a node works at
	// once (default 10).
	Concurrency int
	// PollInterval is how often an idle node looks for due jobs (default
	// 1 s; tests use less).
	PollInterval time.Duration
	// Register adds the workers; nil means this node only inserts jobs.
	Register func(w *river.Workers)
}

// Queue inserts and works jobs.
type Queue struct {
	client  *river.Client[*sql.Tx]
	working bool
}

// New opens the queue on db and applies River's own migrations.
func New(ctx context.Context, db *sql.DB, engine Engine, cfg Config) (*Queue, error) {
	var driver riverdriver.Driver[*sql.Tx]
	switch engine {
	case "sqlite":
		driver = riversqlite.New(db)
	case "postgres":
		driver = riverdatabasesql.New(db)
	default:
		return nil, fmt.Errorf("jobs: unknown engine %q", engine)
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(cfg.Log)})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	// A job whose node died (SIGKILL, power) is taken up again after
	// RescueStuckJobsAfter; River's default of an hour would leave a
	// scheduled post or a channel's polling waiting that long. Jobs
	// declare shorter timeouts of their own.
	rc := &river.Config{Logger: quiet(cfg.Log), PollOnly: true, JobTimeout: 2 * time.Minute, RescueStuckJobsAfter: 5 * time.Minute}
	q := &Queue{}
	if cfg.Register != nil {
		workers := river.NewWorkers()
		cfg.Register(workers)
		if cfg.Concurrency <= 0 {
			cfg.Concurrency = 10
		}
		if cfg.PollInterval <= 0 {
			cfg.PollInterval = time.Second
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Concurrency}}
		rc.FetchPollInterval = cfg.PollInterval
		// A node fetches new jobs at most once per cooldown, as many as it
		// has free workers: the cooldown times the concurrency bounds its
		// throughput (100 ms and 10 workers is only 100 jobs/s).
		rc.FetchCooldown = min(cfg.PollInterval, 10*time.Millisecond)
		q.working = true
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: client: %w", err)
	}
	q.client = client
	return q, nil
}

// quiet passes River's logs on at warning level and above: its info lines
// (every fetch and maintenance step) would drown the hub's own.
func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		log = slog.Default()
	}
	return slog.New(levelFilter{log.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}

// Start begins working jobs (when workers were registered).
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish (until ctx ends) and stops fetching.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	return q.client.Stop(ctx)
}

// Insert enqueues a job outside any transaction.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// InsertMany enqueues many jobs in one transaction: a start-up that
// makes sure thousands of channels have their jobs writes once, not
// thousands of times.
func (q *Queue) InsertMany(ctx context.Context, params []river.InsertManyParams) error {
	if _, err := q.client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("jobs: insert %d jobs: %w", len(params), err)
	}
	return nil
}

// InsertTx enqueues a job in tx: it exists, and runs, only if tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Client exposes River's client for subscriptions in tests and for job
// inspection.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }
