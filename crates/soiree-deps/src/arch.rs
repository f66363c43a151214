//! What an ELF file says about the machine it runs on, and what follows for library lookup:
//! which files the loader accepts, the multiarch directory, `$PLATFORM`.

use goblin::elf::header;

/// `EF_ARM_ABI_FLOAT_HARD`: armhf and armel libraries share a machine number; ld.so tells them
/// apart by this flag.
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
const EM_LOONGARCH: u16 = 258;
const EM_ALPHA: u16 = 0x9026;

/// The identity of an ELF file as far as ld.so's "is this for me" checks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ident {
    /// `ELFCLASS32` or `ELFCLASS64`.
    pub class: u8,
    /// `ELFDATA2LSB` or `ELFDATA2MSB`.
    pub data: u8,
    pub machine: u16,
    pub osabi: u8,
    pub flags: u32,
}

/// How a candidate library compares with the object that needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Fits,
    /// Another class or machine: ld.so skips it and keeps searching.
    OtherArch,
    /// Same class and machine, but ld.so would refuse it outright.
    Refused(&'static str),
}

impl Ident {
    pub fn is_64(&self) -> bool {
        self.class == header::ELFCLASS64
    }

    fn hard_float(&self) -> bool {
        self.flags & EF_ARM_ABI_FLOAT_HARD != 0
    }

    /// Mirrors `open_verify` in glibc's dl-load.c: a different class or machine is skipped,
    /// a different byte order or OS ABI is an error.
    pub fn fit(&self, candidate: &Ident) -> Fit {
        if candidate.class != self.class || candidate.machine != self.machine {
            return Fit::OtherArch;
        }
        if self.machine == header::EM_ARM && candidate.hard_float() != self.hard_float() {
            return Fit::OtherArch;
        }
        if candidate.data != self.data {
            return Fit::Refused("ELF file data encoding not little-endian/big-endian as needed");
        }
        // 0 is System V, 3 is GNU: the only OS ABIs glibc's loader accepts.
        if candidate.osabi != 0 && candidate.osabi != 3 {
            return Fit::Refused("ELF file OS ABI invalid");
        }
        Fit::Fits
    }

    /// Debian's multiarch tuple for this machine, e.g. `x86_64-linux-gnu`.
    pub fn multiarch(&self) -> Option<&'static str> {
        let le = self.data == header::ELFDATA2LSB;
        Some(match (self.machine, self.is_64()) {
            (header::EM_X86_64, true) => "x86_64-linux-gnu",
            (header::EM_X86_64, false) => "x86_64-linux-gnux32",
            (header::EM_386, _) => "i386-linux-gnu",
            (header::EM_AARCH64, _) if le => "aarch64-linux-gnu",
            (header::EM_AARCH64, _) => "aarch64_be-linux-gnu",
            (header::EM_ARM, _) if self.hard_float() => "arm-linux-gnueabihf",
            (header::EM_ARM, _) => "arm-linux-gnueabi",
            (header::EM_RISCV, true) => "riscv64-linux-gnu",
            (header::EM_PPC64, _) if le => "powerpc64le-linux-gnu",
            (header::EM_PPC64, _) => "powerpc64-linux-gnu",
            (header::EM_PPC, _) => "powerpc-linux-gnu",
            (header::EM_S390, true) => "s390x-linux-gnu",
            (header::EM_MIPS, true) if le => "mips64el-linux-gnuabi64",
            (header::EM_MIPS, false) if le => "mipsel-linux-gnu",
            (header::EM_MIPS, false) => "mips-linux-gnu",
            (EM_LOONGARCH, true) => "loongarch64-linux-gnu",
            (header::EM_SPARCV9, _) => "sparc64-linux-gnu",
            (header::EM_68K, _) => "m68k-linux-gnu",
            (header::EM_PARISC, _) => "hppa-linux-gnu",
            (EM_ALPHA, _) => "alpha-linux-gnu",
            _ => return None,
        })
    }

    /// The kernel's `AT_PLATFORM` string, which `$PLATFORM` expands to. It depends on the CPU
    /// the program will run on; this is the common value for the architecture.
    pub fn platform(&self) -> Option<&'static str> {
        Some(match self.machine {
            header::EM_X86_64 => "x86_64",
            header::EM_386 => "i686",
            header::EM_AARCH64 => "aarch64",
            header::EM_ARM => "v7l",
            header::EM_RISCV => "riscv64",
            header::EM_S390 => "z900",
            _ => return None,
        })
    }
}
