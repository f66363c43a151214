//! `$ORIGIN` in `DT_RPATH`, `DT_RUNPATH` and the extra library path, on programs built here
//! with gcc and edited with patchelf, checked against what ld.so (`ldd`) does.

mod common;

use std::path::{Path, PathBuf};

use soiree_deps::{closure, Error, How, Options, Via};

/// An app tree: `lib/libgreet.so` (needs `libinner.so`, no search path of its own),
/// `lib/libinner.so`, and `bin/` for programs that need libgreet.
struct App {
    _dir: tempfile::TempDir,
    top: PathBuf,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let top = dir.path().join("opt/app");
        std::fs::create_dir_all(top.join("bin")).unwrap();
        std::fs::create_dir_all(top.join("lib")).unwrap();
        let lib = top.join("lib");
        let l = lib.to_str().unwrap();
        common::gcc(
            &lib,
            "inner.c",
            "int inner(void) { return 41; }\n",
            &[
                "-shared",
                "-fPIC",
                "-Wl,-soname,libinner.so",
                "-o",
                &format!("{l}/libinner.so"),
            ],
        );
        common::gcc(
            &lib,
            "greet.c",
            "int inner(void);\nint greet(void) { return inner() + 1; }\n",
            &[
                "-shared",
                "-fPIC",
                "-Wl,-soname,libgreet.so",
                "-o",
                &format!("{l}/libgreet.so"),
                &format!("-L{l}"),
                "-linner",
            ],
        );
        App { _dir: dir, top }
    }

    /// Builds `bin/NAME` linked against libgreet with extra linker flags.
    fn program(&self, name: &str, flags: &[&str]) -> PathBuf {
        let bin = self.top.join("bin");
        let out = bin.join(name);
        let lib = format!("-L{}", self.top.join("lib").display());
        let mut args = vec!["-o", out.to_str().unwrap(), &lib, "-lgreet"];
        args.extend_from_slice(flags);
        // The linker wants libinner to resolve libgreet's needs at link time.
        let link_path = format!("-Wl,-rpath-link,{}", self.top.join("lib").display());
        args.push(&link_path);
        common::gcc(
            &bin,
            &format!("{name}.c"),
            "int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n",
            &args,
        );
        out
    }

    fn lib(&self, name: &str) -> PathBuf {
        self.top.join("lib").join(name)
    }
}

/// The path the closure opens `name` under, and how it was found.
fn opened(c: &soiree_deps::Closure, name: &str) -> (PathBuf, Via) {
    c.objects
        .values()
        .find_map(|o| {
            o.reasons.iter().find_map(|r| match &r.how {
                How::Needed { name: n, via } if n == name && *via != Via::Loaded => {
                    Some((o.path.clone(), via.clone()))
                }
                _ => None,
            })
        })
        .unwrap_or_else(|| panic!("{name} is not in the closure"))
}

fn runs(program: &Path) -> bool {
    std::process::Command::new(program).status().unwrap().success()
}

#[test]
fn rpath_with_origin_is_expanded_and_inherited() {
    let app = App::new();
    let prog = app.program("greet", &["-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib"]);
    assert!(runs(&prog), "the program runs on the host");

    let c = closure(&[&prog], &Options::default()).unwrap();
    let bin = prog.parent().unwrap();
    let (greet, via) = opened(&c, "libgreet.so");
    assert_eq!(greet, bin.join("../lib/libgreet.so"));
    assert_eq!(via, Via::Rpath(prog.clone()));
    // libgreet has no search path: ld.so finds libinner through the program's DT_RPATH.
    let (inner, via) = opened(&c, "libinner.so");
    assert_eq!(inner, bin.join("../lib/libinner.so"));
    assert_eq!(via, Via::Rpath(prog.clone()));
    assert_eq!(c.objects[&inner].real, app.lib("libinner.so"));

    let ldd = common::ldd_lines(&prog, &[]);
    assert!(
        ldd.contains(&format!("libinner.so => {}", inner.display())),
        "{ldd}"
    );
    assert!(c
        .why(&app.lib("libinner.so"))
        .unwrap()
        .to_string()
        .contains("DT_RPATH"));
}

#[test]
fn runpath_is_not_inherited() {
    let app = App::new();
    let prog = app.program("greet", &["-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib"]);
    // ld.so cannot run it either: libgreet's own needs do not see the program's DT_RUNPATH.
    assert!(common::ldd_lines(&prog, &[]).contains("libinner.so => not found"));

    let err = closure(&[&prog], &Options::default()).unwrap_err();
    match err {
        Error::LibraryNotFound { name, needed_by, .. } => {
            assert_eq!(name, "libinner.so");
            assert!(needed_by.starts_with(prog.to_str().unwrap()), "{needed_by}");
            assert!(needed_by.contains("libgreet.so"), "{needed_by}");
        }
        other => panic!("expected LibraryNotFound, got {other:?}"),
    }

    // Marked optional, it is recorded instead.
    let mut options = Options::default();
    options.optional.insert("libinner.so".into());
    let c = closure(&[&prog], &options).unwrap();
    assert_eq!(c.missing.len(), 1);
    assert_eq!(opened(&c, "libgreet.so").1, Via::Runpath);
}

#[test]
fn patchelf_rpath_and_runpath_on_a_copied_binary() {
    let app = App::new();
    let plain = app.program("plain", &[]);
    let rpath = app.top.join("bin/with-rpath");
    std::fs::copy(&plain, &rpath).unwrap();
    let r = rpath.to_str().unwrap();
    common::tool(
        "patchelf",
        &["--force-rpath", "--set-rpath", "${ORIGIN}/../lib", r],
        "patchelf",
    );
    assert!(runs(&rpath));
    let c = closure(&[&rpath], &Options::default()).unwrap();
    assert_eq!(opened(&c, "libinner.so").1, Via::Rpath(rpath.clone()));

    // patchelf sets DT_RUNPATH by default; give libgreet one too so that libinner is found.
    let runpath = app.top.join("bin/with-runpath");
    std::fs::copy(&plain, &runpath).unwrap();
    let rp = runpath.to_str().unwrap();
    common::tool("patchelf", &["--set-rpath", "$ORIGIN/../lib", rp], "patchelf");
    let greet = app.lib("libgreet.so");
    common::tool(
        "patchelf",
        &["--set-rpath", "$ORIGIN", greet.to_str().unwrap()],
        "patchelf",
    );
    assert!(runs(&runpath));
    let c = closure(&[&runpath], &Options::default()).unwrap();
    assert_eq!(opened(&c, "libgreet.so").1, Via::Runpath);
    let (inner, via) = opened(&c, "libinner.so");
    assert_eq!(via, Via::Runpath);
    // libgreet was opened as bin/../lib/libgreet.so, so its $ORIGIN is bin/../lib.
    assert_eq!(inner, runpath.parent().unwrap().join("../lib/libinner.so"));
    let ldd = common::ldd_lines(&runpath, &[]);
    assert!(
        ldd.contains(&format!("libinner.so => {}", inner.display())),
        "{ldd}"
    );
}

#[test]
fn extra_library_path_comes_between_rpath_and_runpath() {
    let app = App::new();
    let plain = app.program("plain", &[]);
    let lib_dir = app.top.join("lib");
    let options = Options {
        library_path: vec![PathBuf::from("$ORIGIN/../lib")],
        ..Options::default()
    };
    let c = closure(&[&plain], &options).unwrap();
    let (greet, via) = opened(&c, "libgreet.so");
    assert_eq!(via, Via::LibraryPath);
    assert_eq!(greet, plain.parent().unwrap().join("../lib/libgreet.so"));

    let ldd = common::ldd_lines(&plain, &[("LD_LIBRARY_PATH", lib_dir.to_str().unwrap())]);
    assert!(ldd.contains("libgreet.so => "), "{ldd}");
    assert!(!ldd.contains("not found"), "{ldd}");
}
