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

.PHONY: all build deps test vet cross bench demo clean

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

# A campaign end to end against the embedded emulator.
demo: build
	sh samples/demo.sh $(BIN)

clean:
	rm -rf bin demo-out
