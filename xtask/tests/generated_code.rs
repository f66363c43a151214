//! The committed Cap'n Proto bindings must be exactly what `cargo xtask codegen` produces, and
//! the schema must keep Sandstorm's layout.

use xtask::{cli_docs, codegen, schema_check, workspace_root};

#[test]
fn committed_bindings_are_fresh() {
    let root = workspace_root();
    let out = tempfile::tempdir().unwrap();
    codegen::generate(&root, out.path()).expect("capnp compile (apt-get install capnproto)");
    let committed = codegen::generated_dir(&root);
    for file in codegen::SCHEMA_FILES {
        let name = format!("{}_capnp.rs", file.trim_end_matches(".capnp").replace('-', "_"));
        let fresh = std::fs::read_to_string(out.path().join(&name)).unwrap();
        let old = std::fs::read_to_string(committed.join(&name)).unwrap_or_default();
        assert!(
            fresh == old,
            "crates/soiree-schema/src/generated/{name} is stale: run `cargo xtask codegen` and commit the result"
        );
    }
}

/// The completions and man pages under docs/generated/ must be what `cargo xtask cli-docs` makes
/// from the current CLI definition: a flag added without regenerating fails here.
#[test]
fn committed_cli_docs_are_fresh() {
    let root = workspace_root();
    let dir = cli_docs::generated_dir(&root);
    let fresh = cli_docs::files().unwrap();
    assert!(fresh.iter().any(|(n, _)| n == "man/soiree-pack-build.1"));
    for (name, bytes) in &fresh {
        let old = std::fs::read(dir.join(name)).unwrap_or_default();
        assert!(
            &old == bytes,
            "docs/generated/{name} is stale: run `cargo xtask cli-docs` and commit the result"
        );
    }
    let mut committed = Vec::new();
    for sub in ["completions", "man"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            committed.push(format!("{sub}/{}", e.unwrap().file_name().to_string_lossy()));
        }
    }
    for name in committed {
        assert!(
            fresh.iter().any(|(n, _)| *n == name),
            "docs/generated/{name} is no longer generated: run `cargo xtask cli-docs`"
        );
    }
}

/// The generated files work: real bash, given the committed completion script, completes a
/// command's own options (`soiree-pack build --mess` → `--message-format`) and the commands;
/// the build page documents its flags.
#[test]
fn cli_docs_follow_the_definition() {
    let root = workspace_root();
    let script = cli_docs::generated_dir(&root).join("completions/soiree-pack.bash");
    let complete = |words: &str| {
        let cmd = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
             _soiree__pack soiree-pack \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &cmd])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("soiree-pack build --mess").trim(), "--message-format");
    assert_eq!(complete("soiree-pack why --a").trim(), "--all");
    assert!(complete("soiree-pack b").lines().any(|l| l == "build"));
    let files = cli_docs::files().unwrap();
    let page = files
        .iter()
        .find(|(f, _)| f == "man/soiree-pack-build.1")
        .unwrap();
    let page = String::from_utf8(page.1.clone()).unwrap();
    assert!(page.contains("\\-\\-message\\-format"), "{page}");
}

#[test]
fn schema_layout_matches_sandstorm() {
    let root = workspace_root();
    let sandstorm = root.join("../shared/spk-schemas");
    if !sandstorm.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent; the layout check needs Sandstorm's schema files",
            sandstorm.display()
        );
        return;
    }
    let summary = schema_check::check(&root, &sandstorm).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    assert!(summary.structs >= 30 && summary.fields >= 140, "{summary:?}");
}

/// Copies the schema into a fake workspace with one replacement made in `file`, and returns the
/// check's errors (it must fail).
fn check_changed(file_changed: &str, from: &str, to: &str) -> Vec<String> {
    let root = workspace_root();
    let sandstorm = root.join("../shared/spk-schemas");
    let fake_root = tempfile::tempdir().unwrap();
    let schema = fake_root.path().join("crates/soiree-schema/schema");
    std::fs::create_dir_all(&schema).unwrap();
    for file in codegen::SCHEMA_FILES {
        let text = std::fs::read_to_string(codegen::schema_dir(&root).join(file)).unwrap();
        let text = if *file == file_changed {
            assert!(text.contains(from), "{file} has no {from:?}");
            text.replace(from, to)
        } else {
            text
        };
        std::fs::write(schema.join(file), text).unwrap();
    }
    schema_check::check(fake_root.path(), &sandstorm).unwrap_err()
}

fn sandstorm_schema_present() -> bool {
    let sandstorm = workspace_root().join("../shared/spk-schemas");
    if !sandstorm.is_dir() {
        eprintln!("SKIPPED: {} is absent", sandstorm.display());
    }
    sandstorm.is_dir()
}

/// The check must fail when a field changes: copy the schema, change one type, compare.
#[test]
fn schema_check_catches_a_changed_field() {
    if !sandstorm_schema_present() {
        return;
    }
    let errors = check_changed(
        "archive.capnp",
        "lastModificationTimeNs @5 :Int64;",
        "lastModificationTimeNs @5 :Int32;",
    );
    assert!(
        errors.iter().any(|e| e.contains("lastModificationTimeNs")),
        "{errors:?}"
    );
}

/// Methods are compared too: swapping two ordinals changes which method a call reaches.
#[test]
fn schema_check_catches_swapped_methods() {
    if !sandstorm_schema_present() {
        return;
    }
    let errors = check_changed(
        "grain.capnp",
        "  restore @4 (token :Data) -> (cap :Capability);\n  drop @5 (token :Data);",
        "  drop @4 (token :Data);\n  restore @5 (token :Data) -> (cap :Capability);",
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("SandstormApi method @4: drop vs Sandstorm restore")),
        "{errors:?}"
    );
}

/// A session interface that no longer extends Sandstorm's base is caught.
#[test]
fn schema_check_catches_a_changed_superclass() {
    if !sandstorm_schema_present() {
        return;
    }
    let errors = check_changed(
        "web-session.capnp",
        "interface ApiSession @0xc879e379c625cdc7 extends(WebSession) {",
        "interface ApiSession @0xc879e379c625cdc7 extends(Grain.UiSession) {",
    );
    assert!(
        errors.iter().any(|e| e.contains("ApiSession: superclasses")),
        "{errors:?}"
    );
}
