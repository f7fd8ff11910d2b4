package platform

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// elfWith is a little-endian ELF64 file of type typ whose program headers
// have the given types, and nothing else.
func elfWith(t *testing.T, typ elf.Type, progs ...elf.ProgType) *elf.File {
	t.Helper()
	const ehsize, phentsize = 64, 56
	h := elf.Header64{
		Type: uint16(typ), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Ehsize: ehsize, Phentsize: phentsize, Phnum: uint16(len(progs)),
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	if len(progs) > 0 {
		h.Phoff = ehsize
	}
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	for _, p := range progs {
		if err := binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(p), Align: 8}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := elf.NewFile(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStaticELF(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   elf.Type
		progs []elf.ProgType
		want  bool
	}{
		{"static executable", elf.ET_EXEC, []elf.ProgType{elf.PT_PHDR, elf.PT_LOAD, elf.PT_LOAD, elf.PT_NOTE, elf.PT_GNU_STACK}, true},
		{"static pie", elf.ET_DYN, []elf.ProgType{elf.PT_PHDR, elf.PT_LOAD, elf.PT_DYNAMIC, elf.PT_GNU_STACK}, true},
		{"dynamic executable", elf.ET_EXEC, []elf.ProgType{elf.PT_PHDR, elf.PT_INTERP, elf.PT_LOAD, elf.PT_DYNAMIC}, false},
		{"dynamic pie", elf.ET_DYN, []elf.ProgType{elf.PT_PHDR, elf.PT_INTERP, elf.PT_LOAD, elf.PT_DYNAMIC}, false},
		{"interpreter last", elf.ET_EXEC, []elf.ProgType{elf.PT_LOAD, elf.PT_INTERP}, false},
		// No interpreter, so nothing to load: the type is the caller's check.
		{"object file", elf.ET_REL, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StaticELF(elfWith(t, tc.typ, tc.progs...)); got != tc.want {
				t.Errorf("StaticELF = %v; want %v", got, tc.want)
			}
		})
	}
}

// TestStaticELFFiles checks real executables: a Go program built here with
// cgo off, and the host's ls, which is linked against the C library.
func TestStaticELFFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	static := filepath.Join(dir, "static")
	cmd := exec.Command("go", "build", "-o", static, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	type file struct {
		path string
		want bool
	}
	files := []file{{static, true}}
	if ls, err := exec.LookPath("ls"); err == nil {
		files = append(files, file{ls, false})
	}
	for _, tc := range files {
		f, err := elf.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := StaticELF(f); got != tc.want {
			t.Errorf("StaticELF(%s) = %v; want %v", tc.path, got, tc.want)
		}
		f.Close()
	}
}
