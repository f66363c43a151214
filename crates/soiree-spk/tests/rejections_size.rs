//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: size, and archives from other writers (many segments).

mod common;
use common::craft::*;
use common::*;

use std::io::Write;
use std::path::Path;

use capnp::message::{AllocationStrategy, Builder, HeapAllocator};
use soiree_spk::Error;

// Size
// ---------------------------------------------------------------------------------------------

/// One xz stream of `n` zero bytes, streamed through the encoder (never held in memory).
fn xz_zeros(n: u64) -> Vec<u8> {
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 0);
    let chunk = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        xz.write_all(&chunk[..k]).unwrap();
        left -= k as u64;
    }
    xz.finish().unwrap()
}

// SLOW-ISH (~10 s): each of the two reads below decompresses, hashes and spools 1 GiB of zeros.
// Nothing big is built: the package is concatenated xz streams (which `xz -dc` and the reader
// accept), each of 256 MiB of zeros compressed to ~40 KB.
#[test]
fn archive_over_one_gib_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    const QUARTER: u64 = 1 << 28;
    assert_eq!(4 * QUARTER, soiree_spk::limits::MAX_ARCHIVE_SIZE);
    let zeros = xz_zeros(QUARTER);
    // A valid signature, over a digest that is not the archive's: the size check comes first,
    // so a mismatch (not ArchiveTooBig) proves the archive was accepted as far as its size.
    let sig = soiree_spk::signature::sign(&key(1), &sha512(b"not the archive"));
    let head = spk_from_payload(&sig);

    // Exactly 1 GiB after the signature: allowed by the size rule.
    let mut exact = head.clone();
    for _ in 0..4 {
        exact.extend_from_slice(&zeros);
    }
    let spk = save(t.path(), "exact.spk", &exact);
    let err = open_err(&spk);
    assert!(matches!(err, Error::DigestMismatch), "{err:?}");

    // 1 GiB + 1 byte and then 3 GiB more: rejected, and reading stops at 1 GiB + 1.
    let mut over = exact;
    over.extend_from_slice(&spk_from_payload(&[0])[8..]);
    for _ in 0..12 {
        over.extend_from_slice(&zeros);
    }
    let spk = save(t.path(), "over.spk", &over);
    let started = std::time::Instant::now();
    let err = verify_err(&spk);
    assert!(
        matches!(err, Error::ArchiveTooBig { limit } if limit == 1 << 30),
        "{err:?}"
    );
    // (`unpack` reads through the same `open`; not repeated here to keep the test short.)
    eprintln!("rejecting a 4 GiB archive took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Archives from other writers: many segments
// ---------------------------------------------------------------------------------------------

/// Builds an archive where every object lands in its own segment, reached by far pointers.
fn fragmented_archive(files: usize) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let m = good_manifest();
    let contents: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| {
            (
                format!("file-{i:04}"),
                format!("contents of file {i}\n").repeat(i % 7 + 1).into_bytes(),
            )
        })
        .collect();
    let b = Builder::new(
        HeapAllocator::new()
            .first_segment_words(1)
            .allocation_strategy(AllocationStrategy::FixedSize),
    );
    let dir: Vec<(&str, E)> = contents
        .iter()
        .map(|(n, c)| (n.as_str(), if c.len() % 2 == 0 { E::Reg(c) } else { E::Exe(c) }))
        .collect();
    let archive = archive_with(
        b,
        &[
            ("sandstorm-manifest", E::Reg(&m)),
            ("data", E::Dir(dir)),
            ("link", E::Link("data/file-0000")),
        ],
    );
    (archive, contents)
}

fn segment_count(msg: &[u8]) -> u32 {
    u32::from_le_bytes(msg[..4].try_into().unwrap()) + 1
}

fn check_fragmented(files: usize) -> u32 {
    let t = tempfile::tempdir().unwrap();
    let (archive, contents) = fragmented_archive(files);
    let segments = segment_count(&archive);
    let spk = save_payload(t.path(), "fragmented.spk", &signed_payload(&key(3), &archive));
    let v = soiree_spk::verify(&spk).unwrap();
    assert_eq!(v.stats.segments, u64::from(segments));
    assert_eq!(v.stats.files, files as u64 + 1);
    assert_eq!(v.manifest.title.as_deref(), Some("Test App"));
    let out = t.path().join("out");
    let opened = soiree_spk::unpack(&spk, &out).unwrap();
    assert_eq!(opened.app_id, key(3).app_id());
    for (name, data) in &contents {
        let path = out.join("data").join(name);
        assert_eq!(&std::fs::read(&path).unwrap(), data, "{name}");
        use std::os::unix::fs::PermissionsExt;
        let exec = std::fs::metadata(&path).unwrap().permissions().mode() & 0o100 != 0;
        assert_eq!(exec, data.len() % 2 == 1, "{name}");
    }
    assert_eq!(
        std::fs::read(out.join("sandstorm-manifest")).unwrap(),
        good_manifest()
    );
    assert_eq!(
        std::fs::read_link(out.join("link")).unwrap(),
        Path::new("data/file-0000")
    );
    segments
}

#[test]
fn multi_segment_archive_with_far_pointers_is_accepted() {
    let segments = check_fragmented(20);
    assert!(segments > 20, "{segments} segments");
}

#[test]
fn archive_with_more_than_512_segments_is_accepted() {
    let (archive, _) = fragmented_archive(400);
    assert!(
        segment_count(&archive) > 512,
        "{} segments",
        segment_count(&archive)
    );
    // The capnp crate's own readers refuse this message; Sandstorm's FlatArrayMessageReader,
    // and ours, do not.
    let words = soiree_spk::message::aligned(&archive);
    assert!(capnp::serialize::read_message_from_flat_slice(
        &mut capnp::Word::words_to_bytes(&words),
        capnp::message::ReaderOptions::new()
    )
    .is_err());
    assert!(check_fragmented(400) > 512);
}

// ---------------------------------------------------------------------------------------------
