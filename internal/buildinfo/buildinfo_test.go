package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

func TestFromBuildInfo(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"devel", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "(devel)"},
		{"empty version", debug.BuildInfo{Main: debug.Module{Path: modulePath}}, "(devel)"},
		{"tagged clean", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}}, "v1.2.3 " + rev[:12]},
		{"dirty", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}, "(devel) " + rev[:12] + "-dirty"},
		{"dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "v9.9.9"},
			Deps: []*debug.Module{{Path: "other/mod", Version: "v0.1.0"}, {Path: modulePath, Version: "v0.4.0"}}}, "v0.4.0"},
	} {
		if got := fromBuildInfo(&c.bi); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	f := strings.Fields(Line())
	if len(f) < 4 || f[0] != "nnkern" {
		t.Fatalf("Line() = %q: want nnkern <version> [<revision>] <go version> <isa>", Line())
	}
	if got := f[len(f)-2]; got != runtime.Version() {
		t.Errorf("Line() = %q: go version %q, want %q", Line(), got, runtime.Version())
	}
	if got := f[len(f)-1]; got != kernels.ISA().String() {
		t.Errorf("Line() = %q: isa %q, want %q", Line(), got, kernels.ISA())
	}
	if !strings.HasPrefix(Line(), "nnkern "+Version()+" ") {
		t.Errorf("Line() = %q does not start with nnkern %s", Line(), Version())
	}
}
