//! `build` gives every program a package holds its run-time closure: real Debian programs get
//! exactly what `ldd` lists and run in bubblewrap with only the package as `/`; the package's
//! own libraries win over the root's; a program's `$ORIGIN` needs LD_ORIGIN_PATH in a grain;
//! a missing library names the program, the library and the recipe; `--sysroot` takes the
//! system from another tree.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{text, Party};

/// The recipe that places a host program copied under `inputs/NAME/`.
fn program_recipe(source: &str, at: &str) -> String {
    format!(
        "[[files]]\nsource = \"{source}\"\nfrom = \"{}\"\nto = \"{at}\"\nexecutable = true\n",
        at.trim_start_matches('/')
    )
}

#[test]
fn debian_programs_get_exactly_their_ldd_closure_and_run_from_the_package() {
    let redis = common::program("/usr/bin/redis-server", "redis-server");
    let nginx = common::program("/usr/sbin/nginx", "nginx-light");
    let party = Party::new(
        "redis = { path = \"inputs/redis\" }\nnginx = { path = \"inputs/nginx\" }",
        &["redis", "nginx"],
    );
    party.copy(&redis, "inputs/redis/usr/bin/redis-server");
    party.copy(&nginx, "inputs/nginx/usr/sbin/nginx");
    party.recipe("redis", &program_recipe("redis", "/usr/bin/redis-server"));
    party.recipe("nginx", &program_recipe("nginx", "/usr/sbin/nginx"));
    let unpacked = party.build(&[]).unwrap_or_else(|o| panic!("{}", text(&o.stderr)));

    // Every ELF file in the package is a program a recipe placed or what `ldd` lists for one.
    // (soiree-pack's own supervisor, once packages carry it, brings its closure too.)
    let mut programs: Vec<PathBuf> = vec!["/usr/bin/redis-server".into(), "/usr/sbin/nginx".into()];
    let mut expected: BTreeSet<PathBuf> = common::ldd_real(&redis);
    expected.extend(common::ldd_real(&nginx));
    let supervisor = unpacked.join("opt/soiree/bin/soiree-grain");
    if supervisor.is_file() {
        expected.extend(common::ldd_real(&supervisor));
        programs.push("/opt/soiree/bin/soiree-grain".into());
    }
    let mut libraries = common::elf_files(&unpacked);
    for p in &programs {
        assert!(libraries.remove(p), "{} is in the package", p.display());
    }
    assert_eq!(
        libraries, expected,
        "the package's libraries (left) and ldd's (right)"
    );

    let out = common::run_in_package(&unpacked, &[], &["/usr/bin/redis-server", "--version"]);
    let host = std::process::Command::new(&redis)
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), text(&host.stdout));
    let out = common::run_in_package(&unpacked, &[], &["/usr/sbin/nginx", "-v"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nginx version"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_default_stand_ins_bring_the_shell_they_are_written_for() {
    // The fixtures are `#!/bin/sh` scripts: the packages hold dash, its libraries and the
    // loader, so the stand-in bridge runs (and says it is a stand-in) with only the package.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out = common::soiree(&workspace, tmp.path())
        .args(["build", "server", "--offline", "--out"])
        .arg(tmp.path().join("dist"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let unpacked = tmp.path().join("server");
    soiree_spk::unpack(&tmp.path().join("dist/server.spk"), &unpacked).unwrap();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let in_package = |p: &Path| unpacked.join(p.strip_prefix("/").unwrap());
    assert!(in_package(&sh).is_file(), "{} (/bin/sh) is packed", sh.display());
    for lib in common::ldd_real(&sh) {
        assert!(in_package(&lib).is_file(), "{} is packed", lib.display());
    }
    let run = common::run_in_package(&unpacked, &[], &["/sandstorm-http-bridge"]);
    assert!(
        text(&run.stderr).contains("stand-in for Sandstorm's sandstorm-http-bridge"),
        "{}",
        text(&run.stderr)
    );
}

/// `app/`: `bin/prog` (exits 0 only if `greet()` is 42, `DT_RUNPATH` `runpath`), `lib/libgreet.so`
/// (`greet() = inner() + 1`, finds libinner through `DT_RUNPATH` `$ORIGIN`) and `lib/libinner.so`
/// (`inner() = value`), built under `dir`.
fn build_app(dir: &Path, value: i32, runpath: &str) {
    let lib = dir.join("lib");
    let l = lib.to_str().unwrap();
    common::gcc(
        &lib,
        "inner.c",
        &format!("int inner(void) {{ return {value}; }}\n"),
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
            "-Wl,--enable-new-dtags,-rpath,$ORIGIN",
        ],
    );
    let bin = dir.join("bin");
    common::gcc(
        &bin,
        "prog.c",
        "int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n",
        &[
            "-o",
            &format!("{}/prog", bin.display()),
            &format!("-L{l}"),
            "-lgreet",
            &format!("-Wl,-rpath-link,{l}"),
            &format!("-Wl,--enable-new-dtags,-rpath,{runpath}"),
        ],
    );
    for src in ["lib/inner.c", "lib/greet.c", "bin/prog.c"] {
        std::fs::remove_file(dir.join(src)).unwrap();
    }
}

const APP_RECIPE: &str = "[[files]]\nsource = \"app\"\nto = \"/opt/app\"\n";

#[test]
fn the_packages_own_library_wins_and_a_programs_origin_needs_ld_origin_path() {
    let party = Party::new("app = { path = \"app\" }", &["app"]);
    build_app(&party.path("app"), 41, "$ORIGIN/../lib");
    // The sysroot has libc and the loader, and a libinner.so at the package's own path that
    // would make the program fail.
    let sysroot = party.path("sysroot");
    common::sysroot_for(&sysroot, &[Path::new("/usr/bin/true")]);
    build_app(&party.path("bad"), 0, "/opt/app/lib");
    party.copy(
        &party.path("bad/lib/libinner.so"),
        "sysroot/opt/app/lib/libinner.so",
    );
    let sysroot_arg = sysroot.to_str().unwrap();

    // A grain has no /proc: the program's `$ORIGIN/../lib` leads nowhere.
    party.recipe("app", APP_RECIPE);
    let failed = party.build(&["--sysroot", sysroot_arg]).unwrap_err();
    let err = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    for needle in [
        "/opt/app/bin/prog",
        "libgreet.so",
        "recipes/app.toml:3:6",
        "LD_ORIGIN_PATH",
    ] {
        assert!(err.contains(needle), "{needle:?} in:\n{err}");
    }

    party.recipe(
        "app",
        &format!("{APP_RECIPE}\n[env]\nLD_ORIGIN_PATH = \"/opt/app/bin\"\n"),
    );
    let unpacked = party
        .build(&["--sysroot", sysroot_arg])
        .unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    assert_eq!(
        std::fs::read(unpacked.join("opt/app/lib/libinner.so")).unwrap(),
        std::fs::read(party.path("app/lib/libinner.so")).unwrap(),
        "the package's libinner, not the sysroot's"
    );
    let out = common::run_in_package(
        &unpacked,
        &[("LD_ORIGIN_PATH", "/opt/app/bin")],
        &["/opt/app/bin/prog"],
    );
    assert!(out.status.success(), "{}: {}", out.status, text(&out.stderr));
}

#[test]
fn a_missing_library_names_program_library_and_recipe_unless_optional() {
    let party = Party::new("app = { path = \"app\" }", &["app"]);
    build_app(&party.path("app"), 41, "/opt/app/lib");
    std::fs::remove_file(party.path("app/lib/libgreet.so")).unwrap();
    party.recipe("app", APP_RECIPE);
    let failed = party.build(&[]).unwrap_err();
    let err = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    for needle in [
        "soiree::deps::library_not_found",
        "/opt/app/bin/prog needs libgreet.so",
        "recipes/app.toml:3:6",
        "placed here, by recipe app",
    ] {
        assert!(err.contains(needle), "{needle:?} in:\n{err}");
    }

    party.recipe(
        "app",
        &format!("{APP_RECIPE}\n[deps]\noptional = [\"libgreet.so\"]\n"),
    );
    let out = party.run(&["build", "--out", "dist"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: package `app`: /opt/app/bin/prog goes without libgreet.so")
            && err.contains("recipes/app.toml:6:13"),
        "{err}"
    );

    // A program nothing runs in the grain is left out of the scan altogether.
    party.recipe(
        "app",
        &format!("{APP_RECIPE}\n[deps]\nskip = [\"/opt/app/bin/*\"]\n"),
    );
    let out = party.run(&["build", "--out", "dist"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("libgreet"), "{}", text(&out.stderr));
}

#[test]
fn sysroot_gives_the_sysroots_files_and_stands_in_for_path_slash_sources() {
    // `greeter` and its libraries exist only in the sysroot, which also has libc and the loader.
    let party = Party::new("system = { path = \"/\" }", &["greeter"]);
    let built = party.path("built");
    build_app(&built, 41, "/usr/lib/greeter");
    let sysroot = party.path("sysroot");
    common::sysroot_for(&sysroot, &[Path::new("/usr/bin/true")]);
    party.copy(&built.join("bin/prog"), "sysroot/usr/bin/greeter");
    party.copy(
        &built.join("lib/libgreet.so"),
        "sysroot/usr/lib/greeter/libgreet.so",
    );
    party.copy(
        &built.join("lib/libinner.so"),
        "sysroot/usr/lib/greeter/libinner.so",
    );
    party.recipe(
        "greeter",
        "[[files]]\nsource = \"system\"\nfrom = \"usr/bin/greeter\"\nto = \"/usr/bin/greeter\"\n",
    );
    let without = party.build(&[]).unwrap_err();
    assert!(
        text(&without.stderr).contains("usr/bin/greeter"),
        "{}",
        text(&without.stderr)
    );

    let sysroot_arg = sysroot.to_str().unwrap();
    let unpacked = party
        .build(&["--sysroot", sysroot_arg])
        .unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    for lib in ["usr/lib/greeter/libgreet.so", "usr/lib/greeter/libinner.so"] {
        assert!(unpacked.join(lib).is_file(), "{lib}");
    }
    let why = party.run(&[
        "why",
        "app",
        "/usr/lib/greeter/libinner.so",
        "--json",
        "--sysroot",
        sysroot_arg,
    ]);
    assert!(why.status.success(), "{}", text(&why.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&why.stdout).unwrap();
    assert_eq!(doc["root"], sysroot_arg);
    assert_eq!(doc["placed"], "closure");
    let out = common::run_in_package(&unpacked, &[], &["/usr/bin/greeter"]);
    assert!(out.status.success(), "{}: {}", out.status, text(&out.stderr));
}
