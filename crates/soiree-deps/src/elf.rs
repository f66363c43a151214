//! The few things library lookup needs from an ELF file: its identity, `PT_INTERP`, and the
//! dynamic section's `DT_NEEDED`, `DT_SONAME`, `DT_RPATH`, `DT_RUNPATH` and `DF_1_NODEFLIB`.
//!
//! Only the ELF header, the program headers, the dynamic segment and the strings it points at are
//! touched, through a memory map: a 50 MB executable costs a few pages, not a read of the file.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use goblin::container::Ctx;
use goblin::elf::dynamic::{self, Dynamic};
use goblin::elf::program_header::{self, ProgramHeader};
use goblin::elf::{header, Elf, SectionHeader};

use crate::arch::Ident;
use crate::error::{Error, Result};

/// `DF_1_NODEFLIB`: the object must not get libraries from the cache or the default directories.
const DF_1_NODEFLIB: u64 = 0x800;
/// `e_phnum` says the real count is in section header 0 (`PN_XNUM`).
const PN_XNUM: u16 = 0xffff;

pub const MAGIC: &[u8; 4] = b"\x7fELF";

#[derive(Debug, Clone)]
pub struct ElfInfo {
    pub ident: Ident,
    pub e_type: u16,
    /// `PT_INTERP`: the program interpreter the kernel loads, as written.
    pub interp: Option<PathBuf>,
    pub needed: Vec<OsString>,
    pub soname: Option<OsString>,
    /// `DT_RPATH`, already dropped when `DT_RUNPATH` is present (glibc ignores it then).
    pub rpath: Option<OsString>,
    pub runpath: Option<OsString>,
    pub nodeflib: bool,
}

impl ElfInfo {
    /// Whether ld.so can load it at all (executables and shared objects, not `.o` or cores).
    pub fn loadable(&self) -> bool {
        self.e_type == header::ET_DYN || self.e_type == header::ET_EXEC
    }

    /// Reads an ELF file; `shown` is the in-root path used in errors.
    pub fn open(host: &Path, shown: &Path) -> Result<ElfInfo> {
        let file = File::open(host).map_err(Error::io(shown))?;
        let len = file.metadata().map_err(Error::io(shown))?.len();
        if len < 64 {
            let bytes = std::fs::read(host).map_err(Error::io(shown))?;
            return ElfInfo::parse(&bytes, shown);
        }
        // SAFETY: the map lives only for this call. A file truncated by someone else meanwhile
        // could fault here, exactly as it would fault ld.so itself; the root is read-only input.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(Error::io(shown))?;
        ElfInfo::parse(&map, shown)
    }

    pub fn parse(bytes: &[u8], shown: &Path) -> Result<ElfInfo> {
        let bad = |reason: String| Error::MalformedElf {
            path: shown.to_path_buf(),
            reason,
        };
        if !bytes.starts_with(MAGIC) {
            return Err(bad("invalid ELF header".into()));
        }
        let ehdr = Elf::parse_header(bytes).map_err(|e| bad(format!("ELF header: {e}")))?;
        let container = ehdr.container().map_err(|e| bad(e.to_string()))?;
        let endian = ehdr.endianness().map_err(|e| bad(e.to_string()))?;
        let ctx = Ctx::new(container, endian);
        let ident = Ident {
            class: ehdr.e_ident[header::EI_CLASS],
            data: ehdr.e_ident[header::EI_DATA],
            machine: ehdr.e_machine,
            osabi: ehdr.e_ident[header::EI_OSABI],
            flags: ehdr.e_flags,
        };

        let phnum = if ehdr.e_phnum == PN_XNUM {
            let sh0 = SectionHeader::parse(bytes, ehdr.e_shoff as usize, 1, ctx)
                .map_err(|e| bad(format!("section header 0 (PN_XNUM): {e}")))?;
            sh0.first().map(|s| s.sh_info as usize).unwrap_or(0)
        } else {
            ehdr.e_phnum as usize
        };
        let phdrs = if phnum == 0 {
            Vec::new()
        } else {
            if ehdr.e_phentsize as usize != ProgramHeader::size(ctx) {
                return Err(bad(format!(
                    "program header entries are {} bytes, not {}",
                    ehdr.e_phentsize,
                    ProgramHeader::size(ctx)
                )));
            }
            let end = (ehdr.e_phoff as usize).checked_add(phnum.saturating_mul(ProgramHeader::size(ctx)));
            if end.is_none_or(|end| end > bytes.len()) {
                return Err(bad(format!(
                    "the file ends inside its program headers ({} bytes)",
                    bytes.len()
                )));
            }
            ProgramHeader::parse(bytes, ehdr.e_phoff as usize, phnum, ctx)
                .map_err(|e| bad(format!("program headers: {e}")))?
        };

        let mut info = ElfInfo {
            ident,
            e_type: ehdr.e_type,
            interp: None,
            needed: Vec::new(),
            soname: None,
            rpath: None,
            runpath: None,
            nodeflib: false,
        };
        if let Some(ph) = phdrs.iter().find(|p| p.p_type == program_header::PT_INTERP) {
            let raw = slice(bytes, ph.p_offset, ph.p_filesz)
                .ok_or_else(|| bad("PT_INTERP lies outside the file".into()))?;
            let raw = raw.split(|b| *b == 0).next().unwrap_or(raw);
            info.interp = Some(PathBuf::from(OsString::from_vec(raw.to_vec())));
        }

        let dynamic = Dynamic::parse(bytes, &phdrs, ctx).map_err(|e| bad(e.to_string()))?;
        let Some(dynamic) = dynamic else {
            return Ok(info);
        };
        let wants_strings = dynamic.dyns.iter().any(|d| {
            matches!(
                d.d_tag,
                dynamic::DT_NEEDED | dynamic::DT_SONAME | dynamic::DT_RPATH | dynamic::DT_RUNPATH
            )
        });
        if !wants_strings {
            return Ok(info);
        }
        // goblin maps DT_STRTAB's address to a file offset through PT_LOAD, 0 when it can't.
        let strtab = match dynamic.info.strtab {
            0 => None,
            offset => slice(bytes, offset as u64, dynamic.info.strsz as u64),
        }
        .ok_or_else(|| bad("DT_STRTAB lies outside the file".into()))?;
        let string = |at: u64, tag: &str| -> Result<OsString> {
            let tail = usize::try_from(at)
                .ok()
                .and_then(|at| strtab.get(at..))
                .ok_or_else(|| bad(format!("{tag} points outside DT_STRTAB")))?;
            let end = tail
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| bad(format!("{tag} runs past the end of DT_STRTAB")))?;
            Ok(OsString::from_vec(tail[..end].to_vec()))
        };
        for d in &dynamic.dyns {
            match d.d_tag {
                dynamic::DT_NEEDED => info.needed.push(string(d.d_val, "DT_NEEDED")?),
                dynamic::DT_SONAME => info.soname = Some(string(d.d_val, "DT_SONAME")?),
                dynamic::DT_RPATH => info.rpath = Some(string(d.d_val, "DT_RPATH")?),
                dynamic::DT_RUNPATH => info.runpath = Some(string(d.d_val, "DT_RUNPATH")?),
                _ => {}
            }
        }
        info.nodeflib = dynamic.info.flags_1 & DF_1_NODEFLIB != 0;
        if info.runpath.is_some() {
            info.rpath = None;
        }
        Ok(info)
    }
}

/// The identity in an ELF header alone, without reading the rest of the file: enough to know
/// that ld.so would pass over a library built for another machine before it reads further.
pub fn read_ident(host: &Path) -> Option<Ident> {
    use std::io::Read;
    let mut head = [0u8; 52];
    File::open(host).ok()?.read_exact(&mut head).ok()?;
    ident_from_head(&head)
}

/// The identity in the first 52 bytes (or more) of an ELF file.
pub fn ident_from_head(head: &[u8]) -> Option<Ident> {
    let head = head.get(..52)?;
    if !head.starts_with(MAGIC) {
        return None;
    }
    let big = head[header::EI_DATA] == header::ELFDATA2MSB;
    let u16_at = |at: usize| {
        let b = [head[at], head[at + 1]];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    // e_flags follows e_entry, e_phoff and e_shoff, which are 4 or 8 bytes each.
    let flags_at = if head[header::EI_CLASS] == header::ELFCLASS64 {
        48
    } else {
        36
    };
    let b = [
        head[flags_at],
        head[flags_at + 1],
        head[flags_at + 2],
        head[flags_at + 3],
    ];
    Some(Ident {
        class: head[header::EI_CLASS],
        data: head[header::EI_DATA],
        machine: u16_at(18),
        osabi: head[header::EI_OSABI],
        flags: if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        },
    })
}

fn slice(bytes: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}
