//! `sandstorm-pkgdef.capnp`: the package definition Sandstorm's own `spk pack` would read to
//! build the same package from the staged files. It is printed from the very messages that go
//! into the `.spk`, so the two cannot disagree.

use capnp::dynamic_value;
use capnp::message::{Builder, HeapAllocator};
use sha2::Digest;
use soiree_schema::manifest_capnp::{bridge_config, manifest, package_definition};

/// Where the staged package files go, relative to the pkgdef.
pub const STAGED_ROOT: &str = "root";

/// Writes the pkgdef text for `app_id`, the manifest and the bridge config.
pub fn render(
    app_id: &str,
    manifest_msg: &Builder<HeapAllocator>,
    bridge: Option<&Builder<HeapAllocator>>,
) -> Result<String, String> {
    let mut def = Builder::new_default();
    {
        let mut d = def.init_root::<package_definition::Builder>();
        d.set_id(app_id);
        let m = manifest_msg
            .get_root_as_reader::<manifest::Reader>()
            .map_err(|e| e.to_string())?;
        d.set_manifest(m).map_err(|e| e.to_string())?;
        d.reborrow()
            .init_source_map()
            .init_search_path(1)
            .get(0)
            .set_source_path(STAGED_ROOT);
        d.reborrow().init_always_include(1).set(0, ".");
        if let Some(b) = bridge {
            let r = b
                .get_root_as_reader::<bridge_config::Reader>()
                .map_err(|e| e.to_string())?;
            d.set_bridge_config(r).map_err(|e| e.to_string())?;
        }
    }
    let reader = def
        .get_root_as_reader::<package_definition::Reader>()
        .map_err(|e| e.to_string())?;
    let mut body = String::new();
    print(dynamic_value::Reader::from(reader), 0, &mut body)?;
    // A file id derived from the app id: stable across builds, distinct between apps.
    let digest = sha2::Sha256::digest(app_id.as_bytes());
    let mut id = u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    id |= 1 << 63; // Cap'n Proto file ids have the top bit set.
    Ok(format!(
        "@{id:#018x};\n# Written by soiree-pack from party.toml; `soiree-pack build` rewrites it.\n\
         # Sandstorm's `spk pack` builds the same package from the files staged in ./{STAGED_ROOT}/.\n\n\
         using Spk = import \"/sandstorm/package.capnp\";\n\nconst pkgdef :Spk.PackageDefinition = {body};\n"
    ))
}

/// Prints a value in Cap'n Proto's text format (what `capnp eval` reads): like the capnp crate's
/// `Debug` output, but with `void`, Cap'n Proto string escapes, and an error for the opaque
/// values (AnyPointer, capabilities) that have no text form.
fn print(v: dynamic_value::Reader, depth: usize, out: &mut String) -> Result<(), String> {
    use dynamic_value::Reader as V;
    let e = |e: capnp::Error| e.to_string();
    match v {
        V::Void => out.push_str("void"),
        V::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        V::Int8(x) => out.push_str(&x.to_string()),
        V::Int16(x) => out.push_str(&x.to_string()),
        V::Int32(x) => out.push_str(&x.to_string()),
        V::Int64(x) => out.push_str(&x.to_string()),
        V::UInt8(x) => out.push_str(&x.to_string()),
        V::UInt16(x) => out.push_str(&x.to_string()),
        V::UInt32(x) => out.push_str(&x.to_string()),
        V::UInt64(x) => out.push_str(&x.to_string()),
        V::Float32(x) => out.push_str(&x.to_string()),
        V::Float64(x) => out.push_str(&x.to_string()),
        V::Enum(en) => match en.get_enumerant().map_err(e)? {
            Some(n) => out.push_str(
                n.get_proto()
                    .get_name()
                    .map_err(e)?
                    .to_str()
                    .map_err(|e| e.to_string())?,
            ),
            None => return Err(format!("enum value {} has no name", en.get_value())),
        },
        V::Text(t) => quote(t.as_bytes(), out),
        V::Data(d) => {
            out.push_str("0x\"");
            for b in d {
                out.push_str(&format!("{b:02x}"));
            }
            out.push('"');
        }
        V::List(list) => {
            if list.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in list.iter().enumerate() {
                newline(depth + 1, out);
                print(item.map_err(e)?, depth + 1, out)?;
                if i + 1 < list.len() as usize {
                    out.push(',');
                }
            }
            newline(depth, out);
            out.push(']');
        }
        V::Struct(st) => {
            let schema = st.get_schema();
            // Fields in declaration order; of a union, only the member that is set.
            let active = st.which().map_err(e)?;
            let mut fields = Vec::new();
            for f in schema.get_fields().map_err(e)? {
                let in_union = f.get_proto().get_discriminant_value() != 0xffff;
                let shown = if in_union {
                    active.is_some_and(|a| a.get_index() == f.get_index())
                        && (f.get_proto().get_discriminant_value() != 0 || st.has(f).map_err(e)?)
                } else {
                    st.has(f).map_err(e)?
                };
                if shown {
                    fields.push(f);
                }
            }
            if fields.is_empty() {
                out.push_str("()");
                return Ok(());
            }
            out.push('(');
            for (i, f) in fields.iter().enumerate() {
                newline(depth + 1, out);
                out.push_str(
                    f.get_proto()
                        .get_name()
                        .map_err(e)?
                        .to_str()
                        .map_err(|e| e.to_string())?,
                );
                out.push_str(" = ");
                print(st.get(*f).map_err(e)?, depth + 1, out)?;
                if i + 1 < fields.len() {
                    out.push(',');
                }
            }
            newline(depth, out);
            out.push(')');
        }
        V::AnyPointer(_) | V::Capability(_) => return Err("an opaque pointer has no text form".into()),
    }
    Ok(())
}

fn newline(depth: usize, out: &mut String) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// A Cap'n Proto string literal: printable ASCII as is, `\"` `\\` `\n` `\t`, other bytes `\xNN`.
fn quote(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn strings_use_capnp_escapes() {
        let mut out = String::new();
        quote("a\"b\\c\nd\té\u{1b}".as_bytes(), &mut out);
        assert_eq!(out, r#""a\"b\\c\nd\t\xc3\xa9\x1b""#);
    }
}
