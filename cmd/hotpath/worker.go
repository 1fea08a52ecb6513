package main

import (
	"context"
	"flag"
	"sync"
	"time"
)

func init() {
	register(command{Name: "worker", Summary: "run background jobs: async uploads and batches", Run: runWorker})
}

const workerHelp = `Consumes jobs from the queue and makes the variants of asynchronous uploads
and batches. It shares --store, --db, --cache and --queue with the serve
processes and reads the same flags, HOTPATH_* environment and --config file.
The queue must be a nats:// URL: the embedded queue lives inside 'hotpath
serve', which runs its own consumer.

More capacity is more worker processes. --concurrency bounds the jobs one
process runs at once; decodes within them are bounded by --workers.

--addr HOST:PORT serves /healthz, /readyz and /metrics (job queue depth,
decode pool, Go runtime) for probes and Prometheus. A worker listens only
when --addr is given on its command line, because a shared config file's or
HOTPATH_ADDR's address belongs to 'hotpath serve'; port 0 picks a free port
(logged), "off" is the same as not giving it.`

func runWorker(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "worker", "[flags]", workerHelp)
	concurrency := fs.Int("concurrency", 0, "jobs run at once (0: twice --workers, so transfers overlap decodes)")
	cfg, positional, err := loadConfig(env, fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return Usagef("unexpected argument %q", positional[0])
	}
	if scheme, _ := splitBackendURL(cfg.Queue); scheme != "nats" && scheme != "tls" {
		return Usagef("--queue %q: a worker needs a nats:// URL shared with the serve processes", cfg.Queue)
	}
	if *concurrency < 0 {
		return Usagef("--concurrency must be 0 or more")
	}
	m := NewMain(cfg, env)
	m.worker = true
	if err := m.open(ctx); err != nil {
		m.Close()
		return err
	}
	if addr := workerAddr(fs, cfg.Addr); addr != "" {
		if err := m.listen(addr, m.API.OpsHandler()); err != nil {
			m.Close()
			return err
		}
		m.Logger.Info("worker serving /healthz, /readyz and /metrics", "url", m.URL())
	}
	m.Logger.Info("worker consuming jobs", "queue", redactURL(cfg.Queue), "concurrency", m.consumerConcurrency(*concurrency))
	m.startConsumer(*concurrency)
	m.startReconciler()
	<-ctx.Done()
	m.Logger.Info("worker stopping: running jobs are finished or handed back")
	return m.Close()
}

// workerAddr is where a worker serves its health and metrics: --addr when
// given on the command line (not from the shared config or environment,
// whose address is serve's), "" for none.
func workerAddr(fs *flag.FlagSet, addr string) string {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "addr" })
	if !set || addr == "off" {
		return ""
	}
	return addr
}

// consumer is a running job consumer inside a Main: the worker's, or
// serve's own in the embedded shape.
type consumer struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// consumerConcurrency is how many jobs one process runs at once: twice the
// decode workers unless set, and never more than the decode pool admits, so
// that jobs wait for a decode slot instead of being refused.
func (m *Main) consumerConcurrency(set int) int {
	pool := m.Pipeline.Pool
	n := set
	if n == 0 {
		n = 2 * pool.Workers()
	}
	return max(1, min(n, pool.Workers()+max(m.Config.Pipeline.QueueSize, 0)))
}

// startConsumer runs the job handler on the queue's deliveries until
// stopConsumer; concurrency 0 picks the default.
func (m *Main) startConsumer(concurrency int) {
	if m.Jobs == nil || m.consumer != nil {
		return
	}
	n := m.consumerConcurrency(concurrency)
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel}
	c.done.Go(func() {
		for ctx.Err() == nil {
			if err := m.Queue.Consume(ctx, n, m.Jobs.Handle); err != nil {
				m.Logger.Error("job consumer stopped, restarting", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	})
	m.consumer = c
}

// startReconciler runs pipeline.Reconcile now and every
// --reconcile-interval until Close, when the process has a queue.
func (m *Main) startReconciler() {
	if m.Jobs == nil || m.reconciler != nil || m.Config.ReconcileInterval == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &consumer{cancel: cancel}
	r.done.Go(func() {
		m.Jobs.ReconcileEvery(ctx, time.Duration(m.Config.ReconcileInterval), time.Duration(m.Config.ReconcileGrace))
	})
	m.reconciler = r
}

// stopConsumer stops the reconciler and taking jobs, and waits for the
// running ones: they finish or, interrupted, go back to the queue for
// another worker.
func (m *Main) stopConsumer() {
	if m.reconciler != nil {
		m.reconciler.cancel()
		m.reconciler.done.Wait()
		m.reconciler = nil
	}
	if m.consumer == nil {
		return
	}
	m.consumer.cancel()
	m.consumer.done.Wait()
	m.consumer = nil
}
