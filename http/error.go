package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hotpath/hotpath"
)

// RetryAfterSeconds is what a 429 asks the client to wait before retrying.
const RetryAfterSeconds = "1"

// RetryAfterUnavailableSeconds is what a 503 asks the client to wait: a
// backend is down or the server is stopping, and asking again soon (on this
// server or another behind the same balancer) is the client's remedy.
const RetryAfterUnavailableSeconds = "2"

// statusOf maps hotpath's error codes to HTTP statuses. This is the only
// place that knows both.
var statusOf = map[string]int{
	hotpath.EINVALID:       http.StatusBadRequest,
	hotpath.EUNAUTHORIZED:  http.StatusUnauthorized,
	hotpath.EFORBIDDEN:     http.StatusForbidden,
	hotpath.ENOTFOUND:      http.StatusNotFound,
	hotpath.ECONFLICT:      http.StatusConflict,
	hotpath.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	hotpath.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	hotpath.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	hotpath.EBUSY:          http.StatusTooManyRequests,
	hotpath.EUNAVAILABLE:   http.StatusServiceUnavailable,
	// A stored blob failed authentication: the store, hotpath's upstream,
	// gave back bytes it was not given. Nothing of the blob is served.
	hotpath.EINTEGRITY: http.StatusBadGateway,
	hotpath.EINTERNAL:  http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for err's code.
func ErrorStatus(err error) int {
	if st, ok := statusOf[hotpath.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every error response:
// {"error":{"code":"too_large","message":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a client-safe code and message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorDetail returns err as a client sees it: internal details replaced by
// "internal error".
func errorDetail(err error) ErrorDetail {
	code := hotpath.ErrorCode(err)
	if _, ok := statusOf[code]; !ok {
		return ErrorDetail{Code: hotpath.EINTERNAL, Message: "internal error"}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if code == hotpath.EINTERNAL {
			code = hotpath.EUNAVAILABLE
			return ErrorDetail{Code: code, Message: "the request was cancelled"}
		}
	}
	return ErrorDetail{Code: code, Message: hotpath.ErrorMessage(err)}
}

// Error logs err when it is the server's fault and writes it as a JSON error
// response with the fitting status.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	d := errorDetail(err)
	st := statusOf[d.Code]
	s.logError(r, err, st)
	switch st {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", RetryAfterSeconds)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", RetryAfterUnavailableSeconds)
	}
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hotpath"`)
	}
	writeJSON(w, st, ErrorBody{Error: d})
}

// logError records a server-side failure with its full detail; client
// errors are logged at debug level only.
func (s *Server) logError(r *http.Request, err error, status int) {
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.Logger.Log(r.Context(), level, "request error", "method", r.Method, "path", r.URL.Path, "status", status, "err", err.Error())
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to tell it
}
