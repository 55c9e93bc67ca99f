# invitectl: the two commands an administrator needs are `make demo` and
# `make test`. Nothing but Go and a POSIX shell is assumed; modules come from
# the Go module proxy.

GO      ?= go
BIN     := bin/invitectl
PKGS    := ./...

.PHONY: all build deps test vet bench demo clean

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

# A campaign end to end against the embedded emulator.
demo: build
	sh samples/demo.sh $(BIN)

clean:
	rm -rf bin demo-out
