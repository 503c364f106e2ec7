package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/all"
	"github.com/vernetzen/vernetzen/internal/connector/sim"
	"github.com/vernetzen/vernetzen/internal/demo"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/jobs"
	"github.com/vernetzen/vernetzen/internal/leads"
	"github.com/vernetzen/vernetzen/internal/node"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
	"github.com/vernetzen/vernetzen/internal/secret"
	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/web"
)

// app is the wired hub: the store and the services over it.
type app struct {
	store       *store.Store
	org         *org.Service
	access      *access.Service
	connections *connection.Service
	publish     *publish.Service
	inbox       *inbox.Service // built by serve: classification trains at construction
	leads       *leads.Service
	registry    *connector.Registry
	box         *secret.Box // nil without a key
}

func openApp(ctx context.Context, g *globals) (*app, error) {
	box, mediaKey, err := loadBox(g)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, g.db, dataDir(g))
	if err != nil {
		return nil, err
	}
	if err := st.SyncPlatforms(ctx, org.Platforms); err != nil {
		st.Close()
		return nil, err
	}
	a := &app{store: st, org: org.NewService(st, st.OrgTx), access: access.NewService(st), box: box,
		registry: all.Registry(connector.Options{Limiter: connector.NewLimiter()})}
	a.connections = connection.NewService(connection.Config{Store: st, InTx: st.ConnTx, Org: a.org, Registry: a.registry, Box: box,
		PublicURL: "http://" + g.addr})
	a.publish = publish.NewService(publish.Config{Store: st, InTx: st.PublishTx, Org: a.org, Registry: a.registry, Accounts: a.connections,
		MediaDir: filepath.Join(dataDir(g), "media"), MediaURLKey: mediaKey})
	return a, nil
}

// loadBox opens the key that seals credentials, if one is configured,
// and derives from it the key that signs public media links (a separate
// key, so a link's signature reveals nothing about the sealing key).
func loadBox(g *globals) (*secret.Box, []byte, error) {
	key, err := secret.LoadKey(g.secretKey, g.secretKeyFile)
	if errors.Is(err, secret.ErrNoKey) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	box, err := secret.New(key)
	if err != nil {
		return nil, nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("vernetzen: public media link key"))
	return box, mac.Sum(nil), nil
}

func (a *app) Close() error { return a.store.Close() }

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// cookieSecure decides whether session cookies are marked Secure: "auto"
// means yes unless the hub listens on a loopback address (a local demo
// over plain HTTP); behind a TLS proxy on loopback, set it to "true".
func cookieSecure(setting, addr string) (bool, error) {
	switch setting {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto", "":
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return true, nil
		}
		ip := net.ParseIP(host)
		return !(host == "localhost" || ip != nil && ip.IsLoopback()), nil
	}
	return false, errs.Field("cookie-secure", "%q: use auto, true or false", setting)
}

type serveFlags struct {
	logFormat    string
	cookieSecure string
	publicURL    string
	pollInterval time.Duration
	trustedProxy string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.publicURL, "public-url", envOr("VERNETZEN_PUBLIC_URL", ""), "the hub's address as browsers and platforms reach it, for OAuth callbacks, webhooks and the media links Instagram fetches (VERNETZEN_PUBLIC_URL; default http://ADDR, which gives no media links)")
	fs.DurationVar(&f.pollInterval, "poll-interval", time.Minute, "pause between polls of a quiet channel")
	fs.StringVar(&f.logFormat, "log-format", envOr("VERNETZEN_LOG_FORMAT", "text"), "log format: text or json (VERNETZEN_LOG_FORMAT)")
	fs.StringVar(&f.trustedProxy, "trusted-proxy", envOr("VERNETZEN_TRUSTED_PROXY", ""), "reverse proxies whose X-Forwarded-For names the client, as IPs or CIDR prefixes, comma-separated (VERNETZEN_TRUSTED_PROXY); login throttling counts per client")
	fs.StringVar(&f.cookieSecure, "cookie-secure", envOr("VERNETZEN_COOKIE_SECURE", "auto"), "mark cookies Secure: auto, true, false (VERNETZEN_COOKIE_SECURE)")
}

func cmdServe(ctx context.Context, g *globals, fs *flag.FlagSet, parse func() error, stderr io.Writer) error {
	var sf serveFlags
	sf.register(fs)
	if err := parse(); err != nil {
		return err
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	log := newLogger(stderr, sf.logFormat)
	if a.box == nil {
		log.Warn("no secret key configured (VERNETZEN_SECRET_KEY or --secret-key-file): channels can't be connected to their platforms")
	}
	return serve(ctx, a, g, sf, log, nil, nil)
}

// serve runs the HTTP server and the job queue until ctx ends, then shuts
// down gracefully: it stops accepting, lets requests in flight finish (up
// to 10 s), lets running jobs finish, and closes. extra mounts more
// handlers; ready, if set, is called with the listening address.
func serve(ctx context.Context, a *app, g *globals, sf serveFlags, log *slog.Logger, extra map[string]http.Handler, ready func(addr string)) error {
	secure, err := cookieSecure(sf.cookieSecure, g.addr)
	if err != nil {
		return err
	}
	proxies, err := web.ParseTrustedProxies(sf.trustedProxy)
	if err != nil {
		return errs.Field("trusted-proxy", "%v", err)
	}
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", g.addr, err)
	}
	a.connections.PublicURL = strings.TrimRight(sf.publicURL, "/")
	if a.connections.PublicURL == "" {
		a.connections.PublicURL = "http://" + ln.Addr().String()
	}
	a.connections.Log = log
	a.connections.PollInterval = sf.pollInterval
	// On SQLite this process holds the data directory, so it alone works
	// jobs there from now on: attempts a dead predecessor left half done
	// are reconciled at once rather than after their lease.
	var soleSince time.Time
	if a.store.Engine() == store.SQLite {
		release, err := lockDataDir(dataDir(g))
		if err != nil && !errors.Is(err, errNoLockSupport) {
			ln.Close()
			return err
		}
		if release != nil {
			defer release()
			soleSince = time.Now()
		}
	}
	// This process is a node among those sharing the database: attempts
	// it marks carry its id, and its heartbeat tells the others it is
	// alive; when it stops beating they reconcile its attempts.
	self := node.New(a.store, log)
	if err := self.Join(ctx); err != nil {
		ln.Close()
		return err
	}
	beat, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beating := make(chan struct{})
	go func() { self.Run(beat); close(beating) }()
	defer func() { stopBeat(); <-beating }() // after the queue has stopped (deferred later, run earlier)
	a.inbox = inbox.NewService(inbox.Config{Store: a.store, Log: log, Accounts: a.connections, Registry: a.connections.Registry,
		SoleWorkerSince: soleSince, Node: self.ID, Nodes: a.store})
	a.connections.Ingest = a.inbox
	if a.store.Engine() == store.Postgres {
		// Several nodes may share the database: a message ingested on one
		// reaches the inbox pages open on all of them.
		if err := a.inbox.ShareEvents(ctx, a.store); err != nil {
			log.Warn("inbox live updates stay on this node until listening succeeds", "err", err)
		}
	}
	a.leads = leads.NewService(leads.Config{Store: a.store, Export: a.store, Box: a.box, Log: log})
	a.publish.Log = log
	// Only an address set on purpose: platforms fetch media from it.
	a.publish.PublicURL = strings.TrimRight(sf.publicURL, "/")
	a.publish.SoleWorkerSince = soleSince
	a.publish.Node, a.publish.Nodes = self.ID, a.store
	collector := &analytics.Collector{Store: a.store, Accounts: a.connections, Log: log}
	queue, err := jobs.New(ctx, a.store.DB(), jobs.Engine(a.store.Engine()), jobs.Config{Log: log, Concurrency: 256, Register: func(w *river.Workers) {
		a.connections.RegisterWorkers(w)
		a.leads.RegisterWorkers(w)
		a.publish.RegisterWorkers(w)
		a.inbox.RegisterWorkers(w)
		collector.RegisterWorkers(w)
	}})
	if err != nil {
		ln.Close()
		return err
	}
	a.connections.UseQueue(queue)
	a.leads.UseQueue(queue)
	a.publish.UseQueue(queue)
	a.inbox.UseQueue(queue)
	// The queue outlives ctx's cancellation so that Stop below can let
	// running jobs finish instead of cancelling them mid-write.
	if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			log.Warn("job queue stop", "err", err)
		}
	}()
	if err := a.connections.ResumePolling(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := a.leads.StartExport(ctx); err != nil {
		ln.Close()
		return err
	}
	if _, err := a.publish.ResumeDeliveries(ctx); err != nil {
		ln.Close()
		return err
	}
	if _, err := a.inbox.ResumeReplies(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := a.publish.StartSweeper(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := collector.Start(ctx, queue); err != nil {
		ln.Close()
		return err
	}
	srv := web.New(web.Config{Org: a.org, Access: a.access, Connections: a.connections, Publish: a.publish, Inbox: a.inbox, Leads: a.leads,
		Analytics: analytics.NewService(a.store, a.org), DB: a.store, Log: log,
		Version: versionString(), SecureCookies: secure, TrustedProxies: proxies, Extra: extra})
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Open event streams would hold Shutdown up: end them when it starts.
	hs.RegisterOnShutdown(a.inbox.Close)
	engine := string(a.store.Engine())
	log.Info("vernetzen listening", "addr", "http://"+ln.Addr().String(), "version", versionString(), "db", engine)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// ready may call the hub itself (the demo connects its channels to the
	// simulator it serves), so it runs once the server is serving.
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// DemoAdmin is the e-mail of the admin that the demo creates.
const DemoAdmin = "admin@demo.vernetzen.example"

func cmdDemo(ctx context.Context, g *globals, fs *flag.FlagSet, parse func() error, stdout, stderr io.Writer) error {
	var sf serveFlags
	sf.register(fs)
	if err := parse(); err != nil {
		return err
	}
	if !g.dataSet && g.db == "" {
		dir, err := os.MkdirTemp("", "vernetzen-demo-")
		if err != nil {
			return err
		}
		g.data = dir
	}
	if sf.pollInterval == time.Minute {
		sf.pollInterval = 5 * time.Second // a lively demo
	}
	// The demo makes its own key, kept beside its data, unless one is given.
	if g.secretKey == "" && g.secretKeyFile == "" {
		if err := os.MkdirAll(dataDir(g), 0o700); err != nil {
			return err
		}
		g.secretKeyFile = filepath.Join(dataDir(g), "secret.key")
		if _, err := secret.LoadOrGenerateKeyFile(g.secretKeyFile); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	a.connections.AudienceInterval = time.Minute // followers move visibly in the demo
	res, err := demo.Load(ctx, a.org)
	if err != nil {
		return fmt.Errorf("load demo organisation: %w", err)
	}
	seeded, err := demo.SeedAudience(ctx, a.org, a.store, time.Now())
	if err != nil {
		return fmt.Errorf("demo audience history: %w", err)
	}
	password, err := ensureDemoAdmin(ctx, a)
	if err != nil {
		return err
	}
	log := newLogger(stderr, sf.logFormat)
	texts, err := sim.TextsFromJSONL(bytes.NewReader(demo.MessageTexts()))
	if err != nil {
		return err
	}
	// The simulated network writes to the demo's channels often enough
	// that the hub has something to show within a minute.
	simServer := sim.NewServer(sim.Config{Seed: uint64(time.Now().UnixNano()), Texts: texts,
		CommentsPerHour: 60, MentionsPerHour: 30, DMsPerHour: 12, FollowersPerHour: 240})
	extra := map[string]http.Handler{connection.SimulatorPath + "/": http.StripPrefix(connection.SimulatorPath, simServer)}
	return serve(ctx, a, g, sf, log, extra, func(addr string) {
		connected, err := connectSimulatorChannels(ctx, a)
		if err != nil {
			log.Error("connect the demo's simulator channels", "err", err)
		}
		fmt.Fprintf(stdout, "\nvernetzen demo is running: http://%s/\n", addr)
		fmt.Fprintf(stdout, "  organisation: %s\n", res)
		fmt.Fprintf(stdout, "  simulator:    %d channels connected to the built-in simulated network\n", connected)
		if seeded > 0 {
			fmt.Fprintf(stdout, "  history:      %d days of simulated followers and audience demographics for %d channels on Facebook, Instagram, YouTube and X\n", demo.HistoryDays, seeded)
		}
		if g.db == "" {
			fmt.Fprintf(stdout, "  data:         %s\n", dataDir(g))
		}
		fmt.Fprintf(stdout, "  log in as:    %s\n", DemoAdmin)
		if password != "" {
			fmt.Fprintf(stdout, "  password:     %s\n", password)
		} else {
			fmt.Fprintf(stdout, "  password:     (as printed when this data directory was first used)\n")
		}
		fmt.Fprintf(stdout, "  public hub:   http://%s/hub\n\nPress Ctrl-C to stop.\n", addr)
	})
}

// connectSimulatorChannels connects every simulator channel that is not
// connected yet to the simulated network the demo serves.
func connectSimulatorChannels(ctx context.Context, a *app) (int, error) {
	sys := access.SystemPrincipal()
	chs, _, err := a.org.Channels(ctx, sys, org.ChannelFilter{Platform: "simulator", Status: org.StatusActive})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range chs {
		st, err := a.connections.Status(ctx, sys, c.ID)
		if err != nil {
			return n, err
		}
		if !st.Connected {
			if _, err := a.connections.ConnectWithToken(ctx, sys, c.ID, connection.TokenInput{Identifier: c.Handle}); err != nil {
				return n, fmt.Errorf("channel %d: %w", c.ID, err)
			}
		}
		n++
	}
	return n, nil
}

// ensureDemoAdmin creates the demo's admin with a fresh password and an
// admin grant on the group; on a store that has it already it returns "".
func ensureDemoAdmin(ctx context.Context, a *app) (string, error) {
	sys := access.SystemPrincipal()
	if _, _, err := a.store.UserByEmail(ctx, DemoAdmin); err == nil {
		return "", nil
	}
	_, password, err := a.access.CreateUser(ctx, sys, access.UserInput{Email: DemoAdmin, Name: "Demo Admin"})
	if err != nil {
		return "", err
	}
	if _, err := a.access.Grant(ctx, sys, access.GrantInput{User: DemoAdmin, Unit: "group", Role: access.RoleAdmin}); err != nil {
		return "", err
	}
	return password, nil
}

func cmdImport(ctx context.Context, g *globals, fs *flag.FlagSet, parse func() error, stdout io.Writer) error {
	dryRun := fs.Bool("dry-run", false, "check the file and report what would change, without writing")
	if err := parse(); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errs.E(errs.Invalid, "usage: vernetzen import FILE (use - for standard input)")
	}
	name := fs.Arg(0)
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	m, err := org.ParseMap(name, r)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	if *dryRun {
		var res org.ImportResult
		err := a.store.InTx(ctx, func(tx *store.Store) error {
			var err error
			res, err = org.NewService(tx, tx.OrgTx).Import(ctx, access.SystemPrincipal(), name, m)
			if err == nil {
				err = errDryRun
			}
			return err
		})
		if !errors.Is(err, errDryRun) {
			return err
		}
		fmt.Fprintf(stdout, "%s: would import %s\n", name, res)
		return nil
	}
	res, err := a.org.Import(ctx, access.SystemPrincipal(), name, m)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n", name, res)
	return nil
}

var errDryRun = errors.New("dry run")

func cmdExport(ctx context.Context, g *globals, fs *flag.FlagSet, parse func() error, stdout io.Writer) error {
	format := fs.String("format", "yaml", "yaml (the organisation map) or csv (the channels)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := parse(); err != nil {
		return err
	}
	if *format != "yaml" && *format != "csv" {
		return errs.Field("format", "%q: use yaml or csv", *format)
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	sys := access.SystemPrincipal()
	if *format == "csv" {
		chs, _, err := a.org.Channels(ctx, sys, org.ChannelFilter{})
		if err != nil {
			return err
		}
		return org.WriteChannelsCSV(csv.NewWriter(w), chs)
	}
	m, err := a.org.Export(ctx, sys)
	if err != nil {
		return err
	}
	return org.WriteMap(w, m)
}

func cmdUser(ctx context.Context, g *globals, fs *flag.FlagSet, rest []string, stdin io.Reader, stdout io.Writer) error {
	if len(rest) == 0 || rest[0] != "add" {
		return errs.E(errs.Invalid, "usage: vernetzen user add --email E --unit KEY --role ROLE [--name NAME]")
	}
	email := fs.String("email", "", "the user's e-mail address")
	unit := fs.String("unit", "", "the unit the role is granted on (covers its subtree)")
	role := fs.String("role", "", "admin, manager, editor, agent, sales or viewer")
	name := fs.String("name", "", "the user's name")
	if err := fs.Parse(rest[1:]); err != nil {
		return err
	}
	if *email == "" || *unit == "" || *role == "" {
		return errs.E(errs.Invalid, "usage: vernetzen user add --email E --unit KEY --role ROLE [--name NAME]")
	}
	password, err := passwordFromStdin(stdin)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	sys := access.SystemPrincipal()
	generated := ""
	if _, _, err := a.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(*email))); errs.Is(err, errs.NotFound) {
		_, pw, err := a.access.CreateUser(ctx, sys, access.UserInput{Email: *email, Name: *name, Password: password})
		if err != nil {
			return err
		}
		if password == "" {
			generated = pw
		}
	} else if err != nil {
		return err
	}
	if _, err := a.access.Grant(ctx, sys, access.GrantInput{User: *email, Unit: *unit, Role: access.Role(*role)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is %s of %s\n", *email, *role, *unit)
	if generated != "" {
		fmt.Fprintf(stdout, "password: %s\n", generated)
	}
	return nil
}

// passwordFromStdin reads the first line of standard input when it is a
// pipe or a file; from a terminal (or nothing) it returns "" and a
// password is generated.
func passwordFromStdin(stdin io.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	if stdin == nil {
		return "", nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdToken(ctx context.Context, g *globals, fs *flag.FlagSet, rest []string, stdout io.Writer) error {
	if len(rest) == 0 || rest[0] != "create" {
		return errs.E(errs.Invalid, "usage: vernetzen token create --user E [--name NAME]")
	}
	user := fs.String("user", "", "the e-mail of the user the token acts as")
	name := fs.String("name", "command line", "a name to tell the token apart")
	if err := fs.Parse(rest[1:]); err != nil {
		return err
	}
	if *user == "" {
		return errs.E(errs.Invalid, "usage: vernetzen token create --user E [--name NAME]")
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	_, secret, err := a.access.CreateToken(ctx, access.SystemPrincipal(), access.TokenInput{Name: *name, User: *user})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdMigrate(ctx context.Context, g *globals, parse func() error, stdout io.Writer) error {
	if err := parse(); err != nil {
		return err
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database (%s) is at schema version %d\n", a.store.Engine(), v)
	return nil
}

func cmdKey(ctx context.Context, g *globals, fs *flag.FlagSet, rest []string, stdout io.Writer) error {
	const usage = "usage: vernetzen key generate FILE | vernetzen key rotate --new-key-file FILE"
	if len(rest) == 0 {
		return errs.E(errs.Invalid, usage)
	}
	switch rest[0] {
	case "generate":
		if len(rest) != 2 {
			return errs.E(errs.Invalid, usage)
		}
		if _, err := secret.GenerateKeyFile(rest[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote a new key to %s; start the hub with --secret-key-file %s\n", rest[1], rest[1])
		return nil
	case "rotate":
		newFile := fs.String("new-key-file", "", "the new key's file (created if it does not exist)")
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
		if *newFile == "" {
			return errs.E(errs.Invalid, usage)
		}
		a, err := openApp(ctx, g)
		if err != nil {
			return err
		}
		defer a.Close()
		if a.box == nil {
			return errs.E(errs.Invalid, "give the current key (VERNETZEN_SECRET_KEY or --secret-key-file) to rotate from")
		}
		key, err := secret.LoadOrGenerateKeyFile(*newFile)
		if err != nil {
			return err
		}
		next, err := secret.New(key)
		if err != nil {
			return err
		}
		n, err := a.connections.RotateKey(ctx, a.box, next)
		if err != nil {
			return err
		}
		m, err := leads.RotateSecrets(ctx, a.store, a.box, next)
		if err != nil {
			return err
		}
		n += m
		fmt.Fprintf(stdout, "re-sealed %d secrets with the key in %s; start the hub with --secret-key-file %s and destroy the old key\n", n, *newFile, *newFile)
		return nil
	}
	return errs.E(errs.Invalid, usage)
}

// cmdClassify classifies messages: JSON Lines {"id", "text"} in, one line
// {"id", "intent", "lang", "models", "score"} out per input.
func cmdClassify(fs *flag.FlagSet, rest []string, stdin io.Reader, stdout io.Writer) error {
	if err := fs.Parse(rest); err != nil {
		return err
	}
	return classify.RunJSONL(stdin, stdout, classify.New(classify.DefaultCatalogue()))
}
