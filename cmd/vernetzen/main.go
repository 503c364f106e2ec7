// Command vernetzen is the social media hub: one binary that serves the web
// application, the JSON API and the background work, and the commands that
// set it up. This file is the command line and the wiring; the work is in
// internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/vernetzen/vernetzen/internal/errs"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// VERNETZEN_CPU_PROFILE=FILE writes a CPU profile of the whole run
	// (go tool pprof FILE); bench publish --profile sets it for its hub.
	if file := os.Getenv("VERNETZEN_CPU_PROFILE"); file != "" {
		if f, err := os.Create(file); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "vernetzen:", err)
		if errs.CodeOf(err) == errs.Invalid {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `vernetzen — a self-hosted social media hub

Usage: vernetzen [global flags] COMMAND [flags]

Commands:
  demo                     start the hub on a fresh store with the demo organisation
  serve                    start the hub
  import FILE              load an organisation map (units and channels; YAML)
  export [--format csv]    write the organisation map (or the channels as CSV)
  user add --email E --unit KEY --role ROLE
                           add a user with a role (password from stdin, or generated)
  token create --user E    create an API token; prints the token alone
  classify                 read JSON Lines {"id","text"} on stdin, write {"id","intent","lang","models","score"}
  key generate FILE        write a new secret key file (for --secret-key-file)
  key rotate --new-key-file FILE
                           re-seal every stored credential with a new key
  bench publish [--channels N] [--kill] | bench ingest [--messages N]
                           benchmark: one post to N channels on a local Mastodon-like instance
  migrate                  apply database migrations
  version                  print the version

Global flags (also as environment variables):
  --data DIR     VERNETZEN_DATA   SQLite data directory (default ./data; demo: a new temporary one)
  --db DSN       VERNETZEN_DB     PostgreSQL DSN (postgres://…); SQLite when empty
  --addr ADDR    VERNETZEN_ADDR   listen address (default 127.0.0.1:8080)
  --secret-key-file FILE  VERNETZEN_SECRET_KEY_FILE   key that seals platform credentials
                 (or the key itself in VERNETZEN_SECRET_KEY); without one, no credentials are stored
`

// globals are the flags every command takes.
type globals struct {
	data, db, addr string
	dataSet        bool
	// secretKey is VERNETZEN_SECRET_KEY (environment only: a key on the
	// command line would show in the process list); secretKeyFile the
	// path of a key file.
	secretKey, secretKeyFile string
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.data, "data", g.data, "SQLite data directory (VERNETZEN_DATA)")
	fs.StringVar(&g.db, "db", g.db, "PostgreSQL DSN, postgres://… (VERNETZEN_DB)")
	fs.StringVar(&g.addr, "addr", g.addr, "listen address (VERNETZEN_ADDR)")
	fs.StringVar(&g.secretKeyFile, "secret-key-file", g.secretKeyFile, "file holding the key that seals credentials (VERNETZEN_SECRET_KEY_FILE; or the key itself in VERNETZEN_SECRET_KEY)")
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	g := &globals{data: envOr("VERNETZEN_DATA", ""), db: envOr("VERNETZEN_DB", ""), addr: envOr("VERNETZEN_ADDR", "127.0.0.1:8080"),
		secretKey: os.Getenv("VERNETZEN_SECRET_KEY"), secretKeyFile: envOr("VERNETZEN_SECRET_KEY_FILE", "")}
	g.dataSet = g.data != ""
	top := flag.NewFlagSet("vernetzen", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(stderr, usage) }
	g.register(top)
	if err := top.Parse(args); err != nil {
		return err
	}
	args = top.Args()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errs.E(errs.Invalid, "name a command")
	}
	cmd, rest := args[0], args[1:]
	// Each command's flag set takes the global flags too, so that
	// "vernetzen demo --data DIR" works as well as "vernetzen --data DIR demo".
	fs := flag.NewFlagSet("vernetzen "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	parse := func() error {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "data" {
				g.dataSet = true
			}
		})
		top.Visit(func(f *flag.Flag) {
			if f.Name == "data" {
				g.dataSet = true
			}
		})
		return nil
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, g, fs, parse, stderr)
	case "demo":
		return cmdDemo(ctx, g, fs, parse, stdout, stderr)
	case "import":
		return cmdImport(ctx, g, fs, parse, stdout)
	case "export":
		return cmdExport(ctx, g, fs, parse, stdout)
	case "user":
		return cmdUser(ctx, g, fs, rest, stdin, stdout)
	case "token":
		return cmdToken(ctx, g, fs, rest, stdout)
	case "classify":
		return cmdClassify(fs, rest, stdin, stdout)
	case "key":
		return cmdKey(ctx, g, fs, rest, stdout)
	case "bench":
		return cmdBench(ctx, fs, rest, stdout)
	case "migrate":
		return cmdMigrate(ctx, g, parse, stdout)
	case "version":
		fmt.Fprintln(stdout, "vernetzen", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return errs.E(errs.Invalid, "unknown command %q", cmd)
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			return "dev-" + rev + dirty
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

func dataDir(g *globals) string {
	if g.data == "" {
		return "data"
	}
	return strings.TrimRight(g.data, "/")
}
