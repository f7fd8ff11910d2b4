// Command unavailable stands in for a program on a platform it cannot be
// built for. crossbin stamps the program's name, version and the platform
// with -ldflags -X; the binary says so and exits 1:
//
//	dlv v1.6.1 is unavailable on linux/s390x
package main

import (
	"fmt"
	"os"
)

// Stamped at build time.
var (
	name     = "this program"
	version  = ""
	platform = "this platform"
)

func main() {
	os.Exit(run())
}

func run() int {
	fmt.Fprintln(os.Stderr, message(name, version, platform))
	return 1
}

func message(name, version, platform string) string {
	if version != "" {
		name += " " + version
	}
	return fmt.Sprintf("%s is unavailable on %s", name, platform)
}
