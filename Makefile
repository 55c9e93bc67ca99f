# invitectl: the two commands an administrator needs are `make demo` and
# `make test`. Nothing but Go and a POSIX shell is assumed; modules come from
# the Go module proxy.

GO      ?= go
BIN     := bin/invitectl
PKGS    := ./...

.PHONY: all build deps test vet bench demo clean mutants

all: build

deps:
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./cmd/invitectl

vet: deps
	$(GO) vet $(PKGS)

# The whole suite: vet, then every test under the race detector.
test: vet
	$(GO) test -race -count=1 $(PKGS)

# Benchmarks; results and their ratios are recorded in docs/BENCHMARKS.md.
bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 -timeout=60m $(PKGS)

# Mutation testing of the code that keeps invitectl exactly-once: gremlins
# makes one small bug at a time (a flipped condition, a changed operator)
# and runs the package's tests, which must fail. Slow (about an hour on two
# cores) and not part of `make test`; docs/BENCHMARKS.md records the
# efficacy. -count=1 stops `go test` from answering from its cache, which
# would make gremlins time its runs (and so its timeouts) on a cached run.
# One package at a time: MUTANT_PKGS=report make mutants.
GREMLINS          ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTANT_PKGS       ?= executor planner report pkg/ledger pkg/invitations
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
