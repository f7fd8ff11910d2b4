package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Status describes the stack without changing it.
type Status struct {
	CacheDir        string
	Tools           []ToolStatus
	MissingPackages []string
	Binfmt          []string // enabled QEMU interpreters
	Registry        DaemonStatus
	Buildkitd       DaemonStatus
	Builder         error // nil when the buildx builder answers
}

// ToolStatus says whether a tool is built.
type ToolStatus struct {
	Tool      Tool
	Installed bool
}

// DaemonStatus says whether a daemon runs and answers.
type DaemonStatus struct {
	Name    string
	PID     int
	Running bool
	Health  error // nil when it answers
	Log     string
	Addr    string
}

// Healthy reports whether everything is up and answering.
func (st Status) Healthy() bool {
	for _, t := range st.Tools {
		if !t.Installed {
			return false
		}
	}
	return st.Registry.Health == nil && st.Buildkitd.Health == nil && st.Builder == nil
}

// Status inspects the stack.
func (s *Stack) Status(ctx context.Context) Status {
	st := Status{CacheDir: s.opt.CacheDir, MissingPackages: s.opt.Host.missingPackages(AptPackages), Binfmt: s.opt.Host.binfmtEnabled()}
	for _, t := range Tools() {
		st.Tools = append(st.Tools, ToolStatus{Tool: t, Installed: t.installed(s.opt.CacheDir)})
	}
	client := statusClient()
	st.Registry = s.daemonStatus(ctx, s.registry(), s.registryURL(), func(ctx context.Context) error {
		return checkRegistry(ctx, client, s.registryURL())
	})
	st.Buildkitd = s.daemonStatus(ctx, s.buildkitd(), "unix://"+s.socket(), func(ctx context.Context) error {
		return checkBuildkitd(ctx, BuildKit.Bin(s.opt.CacheDir, "buildctl"), s.socket())
	})
	st.Builder = errors.New("not checked: buildkitd is down")
	if st.Buildkitd.Health == nil {
		if _, err := s.Buildx().Run(ctx, "inspect"); err != nil {
			st.Builder = err
		} else {
			st.Builder = nil
		}
	}
	return st
}

func (s *Stack) daemonStatus(ctx context.Context, d daemon, addr string, check func(context.Context) error) DaemonStatus {
	ds := DaemonStatus{Name: d.name, Log: d.logFile, Addr: addr}
	ds.PID, ds.Running = d.pid()
	switch {
	case !ds.Running:
		ds.Health = errors.New("not running (run `go tool mage stack:up`)")
	default:
		ds.Health = check(ctx)
	}
	return ds
}

// String renders the status as a short report.
func (st Status) String() string {
	var b strings.Builder
	mark := func(err error) string {
		if err == nil {
			return "ok"
		}
		return err.Error()
	}
	fmt.Fprintf(&b, "cache:     %s\n", st.CacheDir)
	for _, t := range st.Tools {
		state := "built"
		if !t.Installed {
			state = "not built"
		}
		fmt.Fprintf(&b, "tool:      %-9s %-8s %s\n", t.Tool.Name, t.Tool.Version, state)
	}
	for _, d := range []DaemonStatus{st.Registry, st.Buildkitd} {
		pid := "-"
		if d.Running {
			pid = fmt.Sprint(d.PID)
		}
		fmt.Fprintf(&b, "%-10s pid %-7s %-28s %s\n", d.Name+":", pid, d.Addr, mark(d.Health))
	}
	fmt.Fprintf(&b, "builder:   %-36s %s\n", BuilderName, mark(st.Builder))
	if len(st.MissingPackages) > 0 {
		fmt.Fprintf(&b, "packages:  missing %s\n", strings.Join(st.MissingPackages, ", "))
	}
	binfmt := "none enabled: foreign binaries will not run"
	if len(st.Binfmt) > 0 {
		binfmt = strings.Join(st.Binfmt, " ")
	}
	fmt.Fprintf(&b, "binfmt:    %s\n", binfmt)
	return b.String()
}
