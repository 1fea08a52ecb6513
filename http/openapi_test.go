package http_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	hphttp "github.com/hotpath/hotpath/http"
	"github.com/hotpath/hotpath/pipeline"
)

// openAPIDoc is the part of the OpenAPI document the route test reads.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// TestOpenAPICoversRoutes checks that every route is documented and that
// every documented operation is a route, so the document cannot drift.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(hphttp.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version = %q, want 3.x", doc.OpenAPI)
	}
	srv, err := hphttp.New(hphttp.DefaultConfig(), &pipeline.Service{Pool: pipeline.NewPool(1, 0)}, hphttp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, rt := range srv.Routes() {
		op := strings.ToLower(rt.Method) + " " + rt.Pattern
		routes[op] = true
		if _, ok := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", rt.Method, rt.Pattern)
		}
		// ServeMux answers HEAD for every GET pattern: the document says so.
		if rt.Method == "GET" {
			routes["head "+rt.Pattern] = true
			if _, ok := doc.Paths[rt.Pattern]["head"]; !ok {
				t.Errorf("route HEAD %s (served with its GET) is not in openapi.json", rt.Pattern)
			}
		}
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			documented = append(documented, method+" "+path)
			if !routes[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is no route", strings.ToUpper(method), path)
			}
		}
	}
	if len(documented) != len(routes) {
		slices.Sort(documented)
		t.Errorf("openapi.json has %d operations, the server %d routes: %v", len(documented), len(routes), documented)
	}
}
