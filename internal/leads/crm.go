package leads

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// The CRM webhook: every change of a lead (new, more interest, a state) is
// POSTed to the CRM URL of the lead's unit (the nearest unit up the tree
// that has one, else the global one) as JSON, signed with HMAC-SHA256 and
// carrying an idempotency key, until the CRM answers 2xx. The leads table
// is the outbox (exported_at < updated_at means pending), and one job on
// the River queue sweeps it, so a crash or an unreachable CRM loses
// nothing. Changes made while no CRM URL applies are not sent.

// Settings keys: the global CRM webhook, and one per unit (key suffix).
const (
	SettingCRMURL    = "crm.webhook_url"
	SettingCRMSecret = "crm.webhook_secret"
)

// ExportStore is what the CRM export needs from the database.
type ExportStore interface {
	PendingLeadExports(ctx context.Context, limit int) ([]Lead, []string, error)
	MarkLeadExported(ctx context.Context, id int64, version time.Time) error
	UnitKeysOnPath(ctx context.Context, path string) ([]string, error)
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// Queue is the job queue the export runs on.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// CRMExportArgs is the one job that sweeps the outbox; it snoozes between
// sweeps, so the database holds the schedule.
type CRMExportArgs struct{}

// Kind names the job.
func (CRMExportArgs) Kind() string { return "crm_export" }

var exportUnique = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

// UseQueue gives the service its job queue.
func (s *Service) UseQueue(q Queue) { s.queue = q }

// RegisterWorkers adds the CRM export worker to the queue's workers.
func (s *Service) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &exportWorker{s: s})
}

// StartExport makes sure the sweep job exists (call at start).
func (s *Service) StartExport(ctx context.Context) error {
	if s.queue == nil {
		return nil
	}
	_, err := s.queue.Insert(ctx, CRMExportArgs{}, &river.InsertOpts{UniqueOpts: exportUnique, MaxAttempts: 1000})
	return err
}

type exportWorker struct {
	river.WorkerDefaults[CRMExportArgs]
	s *Service
}

func (w *exportWorker) Timeout(*river.Job[CRMExportArgs]) time.Duration { return 5 * time.Minute }

func (w *exportWorker) Work(ctx context.Context, job *river.Job[CRMExportArgs]) error {
	next, err := w.s.ExportOnce(ctx)
	if err != nil {
		w.s.cfg.Log.Warn("crm export", "err", err)
	}
	return river.JobSnooze(next)
}

// CRMSettings is a CRM webhook's configuration as the API shows it: never
// the secret.
type CRMSettings struct {
	Unit      string `json:"unit,omitempty"` // "" is the global setting
	URL       string `json:"url"`
	HasSecret bool   `json:"has_secret"`
}

// CRMInput sets a CRM webhook; an empty URL removes it.
type CRMInput struct {
	Unit   string `json:"unit"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func crmKeys(unit string) (string, string) {
	if unit == "" {
		return SettingCRMURL, SettingCRMSecret
	}
	return SettingCRMURL + ":" + unit, SettingCRMSecret + ":" + unit
}

// SetCRM sets the global CRM webhook (group admins) or a unit's (admins of
// the unit).
func (s *Service) SetCRM(ctx context.Context, p *access.Principal, in CRMInput) (CRMSettings, error) {
	st := s.cfg.Export
	if st == nil {
		return CRMSettings{}, errs.E(errs.Unavailable, "the CRM export is not set up on this hub")
	}
	if err := s.mayConfigureCRM(ctx, p, in.Unit); err != nil {
		return CRMSettings{}, err
	}
	in.URL = strings.TrimSpace(in.URL)
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return CRMSettings{}, errs.Field("url", "must be an http(s) URL")
		}
		if len(in.Secret) < 16 {
			return CRMSettings{}, errs.Field("secret", "must be at least 16 characters: it signs every delivery")
		}
	}
	// The secret is sealed at rest; without a key the hub refuses it, as
	// it refuses platform credentials. No URL clears both.
	sealed := ""
	if in.URL != "" {
		if s.cfg.Box == nil {
			return CRMSettings{}, errs.E(errs.Unavailable, "this hub has no secret key, so it can't store the CRM secret: set VERNETZEN_SECRET_KEY or --secret-key-file")
		}
		v, err := s.cfg.Box.Seal([]byte(in.Secret))
		if err != nil {
			return CRMSettings{}, err
		}
		sealed = v
	}
	ku, ks := crmKeys(in.Unit)
	if err := st.SetSetting(ctx, ks, sealed); err != nil {
		return CRMSettings{}, err
	}
	if err := st.SetSetting(ctx, ku, in.URL); err != nil {
		return CRMSettings{}, err
	}
	return CRMSettings{Unit: in.Unit, URL: in.URL, HasSecret: sealed != ""}, nil
}

func (s *Service) mayConfigureCRM(ctx context.Context, p *access.Principal, unit string) error {
	if unit == "" {
		if p == nil || (!p.System && len(p.Scope(access.ManageAccess)) == 0) {
			return errs.E(errs.Forbidden, "only admins set the CRM webhook")
		}
		for _, path := range p.Scope(access.ManageAccess) {
			if strings.Count(path, "/") == 2 { // a root unit
				return nil
			}
		}
		if p.System {
			return nil
		}
		return errs.E(errs.Forbidden, "only group admins set the global CRM webhook; set one for your unit instead")
	}
	path, err := s.cfg.Store.UnitPathByKey(ctx, unit)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(access.ReadDirectory, path)) {
		return errs.Field("unit", "no such unit: %q", unit)
	}
	if err != nil {
		return err
	}
	if !p.Can(access.ManageAccess, path) {
		return errs.E(errs.Forbidden, "only admins of %s set its CRM webhook", unit)
	}
	return nil
}

// crmTarget is the URL and secret that apply to a unit path.
func (s *Service) crmTarget(ctx context.Context, path string, cache map[string][2]string) (string, string, error) {
	if t, ok := cache[path]; ok {
		return t[0], t[1], nil
	}
	keys, err := s.cfg.Export.UnitKeysOnPath(ctx, path)
	if err != nil {
		return "", "", err
	}
	for _, unit := range append(keys, "") {
		ku, ks := crmKeys(unit)
		u, err := s.cfg.Export.Setting(ctx, ku)
		if err != nil {
			return "", "", err
		}
		if u == "" {
			continue
		}
		sec, err := s.cfg.Export.Setting(ctx, ks)
		if err != nil {
			return "", "", err
		}
		if s.cfg.Box != nil && sec != "" {
			b, err := s.cfg.Box.Open(sec)
			if err != nil {
				return "", "", fmt.Errorf("leads: CRM secret unreadable: %w", err)
			}
			sec = string(b)
		}
		cache[path] = [2]string{u, sec}
		return u, sec, nil
	}
	cache[path] = [2]string{}
	return "", "", nil
}

// Delivery is the body of one CRM webhook call.
type Delivery struct {
	Event          string `json:"event"` // lead.changed
	IdempotencyKey string `json:"idempotency_key"`
	Lead           Lead   `json:"lead"`
}

// Sign computes the signature header's value for a body: "t=<unix>,
// v1=<hex HMAC-SHA256 of "<unix>.<body>">".
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// ExportOnce delivers pending lead changes and says when to sweep next.
// A CRM that fails keeps its leads pending; the sweep tries again later.
func (s *Service) ExportOnce(ctx context.Context) (time.Duration, error) {
	if s.cfg.Export == nil {
		return time.Hour, nil
	}
	const batch = 100
	list, paths, err := s.cfg.Export.PendingLeadExports(ctx, batch)
	if err != nil {
		return time.Minute, err
	}
	targets := map[string][2]string{}
	failed := map[string]bool{}
	var firstErr error
	for i, l := range list {
		u, sec, err := s.crmTarget(ctx, paths[i], targets)
		if err != nil {
			return time.Minute, err
		}
		if u == "" {
			// No CRM for this unit: nothing to deliver.
			if err := s.cfg.Export.MarkLeadExported(ctx, l.ID, l.UpdatedAt); err != nil {
				return time.Minute, err
			}
			continue
		}
		if failed[u] {
			continue
		}
		if err := s.deliver(ctx, u, sec, l); err != nil {
			failed[u] = true
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := s.cfg.Export.MarkLeadExported(ctx, l.ID, l.UpdatedAt); err != nil {
			return time.Minute, err
		}
	}
	switch {
	case firstErr != nil:
		return 30 * time.Second, firstErr
	case len(list) == batch:
		return time.Second, nil
	default:
		return s.cfg.ExportInterval, nil
	}
}

func (s *Service) deliver(ctx context.Context, target, secret string, l Lead) error {
	l.Score = Score(l, s.cfg.Now())
	key := fmt.Sprintf("lead-%d-%d", l.ID, l.UpdatedAt.UnixMilli())
	body, err := json.Marshal(Delivery{Event: "lead.changed", IdempotencyKey: key, Lead: l})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("X-Vernetzen-Signature", Sign(secret, s.cfg.Now().Unix(), body))
	req.Header.Set("User-Agent", "vernetzen-crm-export")
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("leads: CRM delivery of lead %d: %w", l.ID, secret2err(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("leads: CRM delivery of lead %d: answered %d", l.ID, resp.StatusCode)
	}
	return nil
}

// secret2err keeps URLs (which may carry credentials) out of error logs.
func secret2err(err error) error {
	if e, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", e.Op, e.Err)
	}
	return err
}

// SecretSettings is what key rotation needs: the stored settings whose
// key starts with a prefix.
type SecretSettings interface {
	SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// RotateSecrets re-seals every stored CRM secret from the old key to the
// new one; it returns how many it re-sealed.
func RotateSecrets(ctx context.Context, st SecretSettings, old, next *secret.Box) (int, error) {
	m, err := st.SettingsWithPrefix(ctx, SettingCRMSecret)
	if err != nil {
		return 0, err
	}
	n := 0
	for k, v := range m {
		if v == "" {
			continue
		}
		sealed, err := secret.Rotate(old, next, v)
		if err != nil {
			return n, fmt.Errorf("leads: rotate %s: %w", k, err)
		}
		if sealed != v {
			if err := st.SetSetting(ctx, k, sealed); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
