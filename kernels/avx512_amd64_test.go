//go:build amd64 && gc && !purego

package kernels

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/asmcheck"
)

// TestAsmRequires: the generated assembly of each level needs no CPU
// feature beyond what that level's detection checks (AVX-512 code: F, DQ,
// BW and VL on top of the AVX2 level's AVX, AVX2, FMA3 and POPCNT), and
// every function named as AVX-512 code really uses AVX-512 instructions.
// It reads the .s files, so it runs on any machine.
func TestAsmRequires(t *testing.T) {
	req, err := asmcheck.Requires(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range asmcheck.Check(req) {
		t.Error(e)
	}
}

// TestAVX512Entries checks, on any machine, that the dispatchers reach
// AVX-512 code exactly at the AVX-512 level and never elsewhere: in the
// dispatch files (*_amd64.go), every call of an assembly function inside
// an `if level >= AVX512 { … }` block is to a function named …AVX512 (which
// TestAsmRequires shows is AVX-512 code), every other call is to AVX2
// code, and every assembly function is called. Together with
// TestPretendAVX512 and forLevels' per-level call counters on an AVX-512
// machine, an AVX2 kernel under the avx512 label cannot go unnoticed.
func TestAVX512Entries(t *testing.T) {
	req, err := asmcheck.Requires(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*_amd64.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	called := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "_stub_") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(n ast.Node, in512 bool)
		walk = func(n ast.Node, in512 bool) {
			ast.Inspect(n, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.IfStmt:
					if n.Init != nil {
						walk(n.Init, in512)
					}
					walk(n.Cond, in512)
					walk(n.Body, in512 || isLevelAtLeast512(n.Cond))
					if n.Else != nil {
						walk(n.Else, in512)
					}
					return false
				case *ast.CallExpr:
					id, ok := n.Fun.(*ast.Ident)
					if !ok {
						return true
					}
					if _, isAsm := req[id.Name]; !isAsm {
						return true
					}
					called[id.Name] = true
					is512 := strings.HasSuffix(id.Name, "AVX512")
					if is512 != in512 {
						t.Errorf("%s: %s called where level >= AVX512 is %v", fset.Position(n.Pos()), id.Name, in512)
					}
				}
				return true
			})
		}
		walk(file, false)
	}
	for fn := range req {
		if !called[fn] {
			t.Errorf("assembly function %s is never called by a dispatcher", fn)
		}
	}
}

// isLevelAtLeast512 reports whether e is the expression `level >= AVX512`.
func isLevelAtLeast512(e ast.Expr) bool {
	b, ok := e.(*ast.BinaryExpr)
	if !ok || b.Op != token.GEQ {
		return false
	}
	x, ok1 := b.X.(*ast.Ident)
	y, ok2 := b.Y.(*ast.Ident)
	return ok1 && ok2 && x.Name == "level" && y.Name == "AVX512"
}

// TestPretendAVX512 pretends that the CPU has AVX-512 (without running a
// kernel, so it works on any machine) and checks that every kernel then
// reports the avx512 level as implemented and dispatched: labels that come
// from Dispatched (nnkern cpuinfo, the benchmark rows) name the code that
// runs.
func TestPretendAVX512(t *testing.T) {
	pd, pl := detected, level
	detected, level = AVX512, AVX512
	defer func() { detected, level = pd, pl }()
	for _, k := range Kernels() {
		if impl := Implemented(k); impl[0] != AVX512 {
			t.Errorf("%s: implemented %v, want avx512 first", k, impl)
		}
		if d := Dispatched(k); d != AVX512 {
			t.Errorf("%s: dispatched at %v with the CPU at avx512", k, d)
		}
	}
	level = AVX2
	for _, k := range Kernels() {
		if d := Dispatched(k); d != AVX2 {
			t.Errorf("%s: dispatched at %v with NNKERN_ISA=avx2", k, d)
		}
	}
}
