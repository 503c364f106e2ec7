package connection

import (
	"context"
	"fmt"
	"strconv"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/secret"
)

var systemPrincipal = access.SystemPrincipal()

// RotateKey re-seals every stored secret (channel credentials and
// platform app secrets) from the old key to the new one, in one
// transaction: after it, the old key can be thrown away. It returns how
// many values it re-sealed.
func (s *Service) RotateKey(ctx context.Context, old, next *secret.Box) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx Store) error {
		conns, err := tx.Connections(ctx)
		if err != nil {
			return err
		}
		for _, c := range conns {
			sealed, err := secret.Rotate(old, next, c.Sealed)
			if err != nil {
				return fmt.Errorf("connection: rotate credentials of channel %d: %w", c.ChannelID, err)
			}
			if sealed != c.Sealed {
				if err := tx.UpdateConnectionCredentials(ctx, c.ChannelID, sealed); err != nil {
					return err
				}
				n++
			}
		}
		apps, err := tx.PlatformApps(ctx)
		if err != nil {
			return err
		}
		for _, a := range apps {
			if a.Sealed == "" {
				continue
			}
			sealed, err := secret.Rotate(old, next, a.Sealed)
			if err != nil {
				return fmt.Errorf("connection: rotate app secrets of %s: %w", a.Platform, err)
			}
			if sealed != a.Sealed {
				a.Sealed = sealed
				if err := tx.SavePlatformApp(ctx, a); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
