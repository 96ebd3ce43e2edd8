package fusecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const module = "github.com/nnkern/nnkern"

// A build is one way of compiling the module: GOARCH, GOAMD64 and tags.
type build struct {
	name string
	env  []string // added to the environment of the go command
	tags string
	// fused matches the mnemonics of the fused multiply-add instructions
	// in the architecture's Go assembly syntax.
	fused *regexp.Regexp
}

var (
	// VFMADD231SD, VFMSUB132PS, VFNMADD213SS, VFNMSUB231PD, VFMADDSUB…:
	// scalar and packed, every operand order.
	amd64Fused = regexp.MustCompile(`^VFN?M(ADD|SUB)`)
	// FMADDD, FMADDS, FMSUBD, FNMADDD, FNMSUBS…, and the vector VFMLA and
	// VFMLS (gc does not vectorise, but assembly-like code might appear).
	arm64Fused = regexp.MustCompile(`^(FN?M(ADD|SUB)[SD]|VFML[AS])$`)
)

var (
	amd64v1       = build{name: "amd64 GOAMD64=v1", env: []string{"GOARCH=amd64", "GOAMD64=v1"}, fused: amd64Fused}
	amd64v3       = build{name: "amd64 GOAMD64=v3", env: []string{"GOARCH=amd64", "GOAMD64=v3"}, fused: amd64Fused}
	amd64v1purego = build{name: "amd64 GOAMD64=v1 purego", env: []string{"GOARCH=amd64", "GOAMD64=v1"}, tags: "purego", fused: amd64Fused}
	amd64v3purego = build{name: "amd64 GOAMD64=v3 purego", env: []string{"GOARCH=amd64", "GOAMD64=v3"}, tags: "purego", fused: amd64Fused}
	arm64         = build{name: "arm64", env: []string{"GOARCH=arm64"}, fused: arm64Fused}
)

// A comparison checks one build against a reference build that compiles the
// same files and never fuses implicitly.
type comparison struct {
	name     string // subtest name
	got, ref build
}

var comparisons = []comparison{
	{"v3", amd64v3, amd64v1},
	{"v3-purego", amd64v3purego, amd64v1purego},
	// arm64 compiles exactly the purego file set: every file with assembly
	// stubs is "amd64 && gc && !purego", its fallback "!amd64 || !gc || purego".
	{"arm64", arm64, amd64v1purego},
}

// A listing is what one build's -S output says about fused multiply-adds.
type listing struct {
	// pkgs holds every package of the module that was compiled.
	pkgs map[string]bool
	// fused maps package → function → source position ("dir/file.go:line",
	// relative to the module root) → number of fused multiply-add
	// instructions the compiler emitted for that position.
	fused map[string]map[string]map[string]int
	// positions holds every position that has a fused multiply-add in some
	// function (with inlining, one line can appear in many functions).
	positions map[string]int
}

func (l *listing) total(pkg, fn string) int {
	n := 0
	for _, c := range l.fused[pkg][fn] {
		n += c
	}
	return n
}

// TestNoImplicitFMA fails for every source line where the compiler fuses a
// multiply-add under GOAMD64=v3 or on arm64 that it does not fuse under
// GOAMD64=v1, i.e. for every x*y + z the code leaves to the compiler; see
// the package documentation.
func TestNoImplicitFMA(t *testing.T) {
	goCmd := findGo(t)
	root := moduleRoot(t)

	builds := []build{amd64v1, amd64v3, amd64v1purego, amd64v3purego, arm64}
	listings := make(map[string]*listing, len(builds))
	errs := make(map[string]error, len(builds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for _, b := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			l, err := compile(goCmd, root, b)
			mu.Lock()
			defer mu.Unlock()
			listings[b.name], errs[b.name] = l, err
			t.Logf("%s: built in %v", b.name, time.Since(t0).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	t.Logf("all builds: %v", time.Since(start).Round(time.Millisecond))
	for _, b := range builds {
		if errs[b.name] != nil {
			t.Fatalf("%s: %v", b.name, errs[b.name])
		}
	}

	for _, c := range comparisons {
		t.Run(c.name, func(t *testing.T) {
			check(t, c, listings[c.got.name], listings[c.ref.name])
		})
	}
}

// check reports every source line that has more fused multiply-adds in
// some function of got than in the same function of ref, one subtest per
// directory of the module (the directory of the source line, which with
// inlining and generics need not be the package that compiled it).
func check(t *testing.T, c comparison, got, ref *listing) {
	// directory → position → function → "n vs r"
	extra := make(map[string]map[string]map[string]string)
	dirs := make(map[string]bool)
	for pkg := range got.pkgs {
		dirs[relDir(pkg)] = true
	}
	for pkg, fns := range got.fused {
		if drawsOnly[pkg] {
			continue
		}
		for fn, poss := range fns {
			refFn, inRef := ref.fused[pkg][fn]
			for pos, n := range poss {
				r := refFn[pos]
				if !inRef && ref.positions[pos] > 0 {
					// The function does not exist in the reference (another
					// inlining or instantiation choice), and the reference
					// fuses this position elsewhere: a math.FMA, not an
					// implicit fusion.
					continue
				}
				if n <= r {
					continue
				}
				dir := "(outside the module)"
				if !filepath.IsAbs(pos) {
					dir = filepath.ToSlash(filepath.Dir(pos))
				}
				dirs[dir] = true
				if extra[dir] == nil {
					extra[dir] = make(map[string]map[string]string)
				}
				if extra[dir][pos] == nil {
					extra[dir][pos] = make(map[string]string)
				}
				extra[dir][pos][strings.TrimPrefix(fn, module+"/")] = fmt.Sprintf("%d vs %d", n, r)
			}
		}
	}
	for _, dir := range sortedKeys(dirs) {
		t.Run(dir, func(t *testing.T) {
			if len(extra[dir]) == 0 {
				return
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%d source line(s) fused under %s but not under %s "+
				"(write T(x*y) + z to forbid the fusion, or kernels.FMA / math.FMA where one is meant); "+
				"fused multiply-adds per function, %s vs %s:",
				len(extra[dir]), c.got.name, c.ref.name, c.got.name, c.ref.name)
			for _, pos := range sortedKeys(extra[dir]) {
				var fns []string
				for _, fn := range sortedKeys(extra[dir][pos]) {
					fns = append(fns, fn+" "+extra[dir][pos][fn])
				}
				fmt.Fprintf(&b, "\n\t%s: %s", pos, strings.Join(fns, ", "))
			}
			t.Error(b.String())
		})
	}
}

// drawsOnly holds the packages whose floating-point arithmetic only places
// the pixels of plots (with gonum/plot's drawing code inlined into them): the
// contract covers results — models, losses, metrics — not where a line of a
// PNG falls, so their fusions are not reported.
var drawsOnly = map[string]bool{module + "/cmd/nnkern/internal/viz": true}

// relDir returns the directory of a package of the module, relative to the
// module root.
func relDir(pkg string) string {
	if pkg == module {
		return "."
	}
	return strings.TrimPrefix(pkg, module+"/")
}

// compile builds every package of the module with -S for the module's
// packages and parses the listing as it streams.
func compile(goCmd, root string, b build) (*listing, error) {
	args := []string{"build", "-gcflags=" + module + "/...=-S"}
	if b.tags != "" {
		args = append(args, "-tags", b.tags)
	}
	args = append(args, "./...")
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = root
	// GOFLAGS is cleared so that a -tags or -gcflags of the caller's
	// environment cannot change what is compared.
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	cmd.Env = append(cmd.Env, b.env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var l *listing
	var perr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		l, perr = parse(pr, root, b.fused)
		io.Copy(io.Discard, pr) // drain on a parse error
	}()
	werr := cmd.Wait()
	pw.Close()
	<-done
	if werr != nil {
		// Say why without 40 MB of listing: the same build without -S.
		args := []string{"build"}
		if b.tags != "" {
			args = append(args, "-tags", b.tags)
		}
		cmd := exec.Command(goCmd, append(args, "./...")...)
		cmd.Dir, cmd.Env = root, append(append(os.Environ(), "GOFLAGS="), b.env...)
		out, _ := cmd.CombinedOutput()
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), werr, out)
	}
	if perr != nil {
		return nil, perr
	}
	if len(l.pkgs) == 0 {
		return nil, fmt.Errorf("go %s printed no assembly listing", strings.Join(args, " "))
	}
	return l, nil
}

var (
	// "# github.com/nnkern/nnkern/softmax" starts a package's output.
	pkgLine = regexp.MustCompile(`^# (\S+)`)
	// "github.com/nnkern/nnkern/softmax.sumSq[go.shape.float32] STEXT dupok size=…"
	textLine = regexp.MustCompile(`^(\S+) STEXT`)
	// "\t0x006e 00110 (/…/nprand/glibclog.go:40)\tVFMADD231SD\tX4, X0, X5"
	instLine = regexp.MustCompile(`^\t0x[0-9a-f]+ \d+ \((.*)\)\t([A-Z][A-Z0-9.]*)`)
)

func parse(r io.Reader, root string, fused *regexp.Regexp) (*listing, error) {
	l := &listing{
		pkgs:      make(map[string]bool),
		fused:     make(map[string]map[string]map[string]int),
		positions: make(map[string]int),
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	var pkg, fn string
	prefix := filepath.ToSlash(root) + "/"
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		switch line[0] {
		case '#':
			if m := pkgLine.FindSubmatch(line); m != nil {
				pkg, fn = string(m[1]), ""
				if pkg == module || strings.HasPrefix(pkg, module+"/") {
					l.pkgs[pkg] = true
				}
			}
		case '\t':
			if fn == "" || !bytes.HasPrefix(line, []byte("\t0x")) {
				continue
			}
			// Cheap test first (40 MB of listing per build): the
			// mnemonic follows the position's ")\t".
			i := bytes.Index(line, []byte(")\t"))
			if i < 0 {
				continue
			}
			mn := line[i+2:]
			if j := bytes.IndexByte(mn, '\t'); j >= 0 {
				mn = mn[:j]
			}
			if !fused.Match(mn) {
				continue
			}
			m := instLine.FindSubmatch(line)
			if m == nil {
				continue
			}
			pos := strings.TrimPrefix(filepath.ToSlash(string(m[1])), prefix)
			if l.fused[pkg] == nil {
				l.fused[pkg] = make(map[string]map[string]int)
			}
			if l.fused[pkg][fn] == nil {
				l.fused[pkg][fn] = make(map[string]int)
			}
			l.fused[pkg][fn][pos]++
			l.positions[pos]++
		default:
			// A symbol: a function (STEXT) or data, whose hex dump
			// lines carry no position and are skipped above.
			if m := textLine.FindSubmatch(line); m != nil {
				fn = string(m[1])
			} else {
				fn = ""
			}
		}
	}
	return l, sc.Err()
}

// findGo returns the go command that built this test: go test puts
// $GOROOT/bin first on the PATH of the test binary.
func findGo(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	//lint:ignore SA1019 only a fallback for a test binary run by hand
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	t.Skip("fusecheck: no go command on PATH or in GOROOT/bin; cannot compile the module to check for implicit FMAs")
	return ""
}

// moduleRoot returns the directory of nnkern's go.mod.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if !bytes.Contains(data, []byte("module "+module+"\n")) {
				t.Fatalf("%s/go.mod is not module %s", dir, module)
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestParse checks the listing parser on a few lines of real -S output:
// the package header, a function, a fused instruction with its position,
// a hex dump line and a data symbol, whose lines must not count.
func TestParse(t *testing.T) {
	const listingText = "# github.com/nnkern/nnkern/nprand\n" +
		"github.com/nnkern/nnkern/nprand.logGlibc STEXT nosplit size=100 args=0x8 locals=0x0 funcid=0x0 align=0x0\n" +
		"\t0x0000 00000 (/root/nprand/glibclog.go:24)\tTEXT\tgithub.com/nnkern/nnkern/nprand.logGlibc(SB), NOSPLIT|ABIInternal, $0-8\n" +
		"\t0x006e 00110 (/root/nprand/glibclog.go:40)\tVFMADD231SD\tX4, X0, X5\n" +
		"\t0x0073 00115 (/root/nprand/glibclog.go:40)\tVFMADD231SD\tX3, X1, X5\n" +
		"\t0x0078 00120 (/root/nprand/glibclog.go:41)\tMULSD\tX4, X4\n" +
		"\t0x0000 c4 e2 d9 b9 c5 c4 e2 d9 b9 c5 00 00 00 00 00 00  ................\n" +
		"go:cuinfo.producer.github.com/nnkern/nnkern/nprand SDWARFCUINFO dupok size=0\n" +
		"\t0x0000 (/root/nprand/glibclog.go:42)\tVFMADD231SD\tX4, X0, X5\n" +
		"github.com/nnkern/nnkern/nprand.f STEXT size=10\n" +
		"\t0x0010 00016 (/root/nprand/x.go:7)\tVFNMSUB213PS\tY1, Y2, Y3\n"
	l, err := parse(strings.NewReader(listingText), "/root", amd64Fused)
	if err != nil {
		t.Fatal(err)
	}
	const pkg = module + "/nprand"
	want := map[string]map[string]int{
		pkg + ".logGlibc": {"nprand/glibclog.go:40": 2},
		pkg + ".f":        {"nprand/x.go:7": 1},
	}
	if !l.pkgs[pkg] || len(l.pkgs) != 1 {
		t.Errorf("packages %v, want only %s", l.pkgs, pkg)
	}
	if fmt.Sprint(l.fused[pkg]) != fmt.Sprint(want) {
		t.Errorf("fused %v, want %v", l.fused[pkg], want)
	}
	for _, s := range []string{"VFMADD231SD", "VFMSUB132PS", "VFNMADD213SS", "VFNMSUB231PD", "VFMADDSUB231PS"} {
		if !amd64Fused.MatchString(s) {
			t.Errorf("amd64: %s not recognised as a fused multiply-add", s)
		}
	}
	for _, s := range []string{"FMADDD", "FMADDS", "FMSUBD", "FNMADDD", "FNMSUBS", "VFMLA"} {
		if !arm64Fused.MatchString(s) {
			t.Errorf("arm64: %s not recognised as a fused multiply-add", s)
		}
	}
	for _, s := range []string{"FMULD", "FNMULD", "FMOVD", "FMAXD", "FMADDQ"} {
		if arm64Fused.MatchString(s) {
			t.Errorf("arm64: %s taken for a fused multiply-add", s)
		}
	}
}
