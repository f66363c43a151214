//! `pack`, `verify`, `unpack` and `sign`.

use std::path::Path;

use serde_json::json;
use soiree_spk::display::Escaped;
use soiree_spk::{keys, Error, Verified};

use crate::cli::{CompressionArg, KeyringArg};
use crate::cmd_keys::{keyring, parse_app_id};
use crate::packing;
use soiree_build::Packer;

/// A bad `SOIREE_PACK_CACHE_SIZE` is a usage problem, reported like one.
fn packer(arg: &CompressionArg) -> Result<Packer, Error> {
    Packer::new(packing::compression(arg), !arg.no_cache).map_err(|e| Error::Io {
        path: "SOIREE_PACK_CACHE_SIZE".into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
    })
}

fn signing_key(arg: &KeyringArg, app_id: Option<&str>) -> Result<soiree_spk::KeyPair, Error> {
    let id = app_id.map(parse_app_id).transpose()?;
    keys::choose_signing_key(&keyring(arg)?, id.as_ref())
}

pub fn pack(
    dir: &Path,
    output: &Path,
    arg: &KeyringArg,
    app_id: Option<&str>,
    compression: &CompressionArg,
) -> Result<(), Error> {
    let packer = packer(compression)?;
    let key = signing_key(arg, app_id)?;
    let tree = soiree_spk::scan_for_packing(dir, soiree_spk::source_date_epoch_ns())?;
    let working = crate::progress::Working::start(
        format!("packing {}", dir.display()),
        Some(crate::progress::tree_bytes(&tree)),
    );
    let written = packer.pack(&tree, &key, output);
    working.finish();
    let written = written?;
    println!("app id      {}", written.app_id);
    println!("package id  {}", written.package_id);
    crate::ui::note(format_args!(
        "wrote {} ({} bytes; {})",
        output.display(),
        written.size,
        packing::describe(&written.blocks)
    ));
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

fn report_json(v: &Verified) -> serde_json::Value {
    let o = &v.opened;
    let m = &v.manifest;
    json!({
        "app_id": o.app_id.to_string(),
        "signer": o.signer.to_string(),
        "package_id": o.package_id.to_string(),
        "title": m.title,
        "version": m.app_version,
        "marketing_version": m.marketing_version,
        "min_upgradable_app_version": m.min_upgradable_app_version,
        "website": m.website,
        "code_url": m.code_url,
        "archive_sha512": hex(&o.archive_sha512),
        "file_size": o.file_size,
        "archive_size": o.archive_len,
        "files": v.stats.files,
        "directories": v.stats.directories,
        "symlinks": v.stats.symlinks,
        "content_bytes": v.stats.bytes,
        "filters": v.filters,
    })
}

/// Verifies `file`; an invalid package is reported on one line and exits 1.
pub fn verify(file: &Path, json: bool) -> Result<(), Error> {
    let v = soiree_spk::verify(file)?;
    if json {
        println!("{}", crate::json_line::line(&report_json(&v)));
        return Ok(());
    }
    let o = &v.opened;
    let m = &v.manifest;
    println!("app id          {}", o.app_id);
    if o.signer != o.app_id {
        println!("signed by       {} (a replacement key of this app)", o.signer);
    }
    println!("package id      {}", o.package_id);
    // The title and marketing version are the package's own text: escaped, so control
    // sequences in them cannot redraw the lines above (the app id).
    println!(
        "title           {}",
        Escaped(m.title.as_deref().unwrap_or("(none)"))
    );
    println!(
        "version         {} ({})",
        m.app_version,
        Escaped(m.marketing_version.as_deref().unwrap_or("no marketing version"))
    );
    println!("archive sha512  {}", hex(&o.archive_sha512));
    println!(
        "contents        {} files, {} directories, {} symlinks, {} bytes",
        v.stats.files, v.stats.directories, v.stats.symlinks, v.stats.bytes
    );
    // Plain LZMA2 is what every Sandstorm implementation reads; x86+lzma2 only Sandstorm's xz.
    println!(
        "filters         {}",
        v.filters
            .as_ref()
            .map(soiree_spk::filter_chains::describe)
            .unwrap_or_else(|| "(the xz streams have no index to read them from)".into())
    );
    Ok(())
}

pub fn unpack(file: &Path, dir: &Path) -> Result<(), Error> {
    let opened = soiree_spk::unpack(file, dir)?;
    println!("{}", opened.app_id);
    Ok(())
}

pub fn sign(
    input: &Path,
    output: &Path,
    arg: &KeyringArg,
    app_id: Option<&str>,
    verify: bool,
    compression: &CompressionArg,
) -> Result<(), Error> {
    let key = signing_key(arg, app_id)?;
    let (old_app_id, new_app_id, package_id) = if verify {
        let (verified, written) = soiree_spk::sign::resign(input, &key, output)?;
        (verified.opened.app_id, written.app_id, written.package_id)
    } else {
        let packer = packer(compression)?;
        let r =
            soiree_spk::sign::resign_fast(input, &key, output, packer.compression, packer.cache.as_ref())?;
        if let Some(stats) = &r.recompressed {
            eprintln!(
                "note: {} holds one xz stream, so its archive was recompressed ({})",
                input.display(),
                packing::describe(stats)
            );
            packer.trim();
        }
        (r.old_app_id, r.app_id, r.package_id)
    };
    if old_app_id != new_app_id {
        eprintln!("note: the app id changes from {old_app_id} to {new_app_id}");
    }
    println!("app id      {new_app_id}");
    println!("package id  {package_id}");
    Ok(())
}
