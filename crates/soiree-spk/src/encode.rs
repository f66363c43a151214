//! Streams a [`Dir`] out as one single-segment `Archive` message without building it in memory.
//!
//! Every size is known from the tree's metadata, so the whole layout is fixed before the first
//! byte is written. It has two parts. First the tree's metadata: each directory's `List(File)`
//! followed, in order, by each child's name and symlink target or, for a child directory, its own
//! list and descendants' metadata. Then every regular file's bytes, in the same depth-first order.
//! Cap'n Proto lets objects sit anywhere in the segment; keeping the tables apart from the bytes
//! means a changed mtime or size rewrites only the small metadata part, never the compressed
//! block of some neighbouring file's bytes (block_split.rs cuts a block where the metadata ends).
//! Pointers are plain offsets into that layout; no object is shared, so Sandstorm's traversal
//! limit (the archive's own size) always suffices.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

use crate::archive_entries;
use crate::error::{Error, Result};
use crate::limits;
use crate::tree::{display, join, Dir, Node, Source};

// Archive.File: 2 data words (union tag at byte 0, mtime at byte 8), 2 pointers (name, content).
const FILE_DATA_WORDS: u64 = 2;
const FILE_PTRS: u64 = 2;
const FILE_WORDS: u64 = FILE_DATA_WORDS + FILE_PTRS;
const TAG_REGULAR: u64 = 0;
const TAG_EXECUTABLE: u64 = 1;
const TAG_SYMLINK: u64 = 2;
const TAG_DIRECTORY: u64 = 3;
const ELEMENT_BYTE: u64 = 2;
const ELEMENT_COMPOSITE: u64 = 7;

fn text_words(len: usize) -> u64 {
    (len as u64 + 1).div_ceil(8)
}

/// Words of a directory's metadata: its list (tag + elements), its children's names and symlink
/// targets, and its subdirectories' metadata.
fn meta_words(dir: &Dir) -> u64 {
    1 + FILE_WORDS * dir.entries.len() as u64
        + dir
            .entries
            .iter()
            .map(|(name, e)| {
                text_words(name.len())
                    + match &e.node {
                        Node::File { .. } => 0,
                        Node::Symlink { target } => text_words(target.len()),
                        Node::Dir(d) => meta_words(d),
                    }
            })
            .sum::<u64>()
}

/// Words of the bytes of every regular file under `dir`.
fn file_words(dir: &Dir) -> u64 {
    dir.entries
        .values()
        .map(|e| match &e.node {
            Node::File { size, .. } => size.div_ceil(8),
            Node::Symlink { .. } => 0,
            Node::Dir(d) => file_words(d),
        })
        .sum()
}

/// Words of a directory's list and everything below it.
fn dir_words(dir: &Dir) -> u64 {
    meta_words(dir) + file_words(dir)
}

/// Bytes of the framed archive message for `root`: the 8-byte segment table, the root pointer,
/// the `Archive` struct and the tree.
pub fn message_len(root: &Dir) -> u64 {
    8 + 8 * (2 + dir_words(root))
}

/// Checks names, symlink targets, file sizes, nesting and the total size against Sandstorm's
/// limits (and what its unpack can create), before anything is written.
pub fn check_limits(root: &Dir) -> Result<()> {
    fn walk(dir: &Dir, path: &[u8], depth: u32) -> Result<()> {
        if depth > limits::MAX_DIR_DEPTH {
            return Err(Error::TooDeep(limits::MAX_DIR_DEPTH));
        }
        for (name, entry) in &dir.entries {
            // The same rules as verify and unpack apply, so what is packed can be unpacked.
            archive_entries::check_name(path, name)?;
            let here = join(path, name);
            match &entry.node {
                Node::Symlink { target } => archive_entries::check_symlink(&here, target)?,
                Node::File { size, .. } if *size >= limits::MAX_FILE_SIZE => {
                    return Err(Error::FileTooBig {
                        path: display(&here),
                        size: *size,
                    })
                }
                Node::Dir(d) => walk(d, &here, depth + 1)?,
                _ => {}
            }
        }
        Ok(())
    }
    walk(root, b"", 0)?;
    if message_len(root) > limits::MAX_ARCHIVE_SIZE {
        return Err(Error::ArchiveTooBig {
            limit: limits::MAX_ARCHIVE_SIZE,
        });
    }
    Ok(())
}

fn offset(ptr_pos: u64, target: u64) -> u64 {
    // Offsets are in words from the end of the pointer, as a signed 30-bit field.
    let off = target as i64 - (ptr_pos as i64 + 1);
    ((off as u32) << 2) as u64
}

fn list_ptr(ptr_pos: u64, target: u64, element: u64, count: u64) -> u64 {
    offset(ptr_pos, target) | 1 | (element << 32) | (count << 35)
}

fn struct_ptr(ptr_pos: u64, target: u64, data: u64, ptrs: u64) -> u64 {
    offset(ptr_pos, target) | (data << 32) | (ptrs << 48)
}

/// A writer of the archive stream that is also told where entries and file contents begin, so
/// it can start independently compressed blocks where the data's own structure does (an
/// unchanged file then yields the same blocks when offsets elsewhere shift).
pub trait ArchiveSink: Write {
    /// Before an entry's name; `file_size` is the content size of a regular file.
    fn entry(&mut self, _name: &[u8], _file_size: Option<u64>) -> std::io::Result<()> {
        Ok(())
    }
    /// Before a regular file's `size` content bytes (its padding to a word follows them).
    fn file_content(&mut self, _size: u64) -> std::io::Result<()> {
        Ok(())
    }
    /// After a regular file's content and padding.
    fn file_end(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// After the tree's metadata, before the first file's bytes.
    fn metadata_end(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<S: ArchiveSink + ?Sized> ArchiveSink for &mut S {
    fn entry(&mut self, name: &[u8], file_size: Option<u64>) -> std::io::Result<()> {
        (**self).entry(name, file_size)
    }
    fn file_content(&mut self, size: u64) -> std::io::Result<()> {
        (**self).file_content(size)
    }
    fn file_end(&mut self) -> std::io::Result<()> {
        (**self).file_end()
    }
    fn metadata_end(&mut self) -> std::io::Result<()> {
        (**self).metadata_end()
    }
}

/// Any writer, deaf to the hints.
struct Plain<W>(W);

impl<W: Write> Write for Plain<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> ArchiveSink for Plain<W> {}

/// Writes words and counts them, so the layout can be checked as it is produced.
struct Out<W: ArchiveSink> {
    w: W,
    words: u64,
    buf: Vec<u8>,
}

impl<W: ArchiveSink> Out<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        debug_assert_eq!(bytes.len() % 8, 0);
        self.words += bytes.len() as u64 / 8;
        self.w.write_all(bytes)
    }

    /// Writes `bytes` followed by zero padding to a word boundary (and a NUL for text).
    fn put_padded(&mut self, bytes: &[u8], nul: bool) -> std::io::Result<()> {
        let len = bytes.len() as u64 + u64::from(nul);
        self.w.write_all(bytes)?;
        let pad = (len.div_ceil(8) * 8 - bytes.len() as u64) as usize;
        self.w.write_all(&[0u8; 8][..pad])?;
        self.words += len.div_ceil(8);
        Ok(())
    }
}

/// Writes the framed archive message for `root` to `w`, reading file contents as it goes.
/// Returns the message length in bytes. Call [`check_limits`] first.
pub fn write_archive<W: Write>(root: &Dir, w: W) -> Result<u64> {
    write_archive_to(root, Plain(w))
}

/// [`write_archive`] to a sink that is told where entries and file contents begin.
pub fn write_archive_to<W: ArchiveSink>(root: &Dir, w: W) -> Result<u64> {
    let body_words = 2 + dir_words(root);
    let len = 8 + 8 * body_words;
    let mut out = Out {
        w,
        words: 0,
        buf: vec![0u8; limits::COPY_BUFFER],
    };
    let io = |e: std::io::Error| Error::Io {
        path: "archive stream".into(),
        source: e,
    };
    let mut head = [0u8; 32];
    head[4..8].copy_from_slice(&(body_words as u32).to_le_bytes());
    head[8..16].copy_from_slice(&struct_ptr(0, 1, 0, 1).to_le_bytes());
    head[16..24].copy_from_slice(
        &list_ptr(1, 2, ELEMENT_COMPOSITE, FILE_WORDS * root.entries.len() as u64).to_le_bytes(),
    );
    out.put(&head[..24]).map_err(io)?;
    out.words = 2; // the segment table is not part of the segment
    let mut files = Files {
        next: 2 + meta_words(root),
        list: Vec::new(),
    };
    write_dir(&mut out, root, 2, b"", &mut files)?;
    out.w.metadata_end().map_err(io)?;
    for file in &files.list {
        if out.words != file.pos {
            return Err(Error::MalformedArchive {
                path: display(&file.path),
                reason: "layout position mismatch".into(),
            });
        }
        out.w.entry(file.name, Some(file.size)).map_err(io)?;
        out.w.file_content(file.size).map_err(io)?;
        write_file(&mut out, file.source, file.size, &file.path)?;
        out.w.file_end().map_err(io)?;
    }
    if out.words != body_words {
        return Err(Error::MalformedArchive {
            path: String::new(),
            reason: "layout size mismatch".into(),
        });
    }
    out.w.flush().map_err(io)?;
    Ok(len)
}

/// A regular file whose bytes follow the metadata, at word `pos`.
struct PlacedFile<'t> {
    name: &'t [u8],
    path: Vec<u8>,
    source: &'t Source,
    size: u64,
    pos: u64,
}

/// The files placed so far, and where the next one's bytes go.
struct Files<'t> {
    next: u64,
    list: Vec<PlacedFile<'t>>,
}

/// Writes `dir`'s metadata at `tag_pos`, placing its files' bytes in `files`.
fn write_dir<'t, W: ArchiveSink>(
    out: &mut Out<W>,
    dir: &'t Dir,
    tag_pos: u64,
    path: &[u8],
    files: &mut Files<'t>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: "archive stream".into(),
        source: e,
    };
    let n = dir.entries.len() as u64;
    if out.words != tag_pos {
        return Err(Error::MalformedArchive {
            path: display(path),
            reason: "layout position mismatch".into(),
        });
    }
    let mut table = Vec::with_capacity(8 * (1 + FILE_WORDS * n) as usize);
    table.extend_from_slice(&((n << 2) | (FILE_DATA_WORDS << 32) | (FILE_PTRS << 48)).to_le_bytes());
    let mut cursor = tag_pos + 1 + FILE_WORDS * n;
    let mut places = Vec::with_capacity(n as usize);
    for (i, (name, entry)) in dir.entries.iter().enumerate() {
        let elem = tag_pos + 1 + FILE_WORDS * i as u64;
        let name_pos = cursor;
        cursor += text_words(name.len());
        let (tag, content_ptr, content_pos) = match &entry.node {
            Node::File {
                size,
                executable,
                source,
            } => {
                let pos = files.next;
                files.next += size.div_ceil(8);
                files.list.push(PlacedFile {
                    name,
                    path: join(path, name),
                    source,
                    size: *size,
                    pos,
                });
                (
                    if *executable { TAG_EXECUTABLE } else { TAG_REGULAR },
                    list_ptr(elem + 3, pos, ELEMENT_BYTE, *size),
                    pos,
                )
            }
            Node::Symlink { target } => {
                let pos = cursor;
                cursor += text_words(target.len());
                (
                    TAG_SYMLINK,
                    list_ptr(elem + 3, pos, ELEMENT_BYTE, target.len() as u64 + 1),
                    pos,
                )
            }
            Node::Dir(d) => {
                let pos = cursor;
                cursor += meta_words(d);
                (
                    TAG_DIRECTORY,
                    list_ptr(
                        elem + 3,
                        pos,
                        ELEMENT_COMPOSITE,
                        FILE_WORDS * d.entries.len() as u64,
                    ),
                    pos,
                )
            }
        };
        table.extend_from_slice(&tag.to_le_bytes());
        table.extend_from_slice(&entry.mtime_ns.to_le_bytes());
        table.extend_from_slice(
            &list_ptr(elem + 2, name_pos, ELEMENT_BYTE, name.len() as u64 + 1).to_le_bytes(),
        );
        table.extend_from_slice(&content_ptr.to_le_bytes());
        places.push(content_pos);
    }
    out.put(&table).map_err(io)?;
    for ((name, entry), content_pos) in dir.entries.iter().zip(places) {
        out.put_padded(name, true).map_err(io)?;
        match &entry.node {
            Node::File { .. } => {}
            Node::Symlink { target } => out.put_padded(target, true).map_err(io)?,
            Node::Dir(d) => write_dir(out, d, content_pos, &join(path, name), files)?,
        }
    }
    Ok(())
}

fn write_file<W: ArchiveSink>(out: &mut Out<W>, source: &Source, size: u64, path: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: "archive stream".into(),
        source: e,
    };
    match source {
        Source::Bytes(bytes) => {
            if bytes.len() as u64 != size {
                return Err(Error::Tree(soiree_types::TreeError::FileChanged {
                    path: display(path).into(),
                }));
            }
            out.put_padded(bytes, false).map_err(io)
        }
        Source::Path(file_path) => {
            let changed = || {
                Error::Tree(soiree_types::TreeError::FileChanged {
                    path: file_path.clone(),
                })
            };
            let mut file = File::options()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(file_path)
                .map_err(|e| {
                    if e.raw_os_error() == Some(libc::ELOOP) {
                        changed()
                    } else {
                        Error::io(file_path)(e)
                    }
                })?;
            let meta = file.metadata().map_err(Error::io(file_path))?;
            if !meta.is_file() || meta.size() != size {
                return Err(changed());
            }
            let mut left = size;
            while left > 0 {
                let want = left.min(out.buf.len() as u64) as usize;
                let got = file.read(&mut out.buf[..want]).map_err(Error::io(file_path))?;
                if got == 0 {
                    return Err(changed());
                }
                out.w.write_all(&out.buf[..got]).map_err(io)?;
                left -= got as u64;
            }
            if file.read(&mut out.buf[..1]).map_err(Error::io(file_path))? != 0 {
                return Err(changed());
            }
            let pad = (size.div_ceil(8) * 8 - size) as usize;
            out.w.write_all(&[0u8; 8][..pad]).map_err(io)?;
            out.words += size.div_ceil(8);
            Ok(())
        }
    }
}
