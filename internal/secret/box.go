// Package secret keeps credentials unreadable at rest and out of logs.
//
// A Box seals byte strings with AES-256-GCM. Every sealed value names the
// key that sealed it ("v1.<key id>.<base64url(nonce|ciphertext)>"), so a
// key rotation can find what still needs re-encrypting and a Box can open
// values sealed under an older key it was given. The Secret type redacts
// itself wherever it could be printed.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the key length in bytes (AES-256).
const KeySize = 32

const version = "v1"

// ErrNoKey is returned by LoadKey when neither an environment value nor a
// key file is given; the server refuses to store credentials then.
var ErrNoKey = errors.New("secret: no key configured (set VERNETZEN_SECRET_KEY or a key file)")

// ErrUnknownKey is returned by Open for a value sealed under a key the Box
// does not hold.
var ErrUnknownKey = errors.New("secret: sealed with an unknown key")

// Box seals and opens values. It is safe for concurrent use.
type Box struct {
	id    string
	aead  cipher.AEAD
	older map[string]cipher.AEAD // key id → AEAD, for opening only
}

// New returns a Box sealing with key (32 bytes). Keys in older are used
// only to open values sealed before a rotation.
func New(key []byte, older ...[]byte) (*Box, error) {
	id, aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	b := &Box{id: id, aead: aead, older: map[string]cipher.AEAD{}}
	for _, k := range older {
		oid, oa, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		if oid != id {
			b.older[oid] = oa
		}
	}
	return b, nil
}

func newAEAD(key []byte) (string, cipher.AEAD, error) {
	if len(key) != KeySize {
		return "", nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", nil, err
	}
	return KeyID(key), aead, nil
}

// KeyID is a short public fingerprint of key: the first 8 hex digits of a
// domain-separated SHA-256. It reveals nothing useful about the key.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("vernetzen secret key id\x00"), key...))
	return hex.EncodeToString(sum[:4])
}

// KeyID returns the id of the key this Box seals with.
func (b *Box) KeyID() string { return b.id }

// Seal encrypts plaintext under a fresh random nonce.
func (b *Box) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	// The header is authenticated so a value cannot be relabelled.
	header := version + "." + b.id
	out := b.aead.Seal(nonce, nonce, plaintext, []byte(header))
	return header + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed by this Box's key or one of its older keys.
func (b *Box) Open(sealed string) ([]byte, error) {
	id, raw, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	aead := b.aead
	if id != b.id {
		var ok bool
		if aead, ok = b.older[id]; !ok {
			return nil, fmt.Errorf("%w %s", ErrUnknownKey, id)
		}
	}
	n := aead.NonceSize()
	if len(raw) < n+aead.Overhead() {
		return nil, errors.New("secret: sealed value too short")
	}
	pt, err := aead.Open(nil, raw[:n], raw[n:], []byte(version+"."+id))
	if err != nil {
		return nil, errors.New("secret: sealed value does not authenticate")
	}
	return pt, nil
}

// SealedKeyID returns the id of the key a sealed value names.
func SealedKeyID(sealed string) (string, error) {
	id, _, err := parse(sealed)
	return id, err
}

// NeedsRotation reports whether sealed was sealed under another key than
// b's.
func (b *Box) NeedsRotation(sealed string) bool {
	id, _, err := parse(sealed)
	return err == nil && id != b.id
}

func parse(sealed string) (id string, raw []byte, err error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != version || len(parts[1]) != 8 {
		return "", nil, errors.New("secret: not a sealed value")
	}
	raw, err = base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", nil, errors.New("secret: sealed value is not base64url")
	}
	return parts[1], raw, nil
}

// Rotate re-encrypts sealed (opened with old) under next. A value already
// sealed under next's key is returned unchanged, so a rotation interrupted
// halfway can simply be run again.
func Rotate(old, next *Box, sealed string) (string, error) {
	if id, err := SealedKeyID(sealed); err == nil && id == next.id {
		return sealed, nil
	}
	pt, err := old.Open(sealed)
	if err != nil {
		return "", err
	}
	return next.Seal(pt)
}

// LoadKey returns the key from envValue (the value of VERNETZEN_SECRET_KEY)
// if set, otherwise from the file at keyFile. A key is 32 bytes written as
// base64 (standard or URL alphabet, padded or not) or as 64 hex digits.
// Neither given → ErrNoKey.
func LoadKey(envValue, keyFile string) ([]byte, error) {
	if v := strings.TrimSpace(envValue); v != "" {
		k, err := DecodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("secret: VERNETZEN_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	if keyFile == "" {
		return nil, ErrNoKey
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("secret: key file: %w", err)
	}
	k, err := DecodeKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", keyFile, err)
	}
	return k, nil
}

// DecodeKey parses a key written as base64 or hex.
func DecodeKey(s string) ([]byte, error) {
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("key must be %d bytes as base64 or hex", KeySize)
}

// EncodeKey writes a key as the base64 LoadKey reads.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// GenerateKey returns a new random key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // crypto/rand.Read never returns an error in Go ≥ 1.24
	return k
}

// GenerateKeyFile creates a new random key at path, readable by the owner
// only, and returns it. It refuses to overwrite an existing file: losing a
// key makes every stored credential unreadable.
func GenerateKeyFile(path string) ([]byte, error) {
	k := GenerateKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := f.WriteString(EncodeKey(k) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}

// LoadOrGenerateKeyFile loads the key at path, creating it first if it
// does not exist (the demo makes its own key this way).
func LoadOrGenerateKeyFile(path string) ([]byte, error) {
	k, err := LoadKey("", path)
	if errors.Is(err, os.ErrNotExist) {
		k, err = GenerateKeyFile(path)
		if errors.Is(err, os.ErrExist) { // another process won the race
			return LoadKey("", path)
		}
	}
	return k, err
}
