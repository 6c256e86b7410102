# The two commands the README gives: `make serve` and `make test`.
GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
WASMEXEC  := $(GOROOT)/lib/wasm
ADDR      ?= 127.0.0.1:8080

.PHONY: all build serve test deps vet test-native test-wasm bench fuzz soak clean

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

# fuzz runs every fuzz target for FUZZTIME each (tests/meta checks that
# this list names them all). New findings land in testdata/fuzz/.
FUZZTIME ?= 60s
FUZZ_TARGETS := core/scenario:FuzzParse core/scenario:FuzzSession core/scenario:FuzzSource \
	core/scenario:FuzzExec core/scenario:FuzzTimeline core/scenario:FuzzComplete core/sim:FuzzEvents core/explore:FuzzExplore lessons:FuzzRender cmd/serve:FuzzCleanPath \
	cmd/serve:FuzzServeHTTP
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} (./$${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; \
	done

# soak runs the random-event property test long (SOAK_SEEDS seeds per
# profile, SOAK_STEPS actions each), natively and in WebAssembly, and
# checks that both runs produced the same logs and events.
SOAK_SEEDS ?= 60
SOAK_STEPS ?= 3000
soak:
	@set -e; d=$$(mktemp -d); \
	KLP_PROP_SEEDS=$(SOAK_SEEDS) KLP_PROP_STEPS=$(SOAK_STEPS) KLP_PROP_DIGEST=$$d/native \
		$(GO) test -count=1 -timeout 60m -run '^TestPropertyRandomEvents$$' ./core/sim; \
	PATH="$$PATH:$(WASMEXEC)" GOOS=js GOARCH=wasm KLP_PROP_SEEDS=$(SOAK_SEEDS) KLP_PROP_STEPS=$(SOAK_STEPS) \
		KLP_PROP_DIGEST=$$d/wasm $(GO) test -count=1 -timeout 60m -run '^TestPropertyRandomEvents$$' ./core/sim; \
	if cmp -s $$d/native $$d/wasm; then echo "soak: $$(wc -l < $$d/native) runs, native and wasm agree"; \
	else diff $$d/native $$d/wasm | head; exit 1; fi

clean:
	rm -rf dist
