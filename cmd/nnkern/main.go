// Command nnkern trains and evaluates the linear classifiers (softmax,
// SVM) and the two-layer ReLU net of the nnkern library on CIFAR-10 (or
// MNIST), reproducibly: every run writes a run directory with its config,
// metrics, checkpoints, a numpy-loadable model.npz and plots, and the same
// config and seed give a byte-identical model.
//
// Usage:
//
//	nnkern help
//	nnkern demo
//	nnkern train twolayer --data cifar-10-python.tar.gz --out runs/net
//	nnkern train twolayer --out runs/net --resume
//	nnkern sweep twolayer --lr 1e-3,2e-3 --reg 0.01,0.05 --hidden 200,400 --jobs 2
//	nnkern eval runs/net/model.npz --data cifar-10-python.tar.gz
//	nnkern predict runs/net/model.npz cat.png
//	nnkern gradcheck twolayer
//	nnkern cpuinfo
//	nnkern bench -h
//
// Errors print one line; usage errors exit with status 2, other failures
// with 1; a train, sweep or demo stopped by SIGINT, SIGTERM or SIGHUP
// writes a checkpoint, and it or a data fetch so stopped exits with 128 +
// the signal's number (130, 143, 129).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nnkern/nnkern/internal/buildinfo"
	"github.com/nnkern/nnkern/kernels"
)

// Version is the nnkern version recorded in every run's config.json: the
// module version and VCS revision of this build, as `nnkern version` and
// the bench report print them.
var Version = buildinfo.Version()

// usageError marks errors that exit with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitError carries a specific exit status with an optional message
// (gradcheck failures exit 1 after printing their table).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// env is what a command sees of the world.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stdoutTTY      bool
}

type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	run     func(e *env, args []string) error
}

var commands []*command

func init() {
	commands = []*command{
		{"train", "softmax|svm|twolayer [flags]", "train a model, writing a reproducible run directory", runTrain},
		{"sweep", "softmax|svm|twolayer [flags] | sweep merge DIR...", "validation tuning over a grid or random configurations", runSweep},
		{"eval", "MODEL [--data PATH] [--split test|val|train] [--json]", "accuracy, per-class accuracy and confusion matrix of a model", runEval},
		{"predict", "MODEL IMAGE... [--json]", "top-k classes with probabilities for PNG/JPEG images", runPredict},
		{"gradcheck", "softmax|svm|twolayer|all", "the notebooks' numerical gradient checks; exit 1 on failure", runGradcheck},
		{"data", "fetch|info|export ...", "download, inspect and export datasets", runData},
		{"demo", "[flags]", "the notebooks end to end: data, gradient checks, softmax, two-layer net", runDemo},
		{"bench", "[flags]", "kernel and GEMM benchmarks", runBench},
		{"cpuinfo", "", "CPU, ISA level, caches, kernels dispatched, BLAS backends", runCPUInfo},
		{"version", "", "print the nnkern version, Go version and ISA in one line", runVersion},
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "nnkern — reproducible CPU training of linear classifiers and two-layer nets (CIFAR-10)\n\n")
	fmt.Fprintf(w, "Usage:\n  nnkern <command> [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'nnkern <command> -h' for a command's flags; 'nnkern --version' (or -v) for the version.\n")
	fmt.Fprint(w, environmentHelp)
}

// Main runs nnkern with args (without the program name) and returns the
// exit status.
func Main(args []string, e *env) int {
	err := dispatch(args, e)
	if err == nil {
		return 0
	}
	var ue *usageError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(e.stderr, "nnkern: %s\n", oneLine(ee.msg))
		}
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "nnkern: %s\n", oneLine(ue.msg))
		return 2
	}
	fmt.Fprintf(e.stderr, "nnkern: %s\n", oneLine(err.Error()))
	return 1
}

// oneLine makes an error message one line of printable text. It is the
// last guard of "every string from a file is escaped": readers escape what
// they quote (textesc.Escape or %q), and a control character that slipped
// through anyway, or a byte that is not UTF-8, is written here as a \x or
// \u escape. Escaped text holds none, so nothing else changes (a
// backslash stays as it is).
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func dispatch(args []string, e *env) error {
	// Every bad NNKERN_* value of the packages linked in (ISA, BLAS,
	// POOL_SPIN, LOAD_LIMIT), in one line.
	if err := kernels.EnvError(); err != nil {
		return usagef("%v", err)
	}
	if len(args) == 0 {
		usage(e.stderr)
		return &exitError{code: 2}
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" && !isHelpFlag(args[1]) {
			c := lookup(args[1])
			if c == nil {
				return usagef("help: unknown command %q (run 'nnkern help')", args[1])
			}
			return c.run(e, []string{"-h"})
		}
		usage(e.stdout)
		return nil
	case "--version", "-version", "-v":
		return runVersion(e, args[1:])
	}
	c := lookup(name)
	if c == nil {
		return usagef("unknown command %q (run 'nnkern help')", name)
	}
	return c.run(e, args[1:])
}

// flagSet returns a FlagSet for a command whose errors become one-line
// usage errors and whose -h prints the full help to stdout.
func newFlags(e *env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("nnkern "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // errors print one line; -h prints help (parseFlags)
	help := func() {
		w := e.stdout
		fmt.Fprintf(w, "%s\n\n%s\n", strings.TrimSpace("Usage: nnkern "+name+" "+synopsis), about)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	helps[fs] = help
	return fs
}

// helps holds each FlagSet's help printer.
var helps = map[*flag.FlagSet]func(){}

// parseFlags parses args allowing positional arguments before, between and
// after flags. It returns the positional arguments. -h prints help and
// returns errHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			helps[fs]()
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%s: %v (see '%s -h')", fs.Name()[len("nnkern "):], err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// errHelp is returned after -h printed the help; it exits 0.
var errHelp = &exitError{code: 0}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func main() {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stdoutTTY: isTerminal(os.Stdout)}
	// NNKERN_CPUPROFILE=file writes a pprof CPU profile of the command.
	if p := os.Getenv("NNKERN_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			code := Main(os.Args[1:], e)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(Main(os.Args[1:], e))
}
