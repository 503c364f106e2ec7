package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vernetzen/vernetzen/internal/store"
	"github.com/vernetzen/vernetzen/internal/store/storetest"
)

// TestMain lets a test run this binary as the vernetzen command (in a
// child process) when VERNETZEN_TEST_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("VERNETZEN_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestIngestedMessagesSurviveSIGKILL posts batches from several clients at
// once to a real `vernetzen serve` (so that batches share write
// transactions), kills it with SIGKILL while batches are in flight, and
// checks that every message of every batch it had answered 202 for is in
// the database afterwards.
func TestIngestedMessagesSurviveSIGKILL(t *testing.T) {
	if storetest.PostgresDSN() != "" {
		t.Skip("SQLite's durability; PostgreSQL commits are its own")
	}
	dir := t.TempDir()
	if _, err := vz(t, "", dir, "", "import", "../../internal/demo/group-channels.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := vz(t, "", dir, "a-password-123\n", "user", "add", "--email", "feed@example.com", "--unit", "group", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	token, err := vz(t, "", dir, "", "token", "create", "--user", "feed@example.com")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "serve", "--data", dir, "--addr", addr)
	child.Env = append(os.Environ(), "VERNETZEN_TEST_MAIN=1", "VERNETZEN_DB=")
	var logs bytes.Buffer
	child.Stdout, child.Stderr = &logs, &logs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			child.Process.Kill()
			child.Wait()
		}
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 600 {
			t.Fatalf("the hub did not get ready: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var channels struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := getJSON(base+"/api/v1/channels?limit=5", token, &channels); err != nil || len(channels.Items) == 0 {
		t.Fatalf("channels: %v %+v", err, channels)
	}
	channel := channels.Items[0].ID

	// Four clients post batches of 300 until the hub dies; the hub is
	// killed once 12 batches were acknowledged, with others in flight.
	const clients, batch = 4, 300
	var mu sync.Mutex
	var acked [][]string // external ids of acknowledged batches
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	enough := make(chan struct{})
	var once sync.Once
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ctx.Err() == nil; b++ {
				ids := make([]string, batch)
				var msgs []map[string]any
				for i := range ids {
					ids[i] = fmt.Sprintf("kill-%d-%d-%d", c, b, i)
					msgs = append(msgs, map[string]any{"channel": channel, "external_id": ids[i], "kind": "comment",
						"author": map[string]string{"external_id": fmt.Sprintf("author-%d", i%50)},
						"text":   "Ich möchte den neuen iX bei einem Händler in Hamburg Probe fahren", "created_at": "2026-11-20T10:00:00Z"})
				}
				body, _ := json.Marshal(map[string]any{"messages": msgs})
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the hub is gone
				}
				var res struct{ Accepted int }
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted || res.Accepted != batch {
					t.Errorf("batch: %d, %+v", resp.StatusCode, res)
					return
				}
				mu.Lock()
				acked = append(acked, ids)
				if len(acked) >= 12 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(2 * time.Minute):
		t.Fatalf("too few batches acknowledged\n%s", logs.String())
	}
	mu.Lock() // nothing is acknowledged from here on: what was is checked
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killed = true
	sure := append([][]string(nil), acked...)
	mu.Unlock()
	cancel()
	wg.Wait()

	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[string]bool{}
	rows, err := st.DB().Query(`SELECT external_id FROM messages WHERE channel_id = $1`, channel)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		stored[id] = true
	}
	rows.Close()
	lost := 0
	for _, ids := range sure {
		for _, id := range ids {
			if !stored[id] {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages are gone after SIGKILL", lost, len(sure)*batch)
	}
	t.Logf("%d acknowledged batches of %d all survived SIGKILL (%d messages stored)", len(sure), batch, len(stored))
}

func getJSON(url, token string, out any) error {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
