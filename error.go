package hotpath

import (
	"errors"
	"fmt"
)

// Error codes shared by every package. They are stable: HTTP clients, the CLI
// and the Python bridge see them verbatim, and only the http package maps them
// to statuses.
const (
	EINVALID       = "invalid"       // the request or input is malformed
	EUNAUTHORIZED  = "unauthorized"  // no or unknown credentials
	EFORBIDDEN     = "forbidden"     // credentials lack the needed scope
	ENOTFOUND      = "not_found"     // the thing does not exist (for this tenant)
	ECONFLICT      = "conflict"      // the thing exists already or changed under us
	ETOOLARGE      = "too_large"     // input beyond a configured limit
	EUNSUPPORTED   = "unsupported"   // a format or feature hotpath does not handle
	EUNPROCESSABLE = "unprocessable" // well-formed request, but the content cannot be processed (corrupt image)
	EBUSY          = "busy"          // back-pressure: queue full, retry later
	EUNAVAILABLE   = "unavailable"   // a backend is down or shutting down, or a key needed to read a blob cannot be had
	EINTEGRITY     = "integrity"     // stored bytes failed authentication: modified or truncated; never served
	EINTERNAL      = "internal"      // a bug or an unexpected failure; details only in logs
)

// Error is hotpath's coded error. Message is safe to show to a client; Err
// keeps the underlying cause for logs and errors.Is/As.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a coded error with a client-safe formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns a coded error with a client-safe message and a cause kept for logs.
func WrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of the
// first *Error in its chain, or "internal error" so that no internal detail leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
