//go:build s390x

package main

// hello does not build for linux/s390x: add must find this by compiling.
var _ = undefinedOnS390x
