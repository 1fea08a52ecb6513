package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotpath/hotpath/pipeline"
)

// metrics are the Prometheus series of one Server, in its own registry so
// that several servers can live in one process (tests).
type metrics struct {
	registry        *prometheus.Registry
	requestDuration *prometheus.HistogramVec
	imagesProcessed *prometheus.CounterVec
	bytesProcessed  prometheus.Counter
}

func newMetrics(pool *pipeline.Pool, vipsMemory, jobQueueDepth func() float64) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotpath_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route, method and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "status"}),
		imagesProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_images_processed_total",
			Help: "Uploaded images, by result (stored, or the error code).",
		}, []string{"result"}),
		bytesProcessed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotpath_image_bytes_processed_total",
			Help: "Bytes of uploaded originals stored.",
		}),
	}
	reg.MustRegister(m.requestDuration, m.imagesProcessed, m.bytesProcessed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotpath_queue_depth",
			Help: "Image jobs waiting for a worker.",
		}, func() float64 { return float64(pool.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotpath_workers_busy",
			Help: "Image jobs running now.",
		}, func() float64 { return float64(pool.Running()) }),
	)
	if vipsMemory != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotpath_vips_memory_bytes",
			Help: "Memory libvips holds now.",
		}, vipsMemory))
	}
	if jobQueueDepth != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotpath_job_queue_depth",
			Help: "Background jobs (async uploads, batches) waiting in the job queue or running.",
		}, jobQueueDepth))
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	m.requestDuration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}
