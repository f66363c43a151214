//! `cargo xtask schema-check`: compare the compiled layout of soiree-pack's schema with
//! Sandstorm's own schema files (ids, data/pointer sizes, field offsets, types, defaults).

use capnp::schema_capnp::{field, node, type_, value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::codegen::{schema_dir, SCHEMA_FILES};

/// Sandstorm files whose types soiree-pack's schema mirrors.
const SANDSTORM_FILES: &[&str] = &[
    "sandstorm/package.capnp",
    "sandstorm/util.capnp",
    "sandstorm/powerbox.capnp",
    "sandstorm/grain.capnp",
    "sandstorm/api-session.capnp",
    "sandstorm/ip.capnp",
    "sandstorm/identity.capnp",
    "sandstorm/activity.capnp",
    "sandstorm/web-session.capnp",
    "sandstorm/sandstorm-http-bridge.capnp",
];

/// What a successful comparison covered.
#[derive(Debug, Default)]
pub struct Summary {
    pub structs: usize,
    pub enums: usize,
    pub interfaces: usize,
    pub methods: usize,
    pub fields: usize,
}

/// Compiles both schema sets with the `capnp` tool and compares every node soiree-pack declares.
pub fn check(root: &Path, sandstorm_include: &Path) -> Result<Summary, Vec<String>> {
    let ours_dir = schema_dir(root);
    let ours_files: Vec<String> = SCHEMA_FILES.iter().map(|f| f.to_string()).collect();
    let theirs_files: Vec<String> = SANDSTORM_FILES.iter().map(|f| f.to_string()).collect();
    let ours = compile(&ours_dir, &ours_files).map_err(|e| vec![e])?;
    let theirs = compile(sandstorm_include, &theirs_files).map_err(|e| vec![e])?;
    compare(&ours, &theirs)
}

fn compile(include: &Path, files: &[String]) -> Result<Vec<u8>, String> {
    let out = Command::new("capnp")
        .arg("compile")
        .arg("-o-")
        .arg("-I")
        .arg(include)
        .arg(format!("--src-prefix={}", include.display()))
        .args(files.iter().map(|f| include.join(f)))
        .output()
        .map_err(|e| format!("cannot run `capnp` ({e}); install it with `apt-get install capnproto`"))?;
    if !out.status.success() {
        return Err(format!(
            "capnp compile failed in {}:\n{}",
            include.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

type Nodes<'a> = BTreeMap<u64, node::Reader<'a>>;

fn nodes<'a>(msg: &'a capnp::message::Reader<capnp::serialize::OwnedSegments>) -> Result<Nodes<'a>, String> {
    let req: capnp::schema_capnp::code_generator_request::Reader<'a> =
        msg.get_root().map_err(|e| e.to_string())?;
    let mut map = BTreeMap::new();
    for n in req.get_nodes().map_err(|e| e.to_string())? {
        map.insert(n.get_id(), n);
    }
    Ok(map)
}

fn read(bytes: &[u8]) -> Result<capnp::message::Reader<capnp::serialize::OwnedSegments>, String> {
    let mut opts = capnp::message::ReaderOptions::new();
    opts.traversal_limit_in_words(Some(1 << 26));
    capnp::serialize::read_message(&mut &bytes[..], opts).map_err(|e| e.to_string())
}

fn compare(ours: &[u8], theirs: &[u8]) -> Result<Summary, Vec<String>> {
    let ours_msg = read(ours).map_err(|e| vec![e])?;
    let theirs_msg = read(theirs).map_err(|e| vec![e])?;
    let ours = nodes(&ours_msg).map_err(|e| vec![e])?;
    let theirs = nodes(&theirs_msg).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut summary = Summary::default();
    for (id, n) in &ours {
        let name = n
            .get_display_name()
            .ok()
            .and_then(|t| t.to_str().ok())
            .unwrap_or("?")
            .to_string();
        let which = match n.which() {
            Ok(w) => w,
            Err(e) => {
                errors.push(format!("{name}: {e}"));
                continue;
            }
        };
        let t = match theirs.get(id) {
            Some(t) => t,
            None => {
                if !matches!(which, node::File(()) | node::Const(_) | node::Annotation(_)) {
                    errors.push(format!(
                        "{name} ({id:#x}): no node with this id in Sandstorm's schema"
                    ));
                }
                continue;
            }
        };
        let Ok(their) = t.which() else {
            errors.push(format!("{name}: unreadable Sandstorm node"));
            continue;
        };
        match (which, their) {
            (node::Struct(a), node::Struct(b)) => {
                summary.structs += 1;
                summary.fields += compare_struct(&name, a, b, &mut errors);
            }
            (node::Enum(a), node::Enum(b)) => {
                summary.enums += 1;
                let names = |e: node::enum_::Reader| -> Vec<String> {
                    e.get_enumerants()
                        .map(|l| {
                            l.iter()
                                .map(|x| {
                                    x.get_name()
                                        .ok()
                                        .and_then(|t| t.to_str().ok())
                                        .unwrap_or("")
                                        .to_string()
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                };
                if names(a) != names(b) {
                    errors.push(format!(
                        "{name}: enumerants differ: {:?} vs {:?}",
                        names(a),
                        names(b)
                    ));
                }
            }
            (node::Interface(a), node::Interface(b)) => {
                summary.interfaces += 1;
                summary.methods += compare_interface(&name, a, b, &mut errors);
            }
            (node::Const(_), node::Const(_))
            | (node::Annotation(_), node::Annotation(_))
            | (node::File(()), node::File(())) => {}
            _ => errors.push(format!("{name} ({id:#x}): kind differs from Sandstorm's node")),
        }
    }
    if errors.is_empty() {
        Ok(summary)
    } else {
        Err(errors)
    }
}

fn compare_struct(
    name: &str,
    a: node::struct_::Reader,
    b: node::struct_::Reader,
    errors: &mut Vec<String>,
) -> usize {
    let sizes = |s: node::struct_::Reader| {
        (
            s.get_data_word_count(),
            s.get_pointer_count(),
            s.get_is_group(),
            s.get_discriminant_count(),
            if s.get_discriminant_count() > 0 {
                s.get_discriminant_offset()
            } else {
                0
            },
        )
    };
    if sizes(a) != sizes(b) {
        errors.push(format!(
            "{name}: (data words, pointers, group, union members, union tag offset) {:?} vs Sandstorm {:?}",
            sizes(a),
            sizes(b)
        ));
    }
    let their_fields: BTreeMap<String, field::Reader> = b
        .get_fields()
        .map(|l| {
            l.iter()
                .map(|f| {
                    (
                        f.get_name()
                            .ok()
                            .and_then(|t| t.to_str().ok())
                            .unwrap_or("")
                            .to_string(),
                        f,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut count = 0;
    for f in a.get_fields().into_iter().flatten() {
        count += 1;
        let fname = f
            .get_name()
            .ok()
            .and_then(|t| t.to_str().ok())
            .unwrap_or("")
            .to_string();
        let Some(g) = their_fields.get(&fname) else {
            errors.push(format!("{name}.{fname}: Sandstorm has no field of this name"));
            continue;
        };
        if f.get_discriminant_value() != g.get_discriminant_value() {
            errors.push(format!("{name}.{fname}: union tag differs"));
        }
        let ord = |f: &field::Reader| match f.get_ordinal().which() {
            Ok(field::ordinal::Explicit(n)) => Some(n),
            _ => None,
        };
        if ord(&f) != ord(g) {
            errors.push(format!(
                "{name}.{fname}: ordinal {:?} vs Sandstorm {:?}",
                ord(&f),
                ord(g)
            ));
        }
        match (f.which(), g.which()) {
            (Ok(field::Slot(x)), Ok(field::Slot(y))) => {
                if x.get_offset() != y.get_offset() {
                    errors.push(format!(
                        "{name}.{fname}: offset {} vs Sandstorm {}",
                        x.get_offset(),
                        y.get_offset()
                    ));
                }
                match (x.get_type(), y.get_type()) {
                    (Ok(tx), Ok(ty)) => {
                        let (sx, sy) = (type_sig(tx), type_sig(ty));
                        if sx != sy {
                            errors.push(format!("{name}.{fname}: type {sx} vs Sandstorm {sy}"));
                        }
                    }
                    _ => errors.push(format!("{name}.{fname}: unreadable type")),
                }
                let (dx, dy) = (
                    x.get_default_value().ok().map(value_sig),
                    y.get_default_value().ok().map(value_sig),
                );
                if dx != dy {
                    errors.push(format!("{name}.{fname}: default {dx:?} vs Sandstorm {dy:?}"));
                }
            }
            (Ok(field::Group(x)), Ok(field::Group(y))) => {
                if x.get_type_id() != y.get_type_id() {
                    errors.push(format!(
                        "{name}.{fname}: group id {:#x} vs Sandstorm {:#x}",
                        x.get_type_id(),
                        y.get_type_id()
                    ));
                }
            }
            _ => errors.push(format!("{name}.{fname}: slot/group kind differs")),
        }
    }
    count
}

/// Methods are compared by ordinal (their position): a prefix of Sandstorm's may be declared,
/// but each declared one must have Sandstorm's name and parameter and result struct ids, so a
/// call carries the same interface id, method number and message layout.
fn compare_interface(
    name: &str,
    a: node::interface::Reader,
    b: node::interface::Reader,
    errors: &mut Vec<String>,
) -> usize {
    let supers = |i: node::interface::Reader| -> Vec<u64> {
        i.get_superclasses()
            .map(|l| l.iter().map(|s| s.get_id()).collect())
            .unwrap_or_default()
    };
    if supers(a) != supers(b) {
        errors.push(format!(
            "{name}: superclasses {:x?} vs Sandstorm {:x?}",
            supers(a),
            supers(b)
        ));
    }
    let (Ok(ours), Ok(theirs)) = (a.get_methods(), b.get_methods()) else {
        errors.push(format!("{name}: unreadable methods"));
        return 0;
    };
    let text = |t: capnp::Result<capnp::text::Reader>| {
        t.ok().and_then(|t| t.to_str().ok()).unwrap_or("").to_string()
    };
    for (i, m) in ours.iter().enumerate() {
        let mname = text(m.get_name());
        if i as u32 >= theirs.len() {
            errors.push(format!("{name}.{mname}: Sandstorm has no method @{i}"));
            continue;
        }
        let t = theirs.get(i as u32);
        let tname = text(t.get_name());
        if mname != tname {
            errors.push(format!("{name} method @{i}: {mname} vs Sandstorm {tname}"));
        }
        let ids =
            |m: &capnp::schema_capnp::method::Reader| (m.get_param_struct_type(), m.get_result_struct_type());
        if ids(&m) != ids(&t) {
            errors.push(format!(
                "{name}.{mname}: (params, results) struct ids {:x?} vs Sandstorm {:x?}",
                ids(&m),
                ids(&t)
            ));
        }
    }
    ours.len() as usize
}

/// A textual signature of a type: its kind, and the ids of the types it names.
fn type_sig(t: type_::Reader) -> String {
    use type_::Which as W;
    match t.which() {
        Ok(W::List(l)) => match l.get_element_type() {
            Ok(e) => format!("List({})", type_sig(e)),
            Err(_) => "List(?)".into(),
        },
        Ok(W::Struct(s)) => format!("struct {:#x}", s.get_type_id()),
        Ok(W::Enum(e)) => format!("enum {:#x}", e.get_type_id()),
        Ok(W::Interface(i)) => format!("interface {:#x}", i.get_type_id()),
        Ok(W::AnyPointer(_)) => "AnyPointer".into(),
        Ok(other) => primitive_name(&other).to_string(),
        Err(_) => "?".into(),
    }
}

fn primitive_name<A0, A1, A2, A3, A4>(w: &type_::Which<A0, A1, A2, A3, A4>) -> &'static str {
    use type_::Which as W;
    match w {
        W::Void(()) => "Void",
        W::Bool(()) => "Bool",
        W::Int8(()) => "Int8",
        W::Int16(()) => "Int16",
        W::Int32(()) => "Int32",
        W::Int64(()) => "Int64",
        W::Uint8(()) => "UInt8",
        W::Uint16(()) => "UInt16",
        W::Uint32(()) => "UInt32",
        W::Uint64(()) => "UInt64",
        W::Float32(()) => "Float32",
        W::Float64(()) => "Float64",
        W::Text(()) => "Text",
        W::Data(()) => "Data",
        _ => "pointer",
    }
}

/// Default values that change the wire encoding (primitives are XOR-ed with them).
fn value_sig(v: value::Reader) -> String {
    use value::Which as W;
    match v.which() {
        Ok(W::Bool(b)) => format!("{b}"),
        Ok(W::Int8(n)) => format!("{n}"),
        Ok(W::Int16(n)) => format!("{n}"),
        Ok(W::Int32(n)) => format!("{n}"),
        Ok(W::Int64(n)) => format!("{n}"),
        Ok(W::Uint8(n)) => format!("{n}"),
        Ok(W::Uint16(n)) => format!("{n}"),
        Ok(W::Uint32(n)) => format!("{n}"),
        Ok(W::Uint64(n)) => format!("{n}"),
        Ok(W::Enum(n)) => format!("enum {n}"),
        Ok(W::Float32(n)) => format!("{n}"),
        Ok(W::Float64(n)) => format!("{n}"),
        _ => "pointer or void".into(),
    }
}
