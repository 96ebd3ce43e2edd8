# nnkern — see README.md.
GO ?= go

.PHONY: all test test-go test-purego test-avx2 test-openblas vet generate generate-check bench bench-report demo lint build fuzz accuracy

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

# The README performance section: nnkern bench against ../shared/bench/numpy_peer.py,
# alternating runs, medians and ratios (several minutes).
bench-report:
	scripts/bench-report.sh

# Runs each data-format fuzzer for a minute.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzPickle -fuzztime 60s ./cifar
	$(GO) test -run '^$$' -fuzz FuzzBinary -fuzztime 60s ./cifar
	$(GO) test -run '^$$' -fuzz FuzzIDX -fuzztime 60s ./cifar

# The notebooks' settings on the real data (../shared/data/cifar10-jpeg.tar.gz)
# through the fast trainers, against numpy on the same data and seeds (slow).
NNKERN_SHARED ?= $(abspath ../shared)
accuracy:
	NNKERN_SHARED=$(NNKERN_SHARED) $(GO) test -tags accuracy -run TestAccuracyCIFAR -v -timeout 60m ./twolayer

demo:
	$(GO) run ./cmd/nnkern demo

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
