// Package buildinfo names the running nnkern build in one line, so that
// `nnkern version`, `nnkern --version` and the `nnkern bench` report header
// say the same thing:
//
//	fmt.Println(buildinfo.Line()) // nnkern (devel) 1a2b3c4d5e6f-dirty go1.24.1 avx512
//
// The module version, VCS revision and modified flag come from the
// binary's build information (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"github.com/nnkern/nnkern/kernels"
)

// modulePath is nnkern's module path: a program that imports nnkern as a
// dependency finds nnkern's version among its build's dependencies.
const modulePath = "github.com/nnkern/nnkern"

// Version is "<module version> <short vcs revision>[-dirty]": the module
// version is "(devel)" for a build from a source tree; the revision (12
// hex digits) and -dirty (uncommitted changes) are there when the Go tool
// recorded them. Without build information it is "unknown".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if bi.Main.Path != modulePath {
		v = ""
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				v = d.Version
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev + dirty
	}
	return v
}

// Line is "nnkern <Version> <go version> <isa>", the ISA being the level
// the kernels dispatch to now (after NNKERN_ISA or kernels.SetISA).
func Line() string {
	return "nnkern " + Version() + " " + runtime.Version() + " " + kernels.ISA().String()
}
