package store

import (
	"context"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/org"
)

// The store is the database behind both services.
var (
	_ org.Store    = (*Store)(nil)
	_ access.Store = (*Store)(nil)
)

// OrgTx runs fn in one transaction, for org.NewService.
func (s *Store) OrgTx(ctx context.Context, fn func(org.Store) error) error {
	return s.InTx(ctx, func(tx *Store) error { return fn(tx) })
}
