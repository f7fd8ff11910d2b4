package source

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/gotool"
	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/proc"
)

// gitMeta is stored beside a cloned tree (<dir>.json).
type gitMeta struct {
	Repository string    `json:"repository"`
	Tag        string    `json:"tag"`
	Commit     string    `json:"commit"`
	Time       time.Time `json:"time"`
}

// ErrUnreachable reports a source repository this machine cannot fetch.
var ErrUnreachable = errors.New("source repository unreachable")

// fetchGit resolves the tag prog.Version in prog.Git and returns the tree
// of its commit, from the cache when that commit was cloned before. The
// source's Sum is "git:<commit>", so patched copies are keyed by commit.
func (p Preparer) fetchGit(ctx context.Context, prog catalog.Program) (Source, error) {
	fail := func(err error) (Source, error) {
		return Source{}, fmt.Errorf("%s %s: source %s at tag %s: %w", prog.Name, prog.Version, prog.Git, prog.Version, err)
	}
	out, err := p.git(ctx, "", "ls-remote", "--tags", "--", prog.Git, "refs/tags/"+prog.Version, "refs/tags/"+prog.Version+"^{}")
	if err != nil {
		return fail(fmt.Errorf("%w: %w (ARG GIT in %s names it; build this program where that repository is reachable)", ErrUnreachable, err, prog.Dockerfile()))
	}
	commit, err := tagCommit(out, prog.Version)
	if err != nil {
		return fail(err)
	}
	dir := filepath.Join(p.CacheDir, "source", "git", prog.Name+"-"+prog.Version+"-"+commit[:12])
	src := func(m gitMeta) Source {
		return Source{
			Module:   gotool.Module{Path: prog.Module, Version: prog.Version, Dir: dir, Sum: "git:" + m.Commit},
			Released: m.Time,
			Dir:      dir,
		}
	}
	if m, err := readMeta(dir + ".json"); err == nil && m.Commit == commit {
		return src(m), nil
	}
	start := time.Now()
	p.Log.Info("cloning source repository", "program", prog.Name, "repository", prog.Git, "tag", prog.Version)
	var m gitMeta
	err = fillDir(dir, func(work string) error {
		if _, err := p.git(ctx, "", "clone", "--quiet", "--depth=1", "--no-tags", "--branch", prog.Version, "--", prog.Git, work); err != nil {
			return err
		}
		head, err := p.git(ctx, work, "log", "-1", "--format=%H %ct")
		if err != nil {
			return err
		}
		fields := strings.Fields(head)
		if len(fields) != 2 || fields[0] != commit {
			return fmt.Errorf("the clone is at %q, but the tag named commit %s: the tag moved while fetching; try again", head, commit)
		}
		secs, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return fmt.Errorf("commit time %q: %w", fields[1], err)
		}
		m = gitMeta{Repository: prog.Git, Tag: prog.Version, Commit: commit, Time: time.Unix(secs, 0).UTC()}
		if err := os.RemoveAll(filepath.Join(work, ".git")); err != nil {
			return err
		}
		return dropDockerignore(work)
	})
	if err != nil {
		return fail(err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fail(err)
	}
	// The metadata is written last: a tree without it is cloned again (the
	// same commit's tree, so one already in place stays).
	if err := os.WriteFile(dir+".json", data, 0o644); err != nil {
		return fail(err)
	}
	p.Log.Info("cloned source repository", "program", prog.Name, "commit", commit, "dir", dir, "duration", time.Since(start).Round(100*time.Millisecond))
	return src(m), nil
}

// tagCommit picks the commit a tag names from `git ls-remote` output:
// the peeled line (refs/tags/T^{}) of an annotated tag, else the tag's own.
func tagCommit(lsRemote, tag string) (string, error) {
	var direct, peeled string
	sc := bufio.NewScanner(strings.NewReader(lsRemote))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || len(fields[0]) < 40 {
			continue
		}
		switch fields[1] {
		case "refs/tags/" + tag:
			direct = fields[0]
		case "refs/tags/" + tag + "^{}":
			peeled = fields[0]
		}
	}
	switch {
	case peeled != "":
		return peeled, nil
	case direct != "":
		return direct, nil
	}
	return "", fmt.Errorf("the repository has no tag %s", tag)
}

func readMeta(path string) (gitMeta, error) {
	var m gitMeta
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(data, &m)
}

// git runs git without prompting for credentials and returns its output.
func (p Preparer) git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := proc.Command(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := lines.Last(strings.TrimSpace(stderr.String()), 3)
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return stdout.String(), nil
}
