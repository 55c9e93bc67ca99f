# invitectl: the two commands an administrator needs are `make demo` and
# `make test`. Nothing but Go and a POSIX shell is assumed (a C compiler only
# adds the race detector); modules come from the Go module proxy.

GO      ?= go
BIN     := bin/invitectl
PKGS    := ./...

# The race detector needs cgo, and cgo a C compiler: use it when both are
# there. CI insists on it with `make test RACE=-race`.
RACE    ?= $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC | cut -d' ' -f1)" >/dev/null 2>&1 && echo -race)

# What `make cross` builds and vets for, besides this machine.
CROSS   := windows/amd64 darwin/amd64 darwin/arm64

.PHONY: all build deps test vet cross bench demo clean mutants

all: build

deps:
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./cmd/invitectl

vet: deps
	$(GO) vet $(PKGS)

# The whole suite: vet, then every test, under the race detector when this
# machine can run it (else without cgo, which invitectl does not need).
test: vet
ifeq ($(strip $(RACE)),)
	@echo "make test: no race detector (it needs cgo and a C compiler: CGO_ENABLED=$$($(GO) env CGO_ENABLED), CC=$$($(GO) env CC)); running the tests without it" >&2
endif
	$(if $(strip $(RACE)),,CGO_ENABLED=0 )$(GO) test $(RACE) -count=1 $(PKGS)

# Build and vet for Windows and macOS from here (no cgo).
cross: deps
	@for t in $(CROSS); do \
		echo "GOOS=$${t%/*} GOARCH=$${t#*/}: build, vet"; \
		CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build $(PKGS) || exit 1; \
		CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet $(PKGS) || exit 1; \
	done

# Benchmarks; results and their ratios are recorded in docs/BENCHMARKS.md.
bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 -timeout=60m $(PKGS)

# Mutation testing of the code that keeps invitectl exactly-once: gremlins
# makes one small bug at a time (a flipped condition, a changed operator)
# and runs the package's tests, which must fail. Slow (hours on two
# cores) and not part of `make test`; docs/BENCHMARKS.md records the
# efficacy. -count=1 stops `go test` from answering from its cache, which
# would make gremlins time its runs (and so its timeouts) on a cached run.
# One package at a time: MUTANT_PKGS=pkg/journal make mutants.
GREMLINS          ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTANT_PKGS       ?= executor planner pkg/journal pkg/ledger pkg/invitations
MUTANT_WORKERS    ?= 2
MUTANT_THRESHOLD  ?= 85
mutants: deps
	GOBIN=$(CURDIR)/bin $(GO) install $(GREMLINS)
	@mkdir -p bin/mutants
	@fail=0; killed=0; lived=0; for p in $(MUTANT_PKGS); do \
		out=bin/mutants/$$(echo $$p | tr / -); \
		echo "== $$p (details: $$out.txt, $$out.json)"; \
		GOFLAGS=-count=1 ./bin/gremlins unleash --invert-logical --invert-loopctrl \
			--timeout-coefficient 10 --workers $(MUTANT_WORKERS) \
			--threshold-efficacy $(MUTANT_THRESHOLD) -o $$out.json ./$$p \
			> $$out.txt 2>&1 || fail=1; \
		grep -E 'LIVED|TIMED OUT' $$out.txt; \
		grep -E '^(Killed|Timed out|Test efficacy|Mutator coverage)' $$out.txt; \
		set -- $$(sed -n 's/^Killed: \([0-9]*\), Lived: \([0-9]*\).*/\1 \2/p' $$out.txt) 0 0; \
		killed=$$((killed + $$1)); lived=$$((lived + $$2)); \
	done; \
	awk -v k=$$killed -v l=$$lived 'BEGIN { printf "== all: %d killed, %d lived: efficacy %.2f%% (threshold $(MUTANT_THRESHOLD)%% per package)\n", k, l, (k + l) ? 100 * k / (k + l) : 0 }'; \
	exit $$fail

# A campaign end to end against the embedded emulator.
demo: build
	sh samples/demo.sh $(BIN)

clean:
	rm -rf bin demo-out
