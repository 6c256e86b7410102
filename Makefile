# The two commands the README gives: `make serve` and `make test`.
GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
WASMEXEC  := $(GOROOT)/lib/wasm
ADDR      ?= 127.0.0.1:8080

.PHONY: all build serve test deps vet test-native test-wasm bench fuzz clean

all: build

# build renders the site into dist/: the wasm, wasm_exec.js from this
# toolchain, minified web assets and the lessons.
build:
	$(GO) run ./cmd/build -out dist

serve: build
	$(GO) run ./cmd/serve -root dist -addr $(ADDR)

deps:
	./scripts/deps.sh

vet:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./core/... ./wasm/...

test-native:
	KLP_REQUIRE_BROWSER=1 $(GO) test -timeout 900s ./...

# The core (and everything that runs in the browser) under WebAssembly in
# Node, so the same scenario gives the same log natively and in wasm.
test-wasm:
	PATH="$$PATH:$(WASMEXEC)" GOOS=js GOARCH=wasm $(GO) test -timeout 600s ./core/...
	node --test wasm/ tests/node/

test: deps vet test-native test-wasm

bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./core/sim

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./core/scenario
	$(GO) test -run '^$$' -fuzz FuzzEvents -fuzztime 60s ./core/sim

clean:
	rm -rf dist
