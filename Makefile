# hotpath: `make run` serves the image API on 127.0.0.1:8080 with everything
# embedded (data under ./data); `make test` runs every test CI runs.
#
# Python: PyPI is not reachable on these machines, so everything that needs a
# Python package (pytest, Pillow, FastAPI) runs on Debian's /usr/bin/python3
# with Debian's python3-* packages (installed by scripts/deps.sh --test).
# `python3` on PATH may be a stdlib-only build and is not used for tests.

GO      ?= go
PYTHON  ?= /usr/bin/python3
BIN     := build/hotpath
ADDR    ?= 127.0.0.1:8080
DATA    ?= ./data
GOTEST  := $(GO) test -count=1 -timeout 20m

.PHONY: all deps build run test test-go test-python python wheel bench bench-go clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/hotpath

# ADDR=, DATA= and any HOTPATH_* variable configure it: HOTPATH_SIGNING_KEYS=… make run turns on signed transforms.
run: build
	@# glibc keeps up to 8 malloc arenas per core holding freed libvips buffers; 2 bounds RSS (docs/api.md)
	MALLOC_ARENA_MAX=2 $(BIN) serve --addr $(ADDR) --data $(DATA)

# The Python bridge's shared library (C ABI over the Go engines).
python: deps
	$(GO) build -buildmode=c-shared -o build/libhotpath.so ./capi

# A wheel carrying libhotpath.so (build/wheel/hotpath-VERSION-py3-none-linux_x86_64.whl):
# `pip install` it offline on a machine without Go (it needs libvips there).
wheel: python
	rm -rf build/wheel
	HOTPATH_LIBRARY=$(CURDIR)/build/libhotpath.so $(PYTHON) -m pip wheel -q --no-deps --no-build-isolation --no-index -w build/wheel ./python

test: export PATH := $(PATH):$(shell $(GO) env GOPATH)/bin
test:
	@scripts/deps.sh --test
	@scripts/services.sh
	$(GO) vet ./...
	$(MAKE) build
	$(GOTEST) ./...
	$(MAKE) test-python

test-python: python
	@if [ -d python/tests ]; then $(PYTHON) -m pytest -q python/tests $(wildcard examples/*/test_*.py); fi

bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...

# Each bench/*/run.sh runs hotpath and its baseline side by side and prints ratios.
bench: build bench-go
	@for s in bench/*/run.sh; do echo "== $$s"; bash "$$s" || exit 1; done
	$(GO) run ./bench/transforms

clean:
	rm -rf build python/hotpath/native python/hotpath/libhotpath.so python/hotpath/libhotpath.h
