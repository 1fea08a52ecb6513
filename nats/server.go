package nats

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hotpath/hotpath"
)

// startServer starts an in-process nats-server with JetStream, its file
// store under c.DataDir/nats, its memory and storage bounded, and its log
// routed to c.Logger instead of stderr.
func startServer(c Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:         "hotpath-embedded",
		JetStream:          true,
		JetStreamMaxMemory: c.MaxMemory,
		JetStreamMaxStore:  c.MaxStore,
		StoreDir:           filepath.Join(c.DataDir, "nats"),
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         1 << 20,
	}
	switch c.Listen {
	case "none":
		opts.DontListen = true
	case "":
		opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	default:
		host, port, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return nil, hotpath.WrapError(hotpath.EINVALID, err, "queue: listen address %q is not host:port", c.Listen)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return nil, hotpath.Errorf(hotpath.EINVALID, "queue: listen port %q is not a port number", port)
		}
		if n == 0 {
			n = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, n
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINVALID, err, "queue: embedded NATS server options")
	}
	ns.SetLoggerV2(serverLog{c.Logger.With("component", "nats-server")}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, hotpath.Errorf(hotpath.EUNAVAILABLE, "queue: embedded NATS server did not start (is %s locked by another process?)", opts.StoreDir)
	}
	return ns, nil
}

// serverLog adapts slog to nats-server's Logger. Notices (the banner, the
// JetStream summary) go to debug so that an embedded server is quiet.
type serverLog struct{ l *slog.Logger }

func (s serverLog) Noticef(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s serverLog) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s serverLog) Fatalf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLog) Errorf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLog) Debugf(format string, v ...any)  {}
func (s serverLog) Tracef(format string, v ...any)  {}
