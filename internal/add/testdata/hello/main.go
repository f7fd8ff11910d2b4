// Command hello greets whoever runs it. It is what package add's tests
// add to a catalog: its version is stamped with -X main.version.
package main

import (
	"fmt"
	"os"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("hello", version)
		return
	}
	fmt.Println("hello, world")
}
