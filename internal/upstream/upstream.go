// Package upstream discovers a program's releases and picks the newest one
// its update policy allows.
//
// A Finder lists releases; there is one per kind of source: the Go module
// proxy protocol (Proxy) for programs whose releases are module versions,
// and GitHub releases (GitHub) for the rest. Choose is the policy, a pure
// function: canonical semantic versions only (vMAJOR.MINOR.PATCH, as the
// go tool writes them; a GitHub tag like v1.4 is skipped with a note, since
// the go tool would read `@v1.4` as a query for the newest v1.4.x, not as
// one release), prereleases skipped unless asked,
// retracted versions skipped, an optional hashicorp/go-version constraint,
// and a new major version (a /vN+1 module path) reported, never applied.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	goversion "github.com/hashicorp/go-version"
	"golang.org/x/mod/semver"
)

// Finder lists the releases of a program.
type Finder interface {
	// Releases lists the versions published for what (a module path for
	// the proxy, owner/repo for GitHub), in any order.
	Releases(ctx context.Context, what string) (Releases, error)
}

// Releases is what a Finder found.
type Releases struct {
	Versions []string
	// Tags are the release tags as published (GitHub: "3.5a", "v1.10.0"),
	// drafts and releases flagged prerelease left out; Versions holds
	// those that read as semantic versions, with a "v" added.
	Tags []string
	// Retracted reports versions the publisher retracted.
	Retracted func(version string) bool
	// NextMajor is the newest version of the next major module path
	// (…/v4 for …/v3), empty when there is none.
	NextMajor string
}

// ErrNotFound reports that the source has no such module or repository.
var ErrNotFound = errors.New("not found")

// Policy is a program's update policy (program.yaml `update:`).
type Policy struct {
	// Constraint limits the versions, e.g. "~> 3.6" or "< 2.0".
	Constraint string
	// Prereleases allows versions like v1.2.0-rc.1.
	Prereleases bool
}

// Choice is the outcome of Choose.
type Choice struct {
	Version string   // the version to pin; equal to current when nothing newer is allowed
	Notes   []string // what was skipped and why, new majors
}

// Choose picks the newest version newer than current that the policy
// allows.
func Choose(current string, rel Releases, pol Policy) (Choice, error) {
	if !semver.IsValid(current) {
		return Choice{}, fmt.Errorf("current version %q is not a semantic version", current)
	}
	if !canonical(current) {
		return Choice{}, fmt.Errorf("current version %q is not canonical (vMAJOR.MINOR.PATCH): the go tool reads it as a query, not one release; pin the full version in the Dockerfile's ARG VERSION", current)
	}
	var constraint goversion.Constraints
	if pol.Constraint != "" {
		c, err := goversion.NewConstraint(pol.Constraint)
		if err != nil {
			return Choice{}, fmt.Errorf("update constraint %q: %w", pol.Constraint, err)
		}
		constraint = c
	}
	ch := Choice{Version: current}
	var skippedPre, skippedRetracted, skippedConstraint, skippedNonCanonical []string
	versions := slices.Clone(rel.Versions)
	semver.Sort(versions)
	for _, v := range versions {
		if !semver.IsValid(v) || semver.Compare(v, current) <= 0 {
			continue
		}
		if strings.HasSuffix(v, "+incompatible") != strings.HasSuffix(current, "+incompatible") {
			continue // a different module line
		}
		if semver.Major(v) != semver.Major(current) {
			continue // majors of a /vN path never change in place
		}
		switch {
		case !canonical(v):
			skippedNonCanonical = append(skippedNonCanonical, v)
		case rel.Retracted != nil && rel.Retracted(v):
			skippedRetracted = append(skippedRetracted, v)
		case semver.Prerelease(v) != "" && !pol.Prereleases:
			skippedPre = append(skippedPre, v)
		case constraint != nil && !allowed(constraint, v):
			skippedConstraint = append(skippedConstraint, v)
		default:
			ch.Version = v
		}
	}
	newer := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			if semver.Compare(v, ch.Version) > 0 {
				out = append(out, v)
			}
		}
		return out
	}
	if vs := newer(skippedPre); len(vs) > 0 {
		ch.Notes = append(ch.Notes, "prerelease skipped: "+vs[len(vs)-1])
	}
	if vs := newer(skippedRetracted); len(vs) > 0 {
		ch.Notes = append(ch.Notes, "retracted skipped: "+strings.Join(vs, ", "))
	}
	if vs := newer(skippedNonCanonical); len(vs) > 0 {
		ch.Notes = append(ch.Notes, "not canonical (vMAJOR.MINOR.PATCH), skipped: "+strings.Join(vs, ", "))
	}
	if vs := newer(skippedConstraint); len(vs) > 0 {
		ch.Notes = append(ch.Notes, fmt.Sprintf("%s not allowed by %q", vs[len(vs)-1], pol.Constraint))
	}
	if rel.NextMajor != "" {
		ch.Notes = append(ch.Notes, "new major available: "+rel.NextMajor+" (needs a new module path; not applied)")
	}
	return ch, nil
}

// canonical reports whether v is written the one way semver.Canonical
// writes it (v1.4.0, not v1.4 or v1.4.0+build); a module's +incompatible
// suffix is kept by the go tool and allowed.
func canonical(v string) bool {
	core := strings.TrimSuffix(v, "+incompatible")
	return semver.Canonical(core) == core
}

// allowed checks v against c. go-version never lets a prerelease satisfy a
// constraint without one, so a prerelease (asked for by the policy) is
// checked by its release part: v1.7.0-rc.1 counts as 1.7.0.
func allowed(c goversion.Constraints, v string) bool {
	gv, err := goversion.NewVersion(strings.TrimSuffix(v, "+incompatible"))
	if err != nil {
		return false
	}
	if gv.Prerelease() != "" {
		gv = gv.Core()
	}
	return c.Check(gv)
}
