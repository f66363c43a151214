//! Re-signing a package: verify it, then write the same archive under a new signature. When the
//! input keeps its signature in a separate xz stream (as soiree-pack writes it), the archive
//! stream is copied byte for byte; a single-stream package (from `spk`) is recompressed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use xz2::stream::{Action, Status, Stream};

use crate::error::{Error, Result};
use crate::keys::KeyPair;
use crate::read::{self, Verified};
use crate::write::{self, Compression, Written};

/// Where the archive's own xz stream starts, if the first stream holds exactly the signature.
fn archive_stream_start(file: &mut File, signature_len: u64) -> Result<Option<u64>> {
    let mut stream = Stream::new_stream_decoder(u64::MAX, 0).map_err(|e| Error::Xz(e.to_string()))?;
    file.seek(SeekFrom::Start(8))
        .map_err(|e| Error::Xz(e.to_string()))?;
    let mut input = Vec::new();
    // A signature stream is a few hundred bytes; give up on the split after 64 KiB.
    file.take(64 << 10)
        .read_to_end(&mut input)
        .map_err(|e| Error::Xz(e.to_string()))?;
    let mut out = Vec::with_capacity(4096);
    let mut pos = 0usize;
    loop {
        if out.len() as u64 > signature_len {
            return Ok(None);
        }
        out.reserve(4096);
        let before = stream.total_in();
        let status = stream
            .process_vec(&input[pos..], &mut out, Action::Run)
            .map_err(|e| Error::Xz(e.to_string()))?;
        pos += (stream.total_in() - before) as usize;
        match status {
            Status::StreamEnd => break,
            _ if pos >= input.len() && stream.total_in() == before => return Ok(None),
            _ => {}
        }
    }
    if out.len() as u64 != signature_len {
        return Ok(None);
    }
    // Stream padding: zero bytes in groups of four may separate concatenated streams.
    while input.get(pos..pos + 4) == Some(&[0, 0, 0, 0]) {
        pos += 4;
    }
    Ok(Some(8 + pos as u64))
}

/// Verifies `input` and writes it to `out` signed by `key`.
pub fn resign(input: &Path, key: &KeyPair, out: &Path) -> Result<(Verified, Written)> {
    let verified = read::verify(input)?;
    let opened = &verified.opened;
    let mut file = File::open(input).map_err(Error::io(input))?;
    let start = archive_stream_start(&mut file, opened.signature_len)?;
    let (package_id, size) = match start {
        Some(start) => write::assemble(
            key,
            opened.archive_sha512,
            file,
            start,
            opened.file_size - start,
            out,
        )?,
        None => {
            let compressed = recompress(opened.archive_bytes(), write::parent_dir(out))?;
            write::assemble(key, opened.archive_sha512, compressed.0, 0, compressed.1, out)?
        }
    };
    let written = Written {
        app_id: key.app_id(),
        package_id,
        size,
        archive_len: opened.archive_len,
        archive_sha512: opened.archive_sha512,
        manifest: verified.manifest.clone(),
    };
    Ok((verified, written))
}

fn recompress(archive: &[u8], tmp_dir: &Path) -> Result<(File, u64)> {
    use std::io::Write;
    let file = tempfile::tempfile_in(tmp_dir).map_err(Error::io(tmp_dir))?;
    let stream = Compression::default().encoder()?;
    let mut xz = xz2::write::XzEncoder::new_stream(std::io::BufWriter::new(file), stream);
    xz.write_all(archive).map_err(Error::io(tmp_dir))?;
    let mut file = xz
        .finish()
        .map_err(Error::io(tmp_dir))?
        .into_inner()
        .map_err(|e| Error::Io {
            path: tmp_dir.into(),
            source: e.into_error(),
        })?;
    let len = file.stream_position().map_err(Error::io(tmp_dir))?;
    Ok((file, len))
}
