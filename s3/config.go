package s3

import (
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/hotpath/hotpath"
)

// Defaults of Config, chosen for S3-compatible servers on a local network as
// much as for AWS.
const (
	// DefaultPartSize is the multipart part size. It bounds the memory one
	// upload of unknown size holds (one part buffer) and keeps AWS's 10000-part
	// limit at 160 GB per object.
	DefaultPartSize = 16 << 20
	// DefaultMaxRetries is how many times minio-go tries a request that failed
	// with a 5xx, a throttle or a network error, backing off between tries.
	DefaultMaxRetries = 5
	// DefaultResponseTimeout bounds the wait for a response header once a
	// request is sent, so that a hung server turns into a retried timeout.
	DefaultResponseTimeout = time.Minute
	// defaultEndpoint is AWS S3 when no endpoint is given.
	defaultEndpoint = "s3.amazonaws.com"
)

// Config says where a BlobStore keeps its objects and how it reaches them.
type Config struct {
	Bucket   string // bucket name
	Prefix   string // key prefix inside the bucket, "" or ending in "/"
	Endpoint string // host[:port] of the S3 API
	Secure   bool   // HTTPS
	Region   string // signing region; "" lets minio-go discover it
	// PathStyle forces path-style requests (http://host/bucket/key), which
	// most self-hosted servers need when they are addressed by a DNS name.
	PathStyle bool

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // optional, for temporary credentials

	// CreateBucket makes Open create the bucket when it does not exist.
	CreateBucket bool

	PartSize        uint64        // multipart part size in bytes
	MaxRetries      int           // attempts per request, minio-go backs off between them
	ResponseTimeout time.Duration // wait for response headers
}

// withDefaults returns c with zero fields set to their defaults: AWS's
// endpoint, DefaultPartSize, DefaultMaxRetries and DefaultResponseTimeout.
func (c Config) withDefaults() Config {
	if c.Endpoint == "" {
		c.Endpoint = defaultEndpoint
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.ResponseTimeout == 0 {
		c.ResponseTimeout = DefaultResponseTimeout
	}
	return c
}

// Validate reports a configuration that cannot work, with its defaults
// filled in, as EINVALID.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Bucket == "":
		return hotpath.Errorf(hotpath.EINVALID, "s3: bucket is required (s3://BUCKET/prefix)")
	case c.Endpoint == "":
		return hotpath.Errorf(hotpath.EINVALID, "s3: endpoint is required")
	case c.AccessKeyID == "" || c.SecretAccessKey == "":
		return hotpath.Errorf(hotpath.EINVALID, "s3: credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE variants)")
	case c.PartSize < 5<<20:
		return hotpath.Errorf(hotpath.EINVALID, "s3: part size %d below the S3 minimum of 5 MiB", c.PartSize)
	case c.MaxRetries < 1:
		return hotpath.Errorf(hotpath.EINVALID, "s3: retries must be at least 1")
	case c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/"):
		return hotpath.Errorf(hotpath.EINVALID, "s3: prefix %q must end in /", c.Prefix)
	}
	return nil
}

// ParseURL reads a store URL,
//
//	s3://bucket/prefix?endpoint=127.0.0.1:7070&secure=false&region=us-east-1
//
// with the optional parameters create=true (create the bucket when missing),
// path_style=true, part_size=16MiB (bytes, or with a unit as go-humanize reads it),
// retries=5 and timeout=1m. Credentials come from getenv: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, each of which may instead name
// a file holding the secret through the same name with _FILE appended.
func ParseURL(rawURL string, getenv func(string) string) (Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" {
		return Config{}, hotpath.Errorf(hotpath.EINVALID, "s3: store URL must look like s3://bucket/prefix?endpoint=host:port")
	}
	cfg := Config{
		Bucket:          u.Host,
		Prefix:          strings.Trim(u.Path, "/"),
		Endpoint:        defaultEndpoint,
		Secure:          true,
		PartSize:        DefaultPartSize,
		MaxRetries:      DefaultMaxRetries,
		ResponseTimeout: DefaultResponseTimeout,
	}
	if cfg.Prefix != "" {
		cfg.Prefix += "/"
	}
	q := u.Query()
	for name := range q {
		v := q.Get(name)
		var perr error
		switch name {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "secure":
			cfg.Secure, perr = strconv.ParseBool(v)
		case "create":
			cfg.CreateBucket, perr = strconv.ParseBool(v)
		case "path_style":
			cfg.PathStyle, perr = strconv.ParseBool(v)
		case "part_size":
			cfg.PartSize, perr = humanize.ParseBytes(v)
		case "retries":
			cfg.MaxRetries, perr = strconv.Atoi(v)
		case "timeout":
			cfg.ResponseTimeout, perr = time.ParseDuration(v)
		default:
			return Config{}, hotpath.Errorf(hotpath.EINVALID, "s3: unknown store URL parameter %q", name)
		}
		if perr != nil {
			return Config{}, hotpath.Errorf(hotpath.EINVALID, "s3: bad value %q for store URL parameter %q", v, name)
		}
	}
	for _, secret := range []struct {
		name string
		dst  *string
	}{
		{"AWS_ACCESS_KEY_ID", &cfg.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", &cfg.SecretAccessKey},
		{"AWS_SESSION_TOKEN", &cfg.SessionToken},
	} {
		if *secret.dst, err = envOrFile(getenv, secret.name); err != nil {
			return Config{}, err
		}
	}
	return cfg, cfg.Validate()
}

// envOrFile returns the variable name, or the trimmed content of the file
// named by name_FILE when name itself is empty.
func envOrFile(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	path := getenv(name + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", hotpath.WrapError(hotpath.EINVALID, err, "s3: cannot read %s_FILE", name)
	}
	return strings.TrimSpace(string(b)), nil
}
