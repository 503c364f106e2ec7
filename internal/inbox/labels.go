package inbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/classify"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Correcting the classifier. An agent who reads a message knows its intent
// better than the classifier: the correction takes effect at once (the
// message's queue follows the intent when it was the old intent's default;
// a message now read as purchase intent gets its author's lead), and it is
// kept as labelled data that can be exported to train the classifier on
// the wording customers really use.

// Correction is a message whose intent an agent corrected, in the
// classifier's labelled-record format (see classify.Record).
type Correction struct {
	MessageID   int64     `json:"-"`
	Text        string    `json:"text"`
	Lang        string    `json:"lang"`
	Intent      string    `json:"intent"`
	Models      []string  `json:"models"`
	CorrectedAt time.Time `json:"-"`
}

// LabelStore is what corrections need from the database.
type LabelStore interface {
	CorrectIntent(ctx context.Context, m Message, intent, queue string, by int64, at time.Time) error
	IntentCorrections(ctx context.Context, scope []string, since time.Time, limit int) ([]Correction, error)
	// IntentCorrectionStamp says how many corrections there are and when
	// the latest was made (the classifier is retrained when it changes).
	IntentCorrectionStamp(ctx context.Context) (int, time.Time, error)
	// RecentIntentCorrections lists the latest corrections, newest first.
	RecentIntentCorrections(ctx context.Context, limit int) ([]Correction, error)
}

// maxTrainingCorrections bounds the corrections the classifier learns
// from (the most recent ones), and with them the time retraining takes.
const maxTrainingCorrections = 10000

// correctionRecords are the corrections as labelled records.
func correctionRecords(list []Correction) []classify.Record {
	out := make([]classify.Record, len(list))
	for i, c := range list {
		out[i] = classify.Record{ID: fmt.Sprintf("msg-%d", c.MessageID), Text: c.Text, Lang: c.Lang, Intent: c.Intent, Models: c.Models}
	}
	return out
}

// CorrectIntent sets message id's intent as the caller reads it.
func (s *Service) CorrectIntent(ctx context.Context, p *access.Principal, id int64, intent string) (Message, error) {
	intent = strings.TrimSpace(intent)
	if !slices.Contains(classify.Intents[:], intent) {
		return Message{}, errs.Field("intent", "must be one of %s", strings.Join(classify.Intents[:], ", "))
	}
	m, err := s.messageFor(ctx, p, id, access.AnswerInbox)
	if err != nil {
		return Message{}, err
	}
	if m.Intent == intent {
		return m, nil
	}
	queue := m.Queue
	if queue == QueueFor(m.Intent) {
		queue = QueueFor(intent)
	}
	if err := s.cfg.Store.CorrectIntent(ctx, m, intent, queue, p.User.ID, s.cfg.Now()); err != nil {
		return Message{}, err
	}
	return s.messageFor(ctx, p, id, access.ReadInbox)
}

// IntentCorrections lists the corrections within the caller's units since
// then, oldest first, at most limit (1 to 10,000).
func (s *Service) IntentCorrections(ctx context.Context, p *access.Principal, since time.Time, limit int) ([]Correction, error) {
	if limit <= 0 || limit > 10000 {
		return nil, errs.Field("limit", "must be between 1 and 10000")
	}
	return s.cfg.Store.IntentCorrections(ctx, p.Scope(access.ReadInbox), since, limit)
}
