package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// vz runs the command line in-process against a test database.
func vz(t *testing.T, dsn, dir string, stdin string, args ...string) (string, error) {
	t.Helper()
	full := append([]string{"--data", dir}, args...)
	if dsn != "" {
		full = append([]string{"--db", dsn}, full...)
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), full, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func TestImportExportCommands(t *testing.T) {
	dsn, dir := storetest.Config(t)
	mapFile := "../../internal/demo/group-channels.yaml"
	out, err := vz(t, dsn, dir, "", "import", mapFile)
	if err != nil || !strings.Contains(out, "units: 14 created") || !strings.Contains(out, "channels: 26 created") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err = vz(t, dsn, dir, "", "import", mapFile)
	if err != nil || !strings.Contains(out, "0 created, 0 updated, 14 unchanged") || !strings.Contains(out, "0 created, 0 updated, 26 unchanged") {
		t.Fatalf("second import: %v\n%s", err, out)
	}
	exported, err := vz(t, dsn, dir, "", "export")
	if err != nil {
		t.Fatal(err)
	}
	// export → import into an empty store → the same export.
	file := filepath.Join(t.TempDir(), "export.yaml")
	os.WriteFile(file, []byte(exported), 0o600)
	dsn2, dir2 := storetest.Config(t)
	if out, err := vz(t, dsn2, dir2, "", "import", file); err != nil {
		t.Fatalf("import export: %v %s", err, out)
	}
	again, _ := vz(t, dsn2, dir2, "", "export")
	if again != exported {
		t.Fatalf("export → import → export differs:\n%s\n---\n%s", exported, again)
	}
	csv, err := vz(t, dsn, dir, "", "export", "--format", "csv")
	if err != nil || strings.Count(csv, "\n") != 27 {
		t.Fatalf("csv export: %v\n%s", err, csv)
	}
}

func TestImportRejectsABadFileWhole(t *testing.T) {
	dsn, dir := storetest.Config(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("units:\n  - {key: g, name: G, kind: group}\nchannels:\n  - {unit: g, platform: facebook, url: facebook.com/g}\n  - {unit: g, platform: friendster, url: friendster.com/g}\n"), 0o600)
	_, err := vz(t, dsn, dir, "", "import", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:5") || !strings.Contains(err.Error(), "friendster") {
		t.Fatalf("err = %v", err)
	}
	out, err := vz(t, dsn, dir, "", "export")
	if err != nil || strings.Contains(out, "key: g") {
		t.Fatalf("a failed import wrote something: %v\n%s", err, out)
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	dsn, dir := storetest.Config(t)
	if _, err := vz(t, dsn, dir, "", "import", "../../internal/demo/group-channels.yaml"); err != nil {
		t.Fatal(err)
	}
	out, err := vz(t, dsn, dir, "", "user", "add", "--email", "m@example.com", "--unit", "mini", "--role", "manager")
	if err != nil || !regexp.MustCompile(`password: \S{16,}`).MatchString(out) {
		t.Fatalf("user add with generated password: %v\n%s", err, out)
	}
	out, err = vz(t, dsn, dir, "a-long-enough-password\n", "user", "add", "--email", "v@example.com", "--unit", "bmw", "--role", "viewer")
	if err != nil || strings.Contains(out, "password:") {
		t.Fatalf("user add with password from stdin: %v\n%s", err, out)
	}
	if _, err := vz(t, dsn, dir, "", "user", "add", "--email", "x@example.com", "--unit", "nowhere", "--role", "viewer"); err == nil {
		t.Fatal("user add on an unknown unit succeeded")
	}
	out, err = vz(t, dsn, dir, "", "token", "create", "--user", "m@example.com")
	if err != nil || !regexp.MustCompile(`^vzt_[A-Za-z0-9_-]{40,}\n$`).MatchString(out) {
		t.Fatalf("token create must print the token alone: %v %q", err, out)
	}
	out, err = vz(t, dsn, dir, "", "migrate")
	if err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if out, err := vz(t, dsn, dir, "", "version"); err != nil || !strings.HasPrefix(out, "vernetzen ") {
		t.Fatalf("version: %v %s", err, out)
	}
	if _, err := vz(t, dsn, dir, "", "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDemoStartsAWorkingHubAndShutsDown(t *testing.T) {
	dsn, dir := storetest.Config(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	args := []string{"demo", "--data", dir, "--addr", "127.0.0.1:0"}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), &out, io.Discard) }()
	re := regexp.MustCompile(`running: (http://\S+)/`)
	var base string
	deadline := time.Now().Add(60 * time.Second)
	for base == "" && time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if base == "" {
		t.Fatalf("demo did not start:\n%s", out.String())
	}
	if !regexp.MustCompile(`password: +\S{16,}`).MatchString(out.String()) {
		t.Fatalf("demo did not print the admin's login:\n%s", out.String())
	}
	for _, path := range []string{"/healthz", "/readyz", "/hub", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if path == "/hub" && !strings.Contains(string(body), "facebook.com/MINI") {
			t.Fatalf("/hub does not list MINI on Facebook")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not shut down")
	}
}

func TestClassifyCommand(t *testing.T) {
	out, err := vz(t, "", t.TempDir(), "{\"id\":\"a\",\"text\":\"Quanto costa una MINI Countryman in leasing?\"}\n{\"id\":\"b\",\"text\":\"🔥🔥🔥\"}\n", "classify")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"intent":"purchase"`) || !strings.Contains(lines[0], `"lang":"it"`) ||
		!strings.Contains(lines[0], `"models":["MINI Countryman"]`) || !strings.Contains(lines[1], `"models":[]`) {
		t.Fatalf("classify output:\n%s", out)
	}
	if _, err := vz(t, "", t.TempDir(), "{\"id\": 1, \"text\": 5}\n", "classify"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad line: %v", err)
	}
}

func TestKeyCommands(t *testing.T) {
	dsn, dir := storetest.Config(t)
	keys := t.TempDir()
	oldKey, newKey := filepath.Join(keys, "old.key"), filepath.Join(keys, "new.key")
	if out, err := vz(t, dsn, dir, "", "key", "generate", oldKey); err != nil || !strings.Contains(out, oldKey) {
		t.Fatalf("key generate: %v %s", err, out)
	}
	if _, err := vz(t, dsn, dir, "", "key", "generate", oldKey); err == nil {
		t.Fatal("key generate overwrote an existing key")
	}
	if st, err := os.Stat(oldKey); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	// Without the current key there is nothing to rotate from.
	if _, err := vz(t, dsn, dir, "", "key", "rotate", "--new-key-file", newKey); err == nil {
		t.Fatal("rotate without a current key succeeded")
	}
	out, err := vz(t, dsn, dir, "", "--secret-key-file", oldKey, "key", "rotate", "--new-key-file", newKey)
	if err != nil || !strings.Contains(out, "re-sealed 0 secrets") {
		t.Fatalf("rotate: %v %s", err, out)
	}
	if _, err := os.Stat(newKey); err != nil {
		t.Fatalf("the new key was not written: %v", err)
	}
}

// A second serving process on the same SQLite data directory is refused:
// the first holds the directory, which lets it take over a dead
// predecessor's half-done attempts at once.
func TestServeHoldsTheDataDirectory(t *testing.T) {
	if storetest.PostgresDSN() != "" {
		t.Skip("the lock is SQLite's")
	}
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "another vernetzen serves") {
		t.Fatalf("second lock: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "another vernetzen serves") {
		t.Fatalf("serve beside a holder: %v", err)
	}
}
