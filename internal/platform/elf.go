package platform

import (
	"debug/elf"
	"fmt"
)

// ELF is what an executable built for a platform looks like in its ELF
// header.
type ELF struct {
	Machine elf.Machine
	Class   elf.Class
	Order   elf.Data
}

func (e ELF) String() string { return fmt.Sprintf("%s %s %s", e.Machine, e.Class, e.Order) }

// elfByArch maps GOARCH to its ELF header; variants share their
// architecture's header.
var elfByArch = map[string]ELF{
	"amd64":    {elf.EM_X86_64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"386":      {elf.EM_386, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"arm64":    {elf.EM_AARCH64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"arm":      {elf.EM_ARM, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"s390x":    {elf.EM_S390, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"ppc64le":  {elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"ppc64":    {elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"riscv64":  {elf.EM_RISCV, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"loong64":  {elf.EM_LOONGARCH, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"mips64le": {elf.EM_MIPS, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"mips64":   {elf.EM_MIPS, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"mipsle":   {elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"mips":     {elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2MSB},
}

// ELF returns the ELF header a linux executable for p has.
func (p Platform) ELF() (ELF, error) {
	e, ok := elfByArch[p.Arch]
	if !ok || p.OS != "linux" {
		return ELF{}, fmt.Errorf("%w: no ELF header known for %s", ErrInvalid, p)
	}
	return e, nil
}

// StaticELF reports whether f is statically linked: it names no program
// interpreter (PT_INTERP), so it runs without a dynamic loader or C library.
// Whether f is an executable at all is the caller's question.
func StaticELF(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
