//! The block-compressed archive stream: what the real `xz` makes of it, the block cache (hits,
//! misses and damaged entries give byte-identical packages), parallel verify against the serial
//! reader, and re-signing without recompression.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use soiree_spk::{BlockCache, Compression};

/// Compressible, not trivially: 16 letters from a seeded xorshift.
fn noisy(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 16) as u8
        })
        .collect()
}

/// The sample tree plus files that get blocks of their own (one split in two) and a crowd of
/// small ones that are grouped.
fn block_tree(root: &Path) {
    sample_tree(root);
    write(&root.join("big/one.bin"), &noisy(2_500_000, 1));
    write(&root.join("big/two.bin"), &noisy(2_200_000, 2));
    write(&root.join("big/huge.bin"), &noisy(9 << 20, 3));
    for i in 0..300 {
        write(
            &root.join(format!("small/f{i:03}.txt")),
            &noisy(2_000 + 37 * i, 100 + i as u64),
        );
    }
}

fn fast_one_thread() -> Compression {
    Compression {
        threads: 1,
        ..Compression::fast()
    }
}

fn pack_with(root: &Path, out: &Path, c: Compression, cache: Option<&BlockCache>) -> soiree_spk::Written {
    let tree = soiree_spk::scan_for_packing(root, Some(1_700_000_000_000_000_000)).unwrap();
    soiree_spk::pack_cached(&tree, &key(3), out, c, cache).unwrap()
}

/// The xz streams after the magic, as a file the xz tool can read.
fn xz_file(spk: &Path) -> PathBuf {
    let xz = spk.with_extension("xz");
    std::fs::write(&xz, &std::fs::read(spk).unwrap()[8..]).unwrap();
    xz
}

/// `xz --robot --list`: blocks per stream.
fn blocks_per_stream(spk: &Path) -> Vec<u64> {
    xz_list(spk, "-v")
        .lines()
        .filter(|l| l.starts_with("stream\t"))
        .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn real_xz_tests_decompresses_and_lists_the_blocks() {
    let t = tempfile::tempdir().unwrap();
    block_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    let w = pack_with(&t.path().join("app"), &spk, Compression::default(), None);
    let xz = xz_file(&spk);
    let test = Command::new("xz").arg("-t").arg(&xz).status().unwrap();
    assert!(test.success(), "xz -t rejects the package");
    let blocks = blocks_per_stream(&spk);
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    assert_eq!(blocks[0], 1, "the signature stream");
    // one.bin, two.bin, huge.bin in two chunks, and the groups around them.
    assert!(blocks[1] >= 5, "{blocks:?}");
    assert_eq!(blocks[1], w.blocks.blocks);
    let payload = xz_payload(&spk);
    let (_, archive) = split_first_message(&payload);
    let opened = soiree_spk::open(&spk).unwrap();
    assert_eq!(archive, opened.archive_bytes());
    soiree_spk::verify(&spk).unwrap();
}

#[test]
fn every_block_records_its_sizes_so_xz_can_decompress_in_parallel() {
    let t = tempfile::tempdir().unwrap();
    block_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_with(&t.path().join("app"), &spk, Compression::fast(), None);
    let text = xz_list(&spk, "-vv");
    let block_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("block\t")).collect();
    assert!(block_lines.len() > 5, "{text}");
    // With -vv, column 12 is the block header's own flags: `cu` = both sizes present.
    for line in &block_lines[1..] {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[12], "cu", "{line}");
    }
}

#[test]
fn cache_hits_threads_and_misses_give_byte_identical_packages() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    block_tree(&app);
    let cache = BlockCache::at(t.path().join("cache"));
    let cold = t.path().join("cold.spk");
    let w1 = pack_with(&app, &cold, Compression::fast(), Some(&cache));
    assert_eq!(w1.blocks.compressed, w1.blocks.blocks);
    assert_eq!(w1.blocks.from_cache, 0);
    let warm = t.path().join("warm.spk");
    let w2 = pack_with(&app, &warm, Compression::fast(), Some(&cache));
    assert_eq!(w2.blocks.compressed, 0, "an unchanged tree compresses nothing");
    assert_eq!(w2.blocks.from_cache, w1.blocks.blocks);
    let uncached = t.path().join("uncached.spk");
    pack_with(&app, &uncached, fast_one_thread(), None);
    let bytes = std::fs::read(&cold).unwrap();
    assert_eq!(bytes, std::fs::read(&warm).unwrap());
    assert_eq!(bytes, std::fs::read(&uncached).unwrap());
    // Settings are part of the key: the default preset shares nothing with the fast one.
    let w3 = pack_with(
        &app,
        &t.path().join("default.spk"),
        Compression::default(),
        Some(&cache),
    );
    assert_eq!(w3.blocks.from_cache, 0);
}

#[test]
fn a_changed_file_recompresses_only_its_own_blocks() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    block_tree(&app);
    let cache = BlockCache::at(t.path().join("cache"));
    let first = pack_with(&app, &t.path().join("a.spk"), Compression::fast(), Some(&cache));
    // Same size, new bytes: its block and the directory table that lists it (the mtime is
    // clamped, so the table is unchanged here).
    write(&app.join("big/one.bin"), &noisy(2_500_000, 77));
    let b = t.path().join("b.spk");
    let second = pack_with(&app, &b, Compression::fast(), Some(&cache));
    assert_eq!(second.blocks.compressed, 1, "{:?}", second.blocks);
    assert_eq!(second.blocks.blocks, first.blocks.blocks);
    // A file that grows shifts every offset after it; the blocks of later files still hit.
    write(&app.join("big/one.bin"), &noisy(2_600_001, 78));
    let c = t.path().join("c.spk");
    let third = pack_with(&app, &c, Compression::fast(), Some(&cache));
    // Its own block, and the first group (segment table, root and `big` directory tables).
    assert_eq!(third.blocks.compressed, 2, "{:?}", third.blocks);
    let fresh = t.path().join("fresh.spk");
    pack_with(&app, &fresh, fast_one_thread(), None);
    assert_eq!(std::fs::read(&c).unwrap(), std::fs::read(&fresh).unwrap());
    soiree_spk::verify(&b).unwrap();
    soiree_spk::verify(&c).unwrap();
}

fn cache_entries(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir(root);
    v.sort();
    v
}

fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(root) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn damaged_cache_entries_are_detected_rebuilt_and_never_packed() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    block_tree(&app);
    let cache_dir = t.path().join("cache");
    let cache = BlockCache::at(&cache_dir);
    let good = t.path().join("good.spk");
    let w = pack_with(&app, &good, Compression::fast(), Some(&cache));
    let entries = cache_entries(&cache_dir);
    assert_eq!(entries.len() as u64, w.blocks.blocks);

    // A flipped bit in every entry, at a different place each time.
    for (i, e) in entries.iter().enumerate() {
        let mut raw = std::fs::read(e).unwrap();
        let at = (i * 7919) % raw.len();
        raw[at] ^= 0x10;
        std::fs::write(e, raw).unwrap();
    }
    let again = t.path().join("again.spk");
    let w2 = pack_with(&app, &again, Compression::fast(), Some(&cache));
    assert_eq!(w2.blocks.corrupt_entries, w.blocks.blocks, "{:?}", w2.blocks);
    assert_eq!(w2.blocks.compressed, w.blocks.blocks);
    assert_eq!(std::fs::read(&good).unwrap(), std::fs::read(&again).unwrap());

    // A whole, self-consistent entry under another block's name: wrong for that block.
    let entries = cache_entries(&cache_dir);
    std::fs::copy(&entries[0], &entries[1]).unwrap();
    std::fs::write(&entries[2], b"").unwrap();
    let third = t.path().join("third.spk");
    let w3 = pack_with(&app, &third, Compression::fast(), Some(&cache));
    assert_eq!(w3.blocks.corrupt_entries, 2, "{:?}", w3.blocks);
    assert_eq!(std::fs::read(&good).unwrap(), std::fs::read(&third).unwrap());
}

#[test]
fn the_cache_is_trimmed_least_recently_used_first_and_cleaned() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    block_tree(&app);
    let cache_dir = t.path().join("cache");
    let cache = BlockCache::at(&cache_dir);
    pack_with(&app, &t.path().join("a.spk"), Compression::fast(), Some(&cache));
    let entries = cache_entries(&cache_dir);
    let sizes: Vec<u64> = entries.iter().map(|e| e.metadata().unwrap().len()).collect();
    let total: u64 = sizes.iter().sum();
    // Make the first entry the oldest.
    filetime::set_file_mtime(&entries[0], filetime::FileTime::from_unix_time(1_000_000_000, 0)).unwrap();
    let trimmed = cache.trim(total - 1).unwrap();
    assert_eq!(trimmed.removed, 1);
    assert!(!entries[0].exists());
    assert!(entries[1..].iter().all(|e| e.exists()));
    let cleaned = cache.clean().unwrap();
    assert_eq!(cleaned.removed as usize, entries.len() - 1);
    assert!(cache_entries(&cache_dir).is_empty());
}

#[test]
fn parallel_and_serial_readers_agree() {
    let t = tempfile::tempdir().unwrap();
    block_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_with(&t.path().join("app"), &spk, Compression::fast(), None);
    let parallel = soiree_spk::open(&spk).unwrap();
    let serial = soiree_spk::read::open_serial(&spk).unwrap();
    assert_eq!(parallel.archive_bytes(), serial.archive_bytes());
    assert_eq!(parallel.archive_sha512, serial.archive_sha512);
    assert_eq!(parallel.package_id, serial.package_id);
    assert_eq!(parallel.app_id, serial.app_id);
    assert_eq!(parallel.signature_len, serial.signature_len);
    assert_eq!(parallel.file_size, serial.file_size);
    assert_eq!(parallel.archive_len, serial.archive_len);
}

#[test]
fn damage_in_any_block_is_reported_as_the_serial_reader_reports_it() {
    let t = tempfile::tempdir().unwrap();
    block_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_with(&t.path().join("app"), &spk, Compression::fast(), None);
    let bytes = std::fs::read(&spk).unwrap();
    for at in [
        bytes.len() / 5,
        bytes.len() / 2,
        bytes.len() - 40,
        bytes.len() - 3,
    ] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let path = t.path().join(format!("bad-{at}.spk"));
        std::fs::write(&path, &bad).unwrap();
        let parallel = soiree_spk::verify(&path).err().map(|e| e.to_string());
        let serial = soiree_spk::read::open_serial(&path).err().map(|e| e.to_string());
        assert!(parallel.is_some(), "a flipped bit at {at} was not noticed");
        assert_eq!(parallel, serial, "at {at}");
    }
}

/// The bytes after the signature stream.
fn archive_stream(spk: &Path) -> Vec<u8> {
    let bytes = std::fs::read(spk).unwrap();
    let text = xz_list(spk, "-v");
    let second = text.lines().filter(|l| l.starts_with("stream\t")).nth(1).unwrap();
    // Column 3 is the stream's compressed offset in the file given to xz.
    let offset: usize = second.split('\t').nth(3).unwrap().parse().unwrap();
    bytes[8 + offset..].to_vec()
}

#[test]
fn fast_resign_copies_the_archive_stream_and_verifies() {
    let t = tempfile::tempdir().unwrap();
    block_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_with(&t.path().join("app"), &spk, Compression::fast(), None);
    let out = t.path().join("resigned.spk");
    let r = soiree_spk::sign::resign_fast(&spk, &key(9), &out, Compression::fast(), None).unwrap();
    assert!(r.recompressed.is_none());
    assert_eq!(r.app_id, key(9).app_id());
    assert_eq!(r.old_app_id, key(3).app_id());
    assert_eq!(archive_stream(&spk), archive_stream(&out));
    let v = soiree_spk::verify(&out).unwrap();
    assert_eq!(v.opened.app_id, key(9).app_id());
    assert_eq!(v.opened.package_id, r.package_id);
}

#[test]
fn fast_resign_of_a_single_stream_package_recompresses_in_blocks() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_dir(&t.path().join("app"), &key(4), &spk);
    // spk's layout: signature and archive in one stream.
    let single = t.path().join("single.spk");
    std::fs::write(&single, spk_from_payload(&xz_payload(&spk))).unwrap();
    let out = t.path().join("out.spk");
    let cache = BlockCache::at(t.path().join("cache"));
    let r = soiree_spk::sign::resign_fast(&single, &key(5), &out, Compression::fast(), Some(&cache)).unwrap();
    assert!(r.recompressed.is_some());
    assert_eq!(soiree_spk::verify(&out).unwrap().opened.app_id, key(5).app_id());
    assert_eq!(blocks_per_stream(&out).len(), 2);
}

#[test]
fn fast_resign_refuses_a_package_whose_signature_is_broken() {
    let t = tempfile::tempdir().unwrap();
    block_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_with(&t.path().join("app"), &spk, Compression::fast(), None);
    let payload = xz_payload(&spk);
    let (sig, archive) = split_first_message(&payload);
    // The same archive stream behind a signature over a different digest.
    let mut other = sig.to_vec();
    let last = other.len() - 20;
    other[last] ^= 1;
    let mut bad = soiree_schema::SPK_MAGIC.to_vec();
    let mut enc = xz2::write::XzEncoder::new(Vec::new(), 6);
    std::io::Write::write_all(&mut enc, &other).unwrap();
    bad.extend(enc.finish().unwrap());
    bad.extend(archive_stream(&spk));
    let _ = archive;
    let path = t.path().join("bad.spk");
    std::fs::write(&path, bad).unwrap();
    let out = t.path().join("out.spk");
    assert!(soiree_spk::sign::resign_fast(&path, &key(9), &out, Compression::fast(), None).is_err());
    assert!(!out.exists());
}

#[test]
fn groups_of_small_files_cut_where_names_say_and_resynchronise() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    for i in 0..2500u64 {
        write(
            &app.join(format!("many/f{i:04}.txt")),
            &noisy(8_000 + (i as usize * 13) % 900, i + 7),
        );
    }
    let cache = BlockCache::at(t.path().join("cache"));
    let first = pack_with(&app, &t.path().join("a.spk"), Compression::fast(), Some(&cache));
    assert!(first.blocks.blocks >= 4, "{:?}", first.blocks);
    // An early small file grows: every later offset shifts, yet later groups end where they
    // did (before the same names) and come from the cache.
    write(&app.join("many/f0003.txt"), &noisy(9_500, 1234));
    let second = pack_with(&app, &t.path().join("b.spk"), Compression::fast(), Some(&cache));
    // Only the metadata block (the tables' pointers moved) and the first group (the file that
    // grew).
    assert_eq!(second.blocks.compressed, 2, "{:?}", second.blocks);
    assert_eq!(
        second.blocks.from_cache,
        first.blocks.blocks - 2,
        "{:?}",
        second.blocks
    );
    soiree_spk::verify(&t.path().join("b.spk")).unwrap();

    // Touching a file changes only its mtime in the tables: one small block is compressed.
    let touched = app.join("many/f2000.txt");
    let f = std::fs::File::options().write(true).open(&touched).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30))
        .unwrap();
    drop(f);
    let third = pack_with(&app, &t.path().join("c.spk"), Compression::fast(), Some(&cache));
    assert_eq!(third.blocks.compressed, 1, "{:?}", third.blocks);
    assert!(
        third.blocks.bytes_compressed < 200_000,
        "only the tables: {:?}",
        third.blocks
    );
    soiree_spk::verify(&t.path().join("c.spk")).unwrap();
}

#[test]
fn a_changed_megabyte_file_recompresses_its_own_block_and_the_tables_only() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    for i in 0..1500u64 {
        write(&app.join(format!("small/f{i:04}.txt")), &noisy(5_000, i + 11));
    }
    write(&app.join("small/mid.bin"), &noisy(1_019_408, 99));
    let cache = BlockCache::at(t.path().join("cache"));
    let first = pack_with(&app, &t.path().join("a.spk"), Compression::fast(), Some(&cache));
    // Same size, new bytes in the middle (the mtime is clamped to the epoch): nothing else moves.
    let mut bytes = std::fs::read(app.join("small/mid.bin")).unwrap();
    bytes[500_000..565_536].fill(b'#');
    write(&app.join("small/mid.bin"), &bytes);
    let second = pack_with(&app, &t.path().join("b.spk"), Compression::fast(), Some(&cache));
    // The block the file ends, not a whole group of its neighbours.
    assert_eq!(second.blocks.compressed, 1, "{:?}", second.blocks);
    assert_eq!(
        second.blocks.from_cache,
        first.blocks.blocks - 1,
        "{:?}",
        second.blocks
    );
    // At most 2 MiB of its neighbours before it in its block.
    let n = second.blocks.bytes_compressed;
    assert!(
        (1_019_408..=1_019_408 + (2 << 20)).contains(&n),
        "{:?}",
        second.blocks
    );
    soiree_spk::verify(&t.path().join("b.spk")).unwrap();
}
