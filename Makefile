# paperlab pipeline. `make figures` runs every notebook headless and writes
# figures/; `make test` runs the test suite. Tools are installed into bin/
# at the versions pinned here and in go.mod.

SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
export PATH := $(BIN):$(shell $(GO) env GOROOT 2>/dev/null)/bin:$(PATH)

GOIMPORTS_VERSION := v0.52.0
# OpenBLAS (cgo) when installed, else gonum's pure-Go BLAS; kernel/blas.sh
# installs Debian's libopenblas-dev when run as root. Notebooks and scripts
# inherit the choice through GOFLAGS.
BLAS := $(shell sh kernel/blas.sh)
ifeq ($(BLAS),openblas)
export GOFLAGS := $(strip $(GOFLAGS) -tags=openblas)
endif
# OpenBLAS starts its worker threads at load time; paperlab runs one product
# per goroutine and never uses them, and idle they still poll (lib/backend).
OPENBLAS_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS
# Notebooks to execute: `make figures NOTEBOOKS="notebooks/pitot/interference.ipynb"`.
NOTEBOOKS ?= $(sort $(wildcard notebooks/*/*.ipynb))
# Per-cell limit for headless execution.
CELL_TIMEOUT ?= 30m

GO_SOURCES := $(shell find lib kernel -name '*.go' -not -name '*_test.go') go.mod go.sum

.PHONY: all figures test bench kernel lab tools generate clean help

all: figures

help:
	@echo "make figures   execute every notebook headless (NOTEBOOKS=... for a subset) and write figures/"
	@echo "make test      run the tests"
	@echo "make bench     measure the training engine; writes BENCHMARKS.md"
	@echo "make kernel    install the GoNB kernel for your Jupyter"
	@echo "make lab       start Jupyter on notebooks/"
	@echo "make generate  regenerate generated code (yaegi symbols)"

tools: $(BIN)/gonb $(BIN)/goimports $(BIN)/yaegi $(BIN)/nbrun

$(BIN)/gonb: go.mod go.sum
	GOBIN=$(BIN) $(GO) install github.com/janpfeifer/gonb
	@touch $@

$(BIN)/goimports:
	GOBIN=$(BIN) $(GO) install golang.org/x/tools/cmd/goimports@$(GOIMPORTS_VERSION)

$(BIN)/yaegi: $(GO_SOURCES)
	$(GO) build -o $@ ./kernel/cmd/yaegi

$(BIN)/nbrun: $(GO_SOURCES)
	$(GO) build -o $@ ./kernel/cmd/nbrun

figures: tools
	@if [ -n "$$OPENBLAS_CORETYPE" ]; then echo "note: OPENBLAS_CORETYPE=$$OPENBLAS_CORETYPE is set in your environment: OpenBLAS uses those kernels, not the ones it picks for this CPU (unset it for full speed)"; fi
	@# Warm the build cache so the first notebook cell does not pay for it alone.
	$(GO) build ./lib/...
	$(BIN)/nbrun -timeout $(CELL_TIMEOUT) $(NOTEBOOKS)
	@echo "figures written under figures/"

test: tools
	@echo "BLAS: $(or $(BLAS),gonum pure Go)"
	$(GO) vet ./...
	PAPERLAB_REQUIRE_KERNEL=1 $(GO) test -short -timeout 60m ./...
ifeq ($(BLAS),openblas)
	@# The numerical packages again on the pure-Go BLAS, the fallback build.
	GOFLAGS= $(GO) test -short -count=1 ./lib/nn/... ./lib/pitot/... ./lib/train/...
endif

bench:
	@echo "BLAS: $(or $(BLAS),gonum pure Go)"
	$(GO) run scripts/bench.go

generate:
	$(GO) generate ./...

# Registers the repo's GoNB kernel (kernel name "gonb") with the user's
# Jupyter, Notebook or JupyterLab, with this checkout's bin/ and Go on its PATH.
kernel: $(BIN)/gonb $(BIN)/goimports
	@dir="$${JUPYTER_DATA_DIR:-$$(jupyter --data-dir 2>/dev/null || echo $$HOME/.local/share/jupyter)}/kernels/gonb"; \
	mkdir -p "$$dir" && \
	printf '{"argv": ["%s", "--kernel", "{connection_file}", "--logtostderr", "--raw_error"],\n "display_name": "Go (gonb, paperlab)", "language": "go", "interrupt_mode": "message",\n "env": {"PATH": "%s", "GOFLAGS": "%s", "OPENBLAS_NUM_THREADS": "%s"}}\n' \
		"$(BIN)/gonb" "$(PATH)" "$(GOFLAGS)" "$(OPENBLAS_NUM_THREADS)" > "$$dir/kernel.json" && \
	cp kernel/jupyter/kernels/gonb/logo-svg.svg "$$dir/" 2>/dev/null; \
	echo "GoNB kernel installed in $$dir"

lab:
	@LAB_FIND=1 sh kernel/lab.sh >/dev/null && $(MAKE) --no-print-directory kernel && sh kernel/lab.sh

clean:
	rm -rf $(BIN)
