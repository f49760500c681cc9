// Package metrics is the server's Prometheus metrics (docs/operations.md),
// served on the operator address (METRICS_ADDR), never on the public port.
// Labels are bounded whatever the number of tenants: routes are gin's
// templates, CRM endpoints their paths with ids masked, and nothing is
// labelled by workspace or connection.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every metric of the process.
var Registry = prometheus.NewRegistry()

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwoty_http_requests_total", Help: "HTTP requests answered, by route template, method and status.",
	}, []string{"route", "method", "status"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qwoty_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route template and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	crmCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwoty_crm_calls_total", Help: "Calls to CRM APIs, by CRM, method, endpoint (ids masked) and status (0: no answer).",
	}, []string{"crm", "method", "endpoint", "status"})
	crmDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qwoty_crm_call_duration_seconds", Help: "Time of a CRM API call, by CRM.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"crm"})
	webhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwoty_webhook_deliveries_total", Help: "Webhook delivery attempts, by outcome: succeeded, retry (failed, tried again), failed (no attempt left).",
	}, []string{"outcome"})
)

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpRequests, httpDuration, crmCalls, crmDuration, webhookDeliveries)
}

// Gin counts and times every request by its route template (gin's
// FullPath; "unmatched" for a 404 that no route took).
func Gin(c *gin.Context) {
	began := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := c.Request.Method
	httpRequests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
	httpDuration.WithLabelValues(route, method).Observe(time.Since(began).Seconds())
}

// CRMCall counts one call to a CRM's API: status 0 when no answer came.
func CRMCall(crm, method, path string, status int, took time.Duration) {
	crmCalls.WithLabelValues(crm, method, Endpoint(path), strconv.Itoa(status)).Inc()
	crmDuration.WithLabelValues(crm).Observe(took.Seconds())
}

// Endpoint is a CRM API path with what varies masked, so that its series
// stay few: the query goes, and each segment that carries a digit (an id,
// a version like v60.0 is kept) becomes ":id".
func Endpoint(path string) string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if isVersion(s) {
			continue
		}
		if strings.ContainsAny(s, "0123456789") {
			segs[i] = ":id"
		}
	}
	return strings.Join(segs, "/")
}

// isVersion reports an API version segment: v2, v60.0.
func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

// WebhookAttempt counts a delivery attempt's outcome.
func WebhookAttempt(outcome string) { webhookDeliveries.WithLabelValues(outcome).Inc() }

// Handler serves the registry in Prometheus' text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Operator is the operator address's handler: GET /metrics, nothing else.
func Operator() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler())
	return mux
}

// DBStats is what the database collector reads (store.DB's pool and
// River's queues), at each scrape.
type DBStats interface {
	PoolStats() (acquired, idle, total, max int32)
	QueueDepths(ctx context.Context) (map[[2]string]float64, error)
	SyncHealthByProvider(ctx context.Context) ([]SyncHealth, error)
}

// dbCollector reads the pool and the queues at each scrape.
type dbCollector struct {
	db                         DBStats
	acquired, idle, total, max *prometheus.Desc
	queue                      *prometheus.Desc
}

// RegisterDB adds the database pool, the job queues and sync's state by
// CRM to the registry (once a process: a second call keeps the first).
func RegisterDB(db DBStats) error {
	err := Registry.Register(newSyncCollector(db.SyncHealthByProvider))
	if err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return err
	}
	err = Registry.Register(&dbCollector{db: db,
		acquired: prometheus.NewDesc("qwoty_db_pool_acquired_connections", "Database connections in use.", nil, nil),
		idle:     prometheus.NewDesc("qwoty_db_pool_idle_connections", "Database connections idle in the pool.", nil, nil),
		total:    prometheus.NewDesc("qwoty_db_pool_total_connections", "Database connections open.", nil, nil),
		max:      prometheus.NewDesc("qwoty_db_pool_max_connections", "The pool's maximum.", nil, nil),
		queue:    prometheus.NewDesc("qwoty_jobs", "Background jobs (River) by queue and state: available, scheduled, retryable, running.", []string{"queue", "state"}, nil),
	})
	if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return nil
	}
	return err
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.acquired
	ch <- c.idle
	ch <- c.total
	ch <- c.max
	ch <- c.queue
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	a, i, t, m := c.db.PoolStats()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(a))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(i))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(t))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(m))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depths, err := c.db.QueueDepths(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.queue, err)
		return
	}
	for k, n := range depths {
		ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, n, k[0], k[1])
	}
}
