# nnkern — see README.md.
GO ?= go

.PHONY: all test test-go test-purego test-avx2 test-openblas vet generate generate-check bench bench-report demo lint build

all: build

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./...

# make test: everything CI checks that runs in a few minutes.
test: vet test-go test-purego test-avx2

test-go:
	$(GO) test -count=1 ./...

test-purego:
	$(GO) test -count=1 -tags purego ./...

test-avx2:
	NNKERN_ISA=avx2 $(GO) test -count=1 ./kernels/...

# Needs libopenblas-dev (Debian); .ci/run installs it.
test-openblas:
	CGO_LDFLAGS="-lopenblas" $(GO) test -count=1 -tags openblas ./blas/...

generate:
	$(GO) generate ./...

# Regenerates the avo assembly and fails if anything changed.
generate-check: generate
	@test -z "$$(git status --porcelain)" || { echo "generate-check: generated files differ from the committed ones:"; git status --porcelain; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchtime 200ms ./...

demo:
	$(GO) run ./cmd/nnkern demo

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
