package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

func TestWhoAmI(t *testing.T) {
	m, admin := consoleServer(t)
	reader := newKey(t, m, "acme", hotpath.ScopeRead)
	for _, tc := range []struct {
		key, tenant, scope string
		canSign            bool
	}{{admin, DefaultTenantID, "admin", true}, {reader, "acme", "read", false}} {
		var got struct {
			Key struct {
				TenantID string `json:"tenant_id"`
				Scope    string
				Prefix   string
				Hash     any
			}
			Tenant  struct{ ID string }
			CanSign bool `json:"can_sign"`
		}
		res := request(t, "GET", m.URL()+"/v1/whoami", tc.key, nil, nil)
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &got)
		if got.Key.TenantID != tc.tenant || got.Tenant.ID != tc.tenant || got.Key.Scope != tc.scope || got.CanSign != tc.canSign ||
			!strings.HasPrefix(tc.key, got.Key.Prefix) || got.Key.Hash != nil || strings.Contains(string(res.body), tc.key) {
			t.Errorf("whoami of a %s key of %s: %s", tc.scope, tc.tenant, res.body)
		}
	}
	request(t, "GET", m.URL()+"/v1/whoami", "", nil, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
}

func TestSignEndpoint(t *testing.T) {
	m, admin := consoleServer(t)
	res := request(t, "POST", m.URL()+"/v1/images", admin, bytes.NewReader(imagetest.Image(t, hotpath.FormatPNG, 400, 300)), nil)
	res.wantStatus(t, http.StatusCreated)
	var img struct{ ID string }
	res.decode(t, &img)
	sign := func(key, body string) response {
		return request(t, "POST", m.URL()+"/v1/sign", key, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	}

	res = sign(admin, `{"image_id":"`+img.ID+`","options":"format:webp,width:120"}`)
	res.wantStatus(t, http.StatusOK)
	var signed struct{ Path, Options string }
	res.decode(t, &signed)
	if signed.Options != "w:120,f:webp" || !strings.HasPrefix(signed.Path, "/t/") || !strings.HasSuffix(signed.Path, "/w:120,f:webp/"+img.ID) {
		t.Fatalf("signed %+v", signed)
	}
	out := request(t, "GET", m.URL()+signed.Path, "", nil, nil)
	out.wantStatus(t, http.StatusOK)
	if w, h, f := imageSize(t, out.body); w != 120 || h != 90 || f != hotpath.FormatWebP {
		t.Errorf("the signed path serves %dx%d %s, want 120x90 webp", w, h, f)
	}

	other := newKey(t, m, "acme", hotpath.ScopeWrite)
	reader := newKey(t, m, DefaultTenantID, hotpath.ScopeRead)
	sign(other, `{"image_id":"`+img.ID+`","options":"w:10"}`).wantError(t, http.StatusNotFound, "not_found")
	sign(reader, `{"image_id":"`+img.ID+`","options":"w:10"}`).wantError(t, http.StatusForbidden, "forbidden")
	sign(admin, `{"image_id":"`+img.ID+`","options":"w:ten"}`).wantError(t, http.StatusBadRequest, "invalid")
	sign(admin, `{"image_id":"`+img.ID+`","options":"w:9000"}`).wantError(t, http.StatusBadRequest, "invalid")
	sign(admin, `{"image_id":"../x"}`).wantError(t, http.StatusBadRequest, "invalid")
	sign(admin, `not json`).wantError(t, http.StatusBadRequest, "invalid")
	sign("", `{}`).wantError(t, http.StatusUnauthorized, "unauthorized")

	// A server without a signing key signs nothing.
	plain, key := newTestServer(t)
	request(t, "POST", plain.URL()+"/v1/sign", key, strings.NewReader(`{"image_id":"`+img.ID+`"}`), nil).wantError(t, http.StatusServiceUnavailable, "unavailable")
}
