package main

// Tests of -h and help: every help on stdout in one layout, and help
// naming every environment variable the program reads.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestHelpLayout: every command's and subcommand's -h (and help NAME)
// exits 0, writes nothing on stderr, and prints on stdout
// "Usage: nnkern NAME ...", a blank line, the description, and the flags
// under "Flags:" when it has any.
func TestHelpLayout(t *testing.T) {
	dir := t.TempDir()
	names := [][]string{{"data", "fetch"}, {"data", "info"}, {"data", "export"}, {"sweep", "merge"}}
	for _, c := range commands {
		names = append(names, []string{c.name})
	}
	for _, name := range names {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, name...), h)
			r := nnkern(t, dir, nil, args...)
			lines := strings.Split(r.stdout, "\n")
			if r.code != 0 || r.stderr != "" || len(lines) < 4 {
				t.Errorf("nnkern %s: exit %d, stderr %q, stdout %q", strings.Join(args, " "), r.code, r.stderr, r.stdout)
				continue
			}
			prefix := "Usage: nnkern " + strings.Join(name, " ")
			if !strings.HasPrefix(lines[0], prefix) || strings.HasSuffix(lines[0], " ") || lines[1] != "" || lines[2] == "" {
				t.Errorf("nnkern %s: want %q..., a blank line and the description; got:\n%s", strings.Join(args, " "), prefix, r.stdout)
			}
			if strings.Contains(r.stdout, "\n  -") && !strings.Contains(r.stdout, "\n\nFlags:\n  -") {
				t.Errorf("nnkern %s: flags not under \"Flags:\" after a blank line:\n%s", strings.Join(args, " "), r.stdout)
			}
		}
		if len(name) == 1 {
			if a, b := nnkern(t, dir, nil, "help", name[0]), nnkern(t, dir, nil, name[0], "-h"); a != b {
				t.Errorf("nnkern help %s differs from nnkern %s -h", name[0], name[0])
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "-h"}} {
		r := nnkern(t, dir, nil, args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "\nCommands:\n") {
			t.Errorf("nnkern %s: exit %d, stderr %q, stdout:\n%s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
		}
	}
}

// TestHelpListsEveryEnvVar: every NNKERN_ variable named in a string
// literal of the non-test Go files that make up the binary (the packages
// 'go list -deps' gives) is in 'nnkern help', except the test hooks
// (NNKERN_TEST_...), which no user sets.
func TestHelpListsEveryEnvVar(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	re := regexp.MustCompile(`NNKERN_[A-Z0-9_]*[A-Z0-9]`)
	read := map[string]string{}
	fset := token.NewFileSet()
	for _, path := range strings.Fields(string(out)) {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil {
					for _, name := range re.FindAllString(v, -1) {
						if !strings.HasPrefix(name, "NNKERN_TEST_") {
							read[name] = fset.Position(lit.Pos()).String()
						}
					}
				}
			}
			return true
		})
	}
	if len(read) < 5 {
		t.Fatalf("found only %v in the sources: the scan is broken", read)
	}
	help := mustRun(t, t.TempDir(), nil, "help").stdout
	for name, where := range read {
		if !regexp.MustCompile(`\n  ` + name + `\s`).MatchString(help) {
			t.Errorf("%s (%s) is not listed in nnkern help:\n%s", name, where, help)
		}
	}
}
