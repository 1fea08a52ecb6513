package http

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hotpath/hotpath"
)

func TestErrorStatusAndDetail(t *testing.T) {
	tests := []struct {
		err         error
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{hotpath.Errorf(hotpath.EINVALID, "bad"), http.StatusBadRequest, "invalid", "bad"},
		{hotpath.Errorf(hotpath.EUNAUTHORIZED, "who"), http.StatusUnauthorized, "unauthorized", "who"},
		{hotpath.Errorf(hotpath.EFORBIDDEN, "no"), http.StatusForbidden, "forbidden", "no"},
		{hotpath.Errorf(hotpath.ENOTFOUND, "gone"), http.StatusNotFound, "not_found", "gone"},
		{hotpath.Errorf(hotpath.ECONFLICT, "dup"), http.StatusConflict, "conflict", "dup"},
		{hotpath.Errorf(hotpath.ETOOLARGE, "big"), http.StatusRequestEntityTooLarge, "too_large", "big"},
		{hotpath.Errorf(hotpath.EUNSUPPORTED, "fmt"), http.StatusUnsupportedMediaType, "unsupported", "fmt"},
		{hotpath.Errorf(hotpath.EUNPROCESSABLE, "corrupt"), http.StatusUnprocessableEntity, "unprocessable", "corrupt"},
		{hotpath.Errorf(hotpath.EBUSY, "later"), http.StatusTooManyRequests, "busy", "later"},
		{hotpath.Errorf(hotpath.EUNAVAILABLE, "down"), http.StatusServiceUnavailable, "unavailable", "down"},
		{hotpath.Errorf(hotpath.EINTEGRITY, "blob t/i/original failed authentication"), http.StatusBadGateway, "integrity", "blob t/i/original failed authentication"},
		{hotpath.WrapError(hotpath.EINTERNAL, errors.New("pq: secret detail"), "insert"), http.StatusInternalServerError, "internal", "internal error"},
		{errors.New("open /srv/data/x: permission denied"), http.StatusInternalServerError, "internal", "internal error"},
		{&hotpath.Error{Code: "made_up", Message: "leak?"}, http.StatusInternalServerError, "internal", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode+"/"+tt.err.Error(), func(t *testing.T) {
			d := errorDetail(tt.err)
			if got := statusOf[d.Code]; got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
			if d.Code != tt.wantCode || d.Message != tt.wantMessage {
				t.Errorf("detail = %+v, want code %q message %q", d, tt.wantCode, tt.wantMessage)
			}
		})
	}
}

// TestUnavailableRetryAfter: a backend that is down is a 503 that tells the
// client when to ask again, as back-pressure's 429 does.
func TestUnavailableRetryAfter(t *testing.T) {
	s := &Server{Logger: slog.New(slog.DiscardHandler)}
	for _, tt := range []struct {
		err    error
		status int
		retry  string
	}{
		{hotpath.WrapError(hotpath.EUNAVAILABLE, errors.New("dial tcp: connection refused"), "metadata store unavailable"), http.StatusServiceUnavailable, RetryAfterUnavailableSeconds},
		{hotpath.Errorf(hotpath.EBUSY, "later"), http.StatusTooManyRequests, RetryAfterSeconds},
		{hotpath.Errorf(hotpath.EINVALID, "bad"), http.StatusBadRequest, ""},
	} {
		w := httptest.NewRecorder()
		s.Error(w, httptest.NewRequest("GET", "/v1/images", nil), tt.err)
		if w.Code != tt.status || w.Header().Get("Retry-After") != tt.retry {
			t.Errorf("%v: status %d, Retry-After %q; want %d, %q", tt.err, w.Code, w.Header().Get("Retry-After"), tt.status, tt.retry)
		}
	}
}
