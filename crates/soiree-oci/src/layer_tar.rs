//! One layer: part of a package tree as a gzip-compressed tar blob, byte for byte the same for the
//! same tree — entries in bytewise name order, directories before what they hold, owner root
//! (or the image user for the paths it must own), modes 0755/0644 from the executable bit, every
//! time the image's epoch, no user or group names, gzip without a name or time.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use flate2::write::GzEncoder;
use soiree_types::{Dir, Node, Source};

use crate::blobs::{BlobWriter, Hashing};
use crate::OciError;

/// Who owns a path and with what mode, where it is not root's with the usual mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u64,
    pub gid: u64,
    pub mode: u32,
}

/// What writing one layer gave.
#[derive(Debug, Clone)]
pub struct LayerBlob {
    /// `sha256:…` of the compressed blob (the manifest's descriptor).
    pub digest: String,
    /// `sha256:…` of the uncompressed tar (the config's `diff_ids`).
    pub diff_id: String,
    /// Compressed size.
    pub size: u64,
}

/// Writes `tree` as a layer blob into the layout at `root`.
pub fn write_layer(
    root: &Path,
    tree: &Dir,
    owners: &BTreeMap<String, Owner>,
    mtime: u64,
) -> Result<LayerBlob, OciError> {
    let mut blob = BlobWriter::create(root)?;
    let blob_dir = root.join("blobs");
    let file = blob.file().try_clone().map_err(OciError::io(&blob_dir))?;
    let compressed = Hashing::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(compressed, flate2::Compression::default());
    let mut tar = tar::Builder::new(Hashing::new(gz));
    tar.mode(tar::HeaderMode::Deterministic);
    let mut walk = Walk {
        tar: &mut tar,
        owners,
        mtime,
    };
    walk.dir(tree, b"")?;
    let io = OciError::io(&blob_dir);
    let uncompressed = tar.into_inner().map_err(OciError::io(&blob_dir))?;
    let (gz, diff_id, _) = uncompressed.finish();
    let compressed: Hashing<std::io::BufWriter<std::fs::File>> =
        finish_gz(gz).map_err(OciError::io(&blob_dir))?;
    let (mut buffered, digest, size) = compressed.finish();
    buffered.flush().map_err(io)?;
    blob.keep(&digest)?;
    Ok(LayerBlob {
        digest,
        diff_id,
        size,
    })
}

fn finish_gz<W: Write>(gz: GzEncoder<W>) -> std::io::Result<W> {
    gz.finish()
}

struct Walk<'a, W: Write> {
    tar: &'a mut tar::Builder<W>,
    owners: &'a BTreeMap<String, Owner>,
    mtime: u64,
}

impl<W: Write> Walk<'_, W> {
    fn header(&self, path: &str, kind: tar::EntryType, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        let owner = self
            .owners
            .get(path)
            .copied()
            .unwrap_or(Owner { uid: 0, gid: 0, mode });
        h.set_uid(owner.uid);
        h.set_gid(owner.gid);
        h.set_mode(owner.mode);
        h.set_mtime(self.mtime);
        h.set_size(0);
        h
    }

    fn dir(&mut self, dir: &Dir, prefix: &[u8]) -> Result<(), OciError> {
        for (name, entry) in &dir.entries {
            // Names are bytes, as in the tree: a name that is not UTF-8 is kept as it is.
            let raw = [prefix, name.as_slice()].concat();
            let path = Path::new(OsStr::from_bytes(&raw));
            let shown = format!("/{}", String::from_utf8_lossy(&raw));
            let fail = |source| OciError::Io {
                path: shown.clone().into(),
                source,
            };
            match &entry.node {
                Node::Dir(sub) => {
                    let mut h = self.header(&shown, tar::EntryType::Directory, 0o755);
                    let inside = [raw.as_slice(), b"/"].concat();
                    self.tar
                        .append_data(&mut h, Path::new(OsStr::from_bytes(&inside)), std::io::empty())
                        .map_err(fail)?;
                    self.dir(sub, &inside)?;
                }
                Node::Symlink { target } => {
                    let mut h = self.header(&shown, tar::EntryType::Symlink, 0o777);
                    self.tar
                        .append_link(&mut h, path, Path::new(OsStr::from_bytes(target)))
                        .map_err(fail)?;
                }
                Node::File {
                    source,
                    size,
                    executable,
                } => {
                    let mode = if *executable { 0o755 } else { 0o644 };
                    let mut h = self.header(&shown, tar::EntryType::Regular, mode);
                    h.set_size(*size);
                    match source {
                        Source::Bytes(bytes) => {
                            self.tar.append_data(&mut h, path, bytes.as_ref()).map_err(fail)?
                        }
                        Source::Path(host) => {
                            let file = std::fs::File::open(host).map_err(OciError::io(host))?;
                            let mut exact = Exact {
                                inner: file.take(*size),
                                read: 0,
                            };
                            self.tar.append_data(&mut h, path, &mut exact).map_err(fail)?;
                            if exact.read != *size {
                                return Err(OciError::Changed {
                                    path: host.display().to_string(),
                                    expected: *size,
                                    found: exact.read,
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Counts what is read, so a file that shrank since it was planned is an error, not a short tar.
struct Exact<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}
