package secret

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	box, err := New(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal([]byte("access-token-123"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v1."+box.KeyID()+".") || strings.Contains(sealed, "access-token") {
		t.Fatalf("sealed = %q", sealed)
	}
	again, _ := box.Seal([]byte("access-token-123"))
	if again == sealed {
		t.Fatal("two seals of the same value must differ (random nonce)")
	}
	pt, err := box.Open(sealed)
	if err != nil || string(pt) != "access-token-123" {
		t.Fatalf("open: %q %v", pt, err)
	}
}

func TestOpenRejectsTamperingAndWrongKey(t *testing.T) {
	box, _ := New(GenerateKey())
	other, _ := New(GenerateKey())
	sealed, _ := box.Seal([]byte("x"))
	if _, err := other.Open(sealed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("wrong key: %v", err)
	}
	// Flip one character of the ciphertext.
	b := []byte(sealed)
	i := len(b) - 3
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	if _, err := box.Open(string(b)); err == nil {
		t.Fatal("tampered value opened")
	}
	// Relabelling with another key id fails authentication or lookup.
	relabelled := "v1." + other.KeyID() + sealed[11:]
	if _, err := other.Open(relabelled); err == nil {
		t.Fatal("relabelled value opened")
	}
	for _, bad := range []string{"", "plain", "v1.abc.def", "v2." + box.KeyID() + ".AAAA"} {
		if _, err := box.Open(bad); err == nil {
			t.Errorf("%q opened", bad)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestRotate(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	oldBox, _ := New(oldKey)
	newBox, _ := New(newKey, oldKey) // can still read old values during the rotation
	sealed, _ := oldBox.Seal([]byte("refresh-token"))
	if !newBox.NeedsRotation(sealed) {
		t.Fatal("NeedsRotation")
	}
	if pt, err := newBox.Open(sealed); err != nil || string(pt) != "refresh-token" {
		t.Fatalf("open with older key: %v", err)
	}
	rotated, err := Rotate(oldBox, newBox, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if newBox.NeedsRotation(rotated) {
		t.Fatal("still needs rotation")
	}
	if again, err := Rotate(oldBox, newBox, rotated); err != nil || again != rotated {
		t.Fatal("rotating twice must be a no-op")
	}
	if pt, _ := newBox.Open(rotated); string(pt) != "refresh-token" {
		t.Fatal("rotated value")
	}
}

func TestLoadKey(t *testing.T) {
	key := GenerateKey()
	for _, enc := range []string{EncodeKey(key), hex.EncodeToString(key), strings.TrimRight(EncodeKey(key), "=")} {
		got, err := LoadKey(enc, "")
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("%q: %v", enc, err)
		}
	}
	if _, err := LoadKey("", ""); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := LoadKey("too-short", ""); err == nil {
		t.Fatal("bad key accepted")
	}

	path := filepath.Join(t.TempDir(), "secret.key")
	k1, err := GenerateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if _, err := GenerateKeyFile(path); err == nil {
		t.Fatal("key file overwritten")
	}
	k2, err := LoadKey("", path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("load file: %v", err)
	}
	// The environment wins over the file.
	if k3, _ := LoadKey(EncodeKey(key), path); !bytes.Equal(k3, key) {
		t.Fatal("env must win")
	}
	p2 := filepath.Join(t.TempDir(), "demo.key")
	a, err := LoadOrGenerateKeyFile(p2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadOrGenerateKeyFile(p2)
	if !bytes.Equal(a, b) {
		t.Fatal("LoadOrGenerateKeyFile must reuse the file")
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	type creds struct {
		Token Secret `json:"token"`
	}
	s := Secret("hunter2")
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("connect", "token", s, "creds", creds{s})
	js, _ := json.Marshal(creds{s})
	for name, out := range map[string]string{
		//lint:ignore S1025 the test checks what the %s verb prints
		"%s": fmt.Sprintf("%s", s), "%v": fmt.Sprintf("%v", creds{s}), "%+v": fmt.Sprintf("%+v", creds{s}),
		"%#v": fmt.Sprintf("%#v", creds{s}), "json": string(js), "slog": logBuf.String(),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s leaks: %s", name, out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal")
	}
	var in creds
	if err := json.Unmarshal([]byte(`{"token":"abc"}`), &in); err != nil || in.Token.Reveal() != "abc" {
		t.Fatalf("decoding a secret from a request must work: %v %q", err, in.Token.Reveal())
	}
}
