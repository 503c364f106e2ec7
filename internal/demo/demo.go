// Package demo holds the demo organisation: the channel map of the
// interview (group-channels.yaml, copied from the project's shared data so
// that the binary carries it) and a few markets and dealers with channels
// of their own, marked as demo additions.
package demo

import (
	"bytes"
	"context"
	_ "embed"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/org"
)

//go:embed group-channels.yaml
var groupChannels []byte

//go:embed demo-additions.yaml
var additions []byte

// GroupChannels returns the interview's channel map as a file.
func GroupChannels() []byte { return groupChannels }

// Load imports the demo organisation; loading it again changes nothing.
func Load(ctx context.Context, svc *org.Service) (org.ImportResult, error) {
	var total org.ImportResult
	for _, f := range []struct {
		name string
		data []byte
	}{{"group-channels.yaml", groupChannels}, {"demo-additions.yaml", additions}} {
		m, err := org.ParseMap(f.name, bytes.NewReader(f.data))
		if err != nil {
			return total, err
		}
		res, err := svc.Import(ctx, access.SystemPrincipal(), f.name, m)
		if err != nil {
			return total, err
		}
		total.UnitsCreated += res.UnitsCreated
		total.UnitsUpdated += res.UnitsUpdated
		total.UnitsUnchanged += res.UnitsUnchanged
		total.ChannelsCreated += res.ChannelsCreated
		total.ChannelsUpdated += res.ChannelsUpdated
		total.ChannelsUnchanged += res.ChannelsUnchanged
	}
	return total, nil
}

//go:embed intent-dev.jsonl
var messageTexts []byte

// MessageTexts returns the labelled development messages (JSON Lines), the
// texts the demo's simulated network writes to the channels.
func MessageTexts() []byte { return messageTexts }
