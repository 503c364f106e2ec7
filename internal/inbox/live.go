package inbox

import (
	"context"
	"errors"
	"time"
)

// Notifier carries new-message events between the nodes that share one
// database (PostgreSQL's LISTEN/NOTIFY): a message ingested on one node
// reaches the inbox pages open on every node.
type Notifier interface {
	// NotifyMessages tells every node, this one included, about stored
	// messages by id.
	NotifyMessages(ctx context.Context, ids []int64) error
	// NotifySettings tells every node that the inbox's settings changed.
	NotifySettings(ctx context.Context) error
	// ListenMessages calls onMessages with the ids of each message
	// notification, and onSettings for each settings one, in order,
	// until ctx ends (nil) or the connection fails (an error); ready runs
	// once it listens.
	ListenMessages(ctx context.Context, ready func(), onMessages func(ids []int64), onSettings func()) error
	// MessageEvents reads the events of stored messages.
	MessageEvents(ctx context.Context, ids []int64) ([]Event, error)
}

// shareRetry bounds the wait before listening again after the
// connection failed.
const shareRetryMax = 30 * time.Second

// ShareEvents makes live updates cross nodes: from now on new messages
// are announced through n, and this node listens to n and fans what it
// hears out to its own subscribers (each stream keeps to its caller's
// units). It returns once the node listens, or with the first attempt's
// error; it keeps listening (reconnecting after failures) until ctx ends
// or the service closes.
func (s *Service) ShareEvents(ctx context.Context, n Notifier) error {
	ctx, cancel := context.WithCancel(ctx)
	s.events.mu.Lock()
	if s.events.closed || s.events.stopShared != nil {
		s.events.mu.Unlock()
		cancel()
		return errors.New("inbox: events are already shared, or the service is closed")
	}
	s.events.stopShared = cancel
	s.events.mu.Unlock()

	first := make(chan error, 1)
	ready := func() {
		s.events.mu.Lock()
		s.events.shared = n
		s.events.mu.Unlock()
		select {
		case first <- nil:
		default:
		}
	}
	go func() {
		wait := time.Second
		for {
			err := n.ListenMessages(ctx, ready, func(ids []int64) { s.heard(ctx, n, ids) }, s.Invalidate)
			if ctx.Err() != nil {
				return
			}
			select {
			case first <- err:
				// The caller hears of the first failure; the loop goes on.
			default:
			}
			s.cfg.Log.Warn("inbox: listening to the other nodes failed; retrying", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, shareRetryMax)
		}
	}()
	select {
	case err := <-first:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// heard fans out the messages of one notification, read back from the
// database, when this node has anyone listening.
func (s *Service) heard(ctx context.Context, n Notifier, ids []int64) {
	s.events.mu.Lock()
	listeners := len(s.events.subs)
	s.events.mu.Unlock()
	if listeners == 0 {
		return
	}
	evs, err := n.MessageEvents(ctx, ids)
	if err != nil {
		s.cfg.Log.Warn("inbox: read notified messages", "messages", len(ids), "err", err)
		return
	}
	s.fanOut(evs)
}

// settingsChanged drops this node's copy of the routing directory (SLAs,
// rules, catalogues) after a change, and makes the other nodes drop
// theirs, so that the change applies everywhere to the next message.
func (s *Service) settingsChanged() {
	s.Invalidate()
	s.events.mu.Lock()
	shared := s.events.shared
	s.events.mu.Unlock()
	if shared == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shared.NotifySettings(ctx); err != nil {
		// The other nodes reload within DirectoryTTL anyway.
		s.cfg.Log.Warn("inbox: notify other nodes of changed settings", "err", err)
	}
}
