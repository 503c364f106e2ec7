package web

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vernetzen/vernetzen/internal/publish"
)

func subtleEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets server-sent events through the recorder.
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request (never its headers or body: they carry
// tokens and passwords) and counts it for /metrics by route pattern.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		setSecurityHeaders(w)
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		_, pattern := s.mux.Handler(r)
		s.metrics.observe(r.Method, pattern, rec.status, d)
		// Probes, static files and the built-in simulated network (another
		// "platform", polled every few seconds in the demo) would drown the
		// log; they are still counted in /metrics.
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" ||
			strings.HasPrefix(r.URL.Path, "/static/") || strings.HasPrefix(r.URL.Path, "/sim/") {
			return
		}
		path := r.URL.Path
		if strings.HasPrefix(path, publish.PublicMediaPrefix) {
			path = pattern // a signed media link works for anyone who has it: keep it out of the log
		}
		s.Log.Info("request", "method", r.Method, "path", path, "status", rec.status, "duration_ms", float64(d.Microseconds())/1000)
	})
}

func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
}

// recoverer turns a handler's panic into a logged 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// metrics is a small Prometheus text-format registry: request counts and
// latency histograms by route, and a few runtime gauges. Hand-written to
// keep the binary's dependencies few.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram
	started  time.Time
}

type reqKey struct {
	method, pattern string
	status          int
}

var latencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type histogram struct {
	counts []uint64
	sum    float64
	total  uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}, started: time.Now()}
}

func (m *metrics) observe(method, pattern string, status int, d time.Duration) {
	if pattern == "" {
		pattern = "unmatched"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{method, pattern, status}]++
	h := m.latency[pattern]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.latency[pattern] = h
	}
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			h.counts[i]++
		}
	}
	h.sum += sec
	h.total++
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	m.mu.Lock()
	b.WriteString("# HELP vernetzen_http_requests_total HTTP requests by method, route and status.\n# TYPE vernetzen_http_requests_total counter\n")
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "vernetzen_http_requests_total{method=%q,route=%q,status=\"%d\"} %d\n", k.method, k.pattern, k.status, m.requests[k])
	}
	b.WriteString("# HELP vernetzen_http_request_duration_seconds HTTP request latency by route.\n# TYPE vernetzen_http_request_duration_seconds histogram\n")
	routes := make([]string, 0, len(m.latency))
	for p := range m.latency {
		routes = append(routes, p)
	}
	sort.Strings(routes)
	for _, p := range routes {
		h := m.latency[p]
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "vernetzen_http_request_duration_seconds_bucket{route=%q,le=\"%g\"} %d\n", p, le, h.counts[i])
		}
		fmt.Fprintf(&b, "vernetzen_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", p, h.total)
		fmt.Fprintf(&b, "vernetzen_http_request_duration_seconds_sum{route=%q} %g\n", p, h.sum)
		fmt.Fprintf(&b, "vernetzen_http_request_duration_seconds_count{route=%q} %d\n", p, h.total)
	}
	m.mu.Unlock()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(&b, "# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(&b, "# TYPE go_memstats_heap_alloc_bytes gauge\ngo_memstats_heap_alloc_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintf(&b, "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %d\n", m.started.Unix())
	w.Write([]byte(b.String()))
}
