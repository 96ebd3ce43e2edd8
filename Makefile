# nnkern — see README.md.
GO ?= go

.PHONY: verify-avx512 all test test-go test-purego test-avx2 test-openblas identity identity-ref vet generate generate-check bench bench-report check-peak demo lint build fuzz accuracy

all: build

build:
	$(GO) build ./...

# Also the tests behind build tags (make accuracy, make check-peak), which
# make test does not run, so that a change cannot break their build unseen.
vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./...
	$(GO) vet -tags accuracy,peakcheck ./twolayer ./bench

# make test: everything CI checks that runs in a few minutes. Every step
# runs, even after one fails; it ends with one line (scripts/make-test.sh):
# ok or which steps FAILED, the builds and ISA levels whose identity was
# checked, and every group of tests that was skipped and why (collected
# through NNKERN_SKIP_LOG; see internal/skiplog). Exit status 1 if any step
# failed.
test:
	@MAKE="$(MAKE)" GO="$(GO)" scripts/make-test.sh vet test-go test-purego test-avx2 identity

# TestIdentity runs in make identity (in every build), not in these two.
test-go:
	$(GO) test -count=1 -skip '^TestIdentity$$' ./...

# A purego build has only the generic level: an NNKERN_ISA above it (as in
# NNKERN_ISA=avx512 make test) would be refused by every program it runs.
test-purego:
	env -u NNKERN_ISA $(GO) test -count=1 -tags purego -skip '^TestIdentity$$' ./...

test-avx2:
	NNKERN_ISA=avx2 $(GO) test -count=1 ./kernels/...

# One result on every CPU: internal/identity's TestIdentity (every ISA level,
# GOMAXPROCS 1, 2, 3) in the native, purego, GOAMD64=v3 and GOAMD64=v4 builds,
# each build's hashes compared with the native build's and with
# internal/identity/testdata/hashes.txt, computed on another CPU
# (scripts/identity.sh; IDENTITY_REF=file compares with another file).
# Ends with one line: builds, levels, components, verdict.
identity:
	GO="$(GO)" scripts/identity.sh

# Rewrites internal/identity/testdata/hashes.txt, the hashes make identity
# compares every machine with: only when results change on purpose.
identity-ref:
	IDENTITY_BUILDS=native IDENTITY_REF= IDENTITY_SAVE=internal/identity/testdata/hashes.txt GO="$(GO)" scripts/identity.sh

# On an AVX-512 machine: NNKERN_ISA=avx512 make test (which runs make
# identity) and the GEMM benchmarks of the AVX-512 targets
# (scripts/verify-avx512.sh).
verify-avx512:
	GO="$(GO)" MAKE="$(MAKE)" scripts/verify-avx512.sh

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

# The peak probe's independent checks (bench/peakcheck_test.go): the AVX2
# FMA probe against the measured clock and against a C intrinsics loop
# (gcc), each within 5%. Their verdict depends on the machine's load, so
# they are not in make test: run them on a quiet machine.
check-peak:
	$(GO) test -count=1 -tags peakcheck -run '^TestPeakAgrees' -v ./bench

# The generated section of docs/performance.md: nnkern bench against
# ../shared/bench/numpy_peer.py, alternating runs, medians and ratios (about
# 15 minutes); scripts/bench-report.sh writes it between the document's markers.
bench-report:
	scripts/bench-report.sh

# Runs each data-format fuzzer for a minute.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzPickle -fuzztime 60s ./cifar
	$(GO) test -run '^$$' -fuzz FuzzBinary -fuzztime 60s ./cifar
	$(GO) test -run '^$$' -fuzz FuzzIDX -fuzztime 60s ./cifar
	$(GO) test -run '^$$' -fuzz FuzzImageFolder -fuzztime 60s ./cifar
	$(GO) test -run '^$$' -fuzz FuzzModel -fuzztime 60s ./internal/npz
	$(GO) test -run '^$$' -fuzz FuzzCheckpoint -fuzztime 60s ./cmd/nnkern/internal/runio
	$(GO) test -run '^$$' -fuzz FuzzMetrics -fuzztime 60s ./cmd/nnkern/internal/runio
	$(GO) test -run '^$$' -fuzz FuzzRunConfig -fuzztime 60s ./cmd/nnkern
	$(GO) test -run '^$$' -fuzz FuzzSweepConfigs -fuzztime 60s ./cmd/nnkern
	$(GO) test -run '^$$' -fuzz '^FuzzSweep$$' -fuzztime 60s ./cmd/nnkern

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
