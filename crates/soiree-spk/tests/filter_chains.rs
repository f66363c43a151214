//! Every xz stream of a package is plain LZMA2 unless the x86 filter was asked for, so readers
//! without BCJ filters (Tempest's) can read it: checked with the real `xz --robot --list -vv` on
//! every block, and by decompressing the package with lzma-rs, a pure-Rust xz reader that knows
//! LZMA2 and no other filter, which must also refuse a package made with the x86 filter.

mod common;
use common::*;

use std::path::Path;

use soiree_spk::Compression;

/// Real shared libraries of this machine (x86-64 ELF; `.ci/run` runs on x86-64 Debian): one
/// big enough for blocks of its own, the rest grouped with the tree's small files.
const LIBS: [&str; 4] = ["libc.so.6", "libstdc++.so.6", "libm.so.6", "libz.so.1"];

fn elf_tree(root: &Path) {
    sample_tree(root);
    for lib in LIBS {
        let from = Path::new("/usr/lib/x86_64-linux-gnu").join(lib);
        let bytes = std::fs::read(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        assert_eq!(&bytes[..4], b"\x7fELF", "{}", from.display());
        write(&root.join("lib").join(lib), &bytes);
    }
}

fn pack(root: &Path, out: &Path, x86_filter: bool) {
    let tree = soiree_spk::scan_for_packing(root, Some(1_700_000_000_000_000_000)).unwrap();
    let c = Compression {
        x86_filter,
        ..Compression::fast()
    };
    soiree_spk::pack(&tree, &key(6), out, c).unwrap();
}

/// Each stream's blocks' filter chains as `xz --robot --list -vv` prints them (last column of
/// each `block` line, e.g. `--x86 --lzma2=dict=2MiB`), read from the streams after the magic.
fn chains_by_xz(spk: &Path) -> Vec<Vec<String>> {
    let mut streams: Vec<Vec<String>> = Vec::new();
    for line in xz_list(spk, "-vv").lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols[0] != "block" {
            continue;
        }
        let stream: usize = cols[1].parse().unwrap();
        if streams.len() < stream {
            streams.resize(stream, Vec::new());
        }
        streams[stream - 1].push(cols.last().unwrap().to_string());
    }
    streams
}

/// `--lzma2=dict=…` and nothing else.
fn plain_lzma2(chain: &str) -> bool {
    chain.starts_with("--lzma2=") && !chain.contains(' ')
}

/// Where each xz stream of the package starts and how long it is, after the magic (columns 3
/// and 5 of `xz --robot --list -v`'s `stream` lines).
fn stream_spans(spk: &Path) -> Vec<(usize, usize)> {
    xz_list(spk, "-v")
        .lines()
        .filter(|l| l.starts_with("stream\t"))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[3].parse().unwrap(), cols[5].parse().unwrap())
        })
        .collect()
}

/// The package's xz streams decompressed one after the other by lzma-rs, which reads exactly
/// one stream from its whole input.
fn lzma_rs_payload(spk: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(spk).unwrap();
    let spans = stream_spans(spk);
    assert_eq!(spans.len(), 2, "signature and archive streams");
    let mut out = Vec::new();
    for (at, len) in spans {
        let mut stream = &bytes[8 + at..8 + at + len];
        lzma_rs::xz_decompress(&mut stream, &mut out).map_err(|e| format!("{e:?}"))?;
    }
    Ok(out)
}

#[test]
fn by_default_every_block_of_every_stream_is_plain_lzma2() {
    let t = tempfile::tempdir().unwrap();
    elf_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack(&t.path().join("app"), &spk, false);
    let streams = chains_by_xz(&spk);
    assert_eq!(streams.len(), 2, "{streams:?}");
    assert_eq!(streams[0].len(), 1, "the signature stream: {streams:?}");
    assert!(streams[1].len() >= 3, "{streams:?}");
    for chain in streams.iter().flatten() {
        assert!(plain_lzma2(chain), "not plain LZMA2: {chain} in {streams:?}");
    }
    let v = soiree_spk::verify(&spk).unwrap();
    let blocks = streams.iter().map(Vec::len).sum::<usize>() as u64;
    let filters = v.filters.unwrap();
    assert_eq!(
        filters.into_iter().collect::<Vec<_>>(),
        [("lzma2".to_string(), blocks)]
    );
}

#[test]
fn the_x86_filter_is_used_for_machine_code_only_when_asked() {
    let t = tempfile::tempdir().unwrap();
    elf_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack(&t.path().join("app"), &spk, true);
    let streams = chains_by_xz(&spk);
    assert_eq!(streams.len(), 2, "{streams:?}");
    assert!(plain_lzma2(&streams[0][0]), "the signature stream: {streams:?}");
    let x86 = streams[1]
        .iter()
        .filter(|c| c.starts_with("--x86 --lzma2="))
        .count();
    assert!(
        x86 >= 1,
        "no block of machine code got the x86 filter: {streams:?}"
    );
    let v = soiree_spk::verify(&spk).unwrap();
    let filters = v.filters.unwrap();
    assert_eq!(filters.get("x86+lzma2"), Some(&(x86 as u64)), "{filters:?}");
    assert_eq!(
        filters.get("lzma2"),
        Some(&(streams.iter().flatten().count() as u64 - x86 as u64)),
        "{filters:?}"
    );
}

#[test]
fn a_reader_without_bcj_filters_reads_the_default_package_and_refuses_the_x86_one() {
    let t = tempfile::tempdir().unwrap();
    elf_tree(&t.path().join("app"));
    let plain = t.path().join("plain.spk");
    pack(&t.path().join("app"), &plain, false);
    let payload = lzma_rs_payload(&plain).unwrap();
    let opened = soiree_spk::open(&plain).unwrap();
    assert_eq!(payload.len() as u64, opened.signature_len + opened.archive_len);
    assert_eq!(&payload[opened.signature_len as usize..], opened.archive_bytes());

    let x86 = t.path().join("x86.spk");
    pack(&t.path().join("app"), &x86, true);
    let refused = lzma_rs_payload(&x86).unwrap_err();
    assert!(refused.contains("filter"), "{refused}");
    // Sandstorm's own reader, xz, takes both.
    soiree_spk::verify(&x86).unwrap();
}
