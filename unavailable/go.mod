module github.com/crossbin/crossbin/unavailable

go 1.26
