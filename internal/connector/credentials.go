package connector

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vernetzen/vernetzen/internal/secret"
)

// sealedCredentials is Credentials with the secrets revealed, used only
// between Seal and the Box so the plaintext JSON never leaves this file.
type sealedCredentials struct {
	AccessToken  string            `json:"access_token,omitempty"`
	RefreshToken string            `json:"refresh_token,omitempty"`
	ExpiresAt    time.Time         `json:"expires_at,omitzero"`
	TokenType    string            `json:"token_type,omitempty"`
	Scopes       []string          `json:"scopes,omitempty"`
	Identifier   string            `json:"identifier,omitempty"`
	AppPassword  string            `json:"app_password,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// Seal encrypts the credentials with box for storage. Plain JSON encoding
// of Credentials redacts the secrets, so this is the only way to persist
// them.
func (c Credentials) Seal(box *secret.Box) (string, error) {
	b, err := json.Marshal(sealedCredentials{
		AccessToken: c.AccessToken.Reveal(), RefreshToken: c.RefreshToken.Reveal(),
		ExpiresAt: c.ExpiresAt, TokenType: c.TokenType, Scopes: c.Scopes,
		Identifier: c.Identifier, AppPassword: c.AppPassword.Reveal(), Extra: c.Extra,
	})
	if err != nil {
		return "", err
	}
	return box.Seal(b)
}

// OpenCredentials decrypts what Credentials.Seal produced.
func OpenCredentials(box *secret.Box, sealed string) (Credentials, error) {
	b, err := box.Open(sealed)
	if err != nil {
		return Credentials{}, err
	}
	var s sealedCredentials
	if err := json.Unmarshal(b, &s); err != nil {
		return Credentials{}, fmt.Errorf("connector: sealed credentials: %w", err)
	}
	return Credentials{
		AccessToken: secret.Secret(s.AccessToken), RefreshToken: secret.Secret(s.RefreshToken),
		ExpiresAt: s.ExpiresAt, TokenType: s.TokenType, Scopes: s.Scopes,
		Identifier: s.Identifier, AppPassword: secret.Secret(s.AppPassword), Extra: s.Extra,
	}, nil
}

// NewPKCE returns a fresh S256 PKCE pair (RFC 7636).
func NewPKCE() PKCE {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return PKCE{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}
