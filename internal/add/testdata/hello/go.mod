module crossbin.test/hello

go 1.22
