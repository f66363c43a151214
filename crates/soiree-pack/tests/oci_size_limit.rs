//! `image-size-limit` (party-wide or per package): an image over it is refused with a diagnostic
//! at the setting's line, a value that is not a size at its own, and a limit it fits passes.

mod common;

fn party_with_limit(limit: &str) -> common::Party {
    let party = common::Party::new("", &["site"]);
    party.recipe(
        "site",
        "[[files]]\nto = \"/opt/site/index.html\"\ncontent = \"hello\\n\"\n",
    );
    let file = party.path("party.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    // The file ends in [packages.app].
    text.push_str(&format!("image-size-limit = \"{limit}\"\n"));
    std::fs::write(&file, text).unwrap();
    party
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_image_over_its_limit_is_refused_at_the_line_that_sets_it() {
    let party = party_with_limit("1 KiB");
    let line = std::fs::read_to_string(party.path("party.toml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("image-size-limit"))
        .unwrap()
        + 1;
    let out = party.run(&["build", "--target", "oci"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("over its image-size-limit of 1024 bytes"), "{text}");
    assert!(text.contains(&format!("party.toml:{line}:")), "{text}");
    assert!(text.contains("the limit is set here"), "{text}");
    assert!(!party.path("dist/oci/app").exists(), "nothing is left in place");

    let party = party_with_limit("1 GiB");
    let out = party.run(&["build", "--target", "oci"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(party.path("dist/oci/app/index.json").is_file());
}

#[test]
fn a_limit_that_is_not_a_size_is_a_party_error() {
    let party = party_with_limit("lots");
    let out = party.run(&["build", "--target", "oci"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("`lots` is not a size"), "{text}");
    assert!(text.contains("party.toml:"), "{text}");
}
