//! Links `up` makes itself (`--link`): granted as the shell's picker grants them, delivered to
//! the requesting grain's link service, which claims them through its own bridge; links that
//! cannot be made refused with nothing left running.

mod common;

use common::echo_package::{has, EchoPackage};
use common::http;

/// The echo app, when this binary runs inside a grain.
#[test]
fn echo_server() {
    common::echo_app::serve_if_asked();
}

fn link(requester: &str, request: &str, url: &str, provider: &str) -> soiree_up::LinkSpec {
    soiree_up::LinkSpec {
        requester: requester.into(),
        request: request.into(),
        query: vec![common::api_request(url)],
        provider: provider.into(),
    }
}

/// Grain a's request `echo` linked to grain b at start: a's link service claimed the token through
/// a's bridge, and a's app reaches b through the capability it kept.
#[test]
fn a_link_made_at_start_reaches_the_other_grain() {
    let Some(echo) = EchoPackage::stage() else { return };
    let mut opts = echo.options(&["a", "b"], None);
    opts.links = vec![link("a", "echo", common::ECHO_API_URL, "b")];
    let up = common::up(opts).unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    assert_eq!(
        up.links,
        vec![soiree_up::Linked {
            requester: "a".into(),
            request: "echo".into(),
            provider: "b".into(),
            api: "echo-api".into(),
            title: "Echo API".into(),
        }]
    );
    let a = up.addr;
    let status = http(a, "ui-a.localhost", "GET", "/.soiree/links/status", &[], b"");
    assert_eq!(status.text(), r#"{"echo":{"linked":true}}"#);
    let used = http(a, "ui-a.localhost", "GET", "/use-link", &[], b"");
    for line in [
        "call-status: 200",
        "path: /pb//linked",
        "h x-sandstorm-api: echo-api",
        "h x-sandstorm-username: Owner",
    ] {
        assert!(
            has(&used, line),
            "no {line:?} in:\n{}\nlog:\n{}",
            used.text(),
            echo.log()
        );
    }
}

/// What cannot be linked is refused: before any grain starts when the party says so (unknown
/// grains, a request name no URL can carry, a malformed descriptor, a target offering nothing
/// that matches), after they started when the requesting grain refuses the token — and then
/// every grain is stopped again.
#[test]
fn links_that_cannot_be_made_are_refused_and_nothing_is_left_running() {
    let Some(echo) = EchoPackage::stage() else { return };
    let refused = |l: soiree_up::LinkSpec| -> String {
        let mut opts = echo.options(&["a", "b"], None);
        opts.links = vec![l];
        let e = common::up(opts).err().expect("the party came up");
        assert!(e.contains("Link {"), "{e}");
        e
    };
    let before_start = [
        (link("a", "echo", common::ECHO_API_URL, "c"), "the providing grain `c` is not one `up` starts (it starts: a, b)"),
        (link("z", "echo", common::ECHO_API_URL, "b"), "the requesting grain `z` is not one"),
        (link("a", "ec/ho", common::ECHO_API_URL, "b"), "cannot be part of a URL path"),
        (
            link("a", "echo", "https://elsewhere.example/", "b"),
            "`a` asks for 0xc879e379c625cdc7 at https://elsewhere.example/; `b` offers nothing that matches (it offers `echo-api` at https://echo.example/api/)",
        ),
    ];
    for (l, want) in before_start {
        let e = refused(l);
        assert!(e.contains(want), "want {want:?} in: {e}");
        assert!(!echo.work.path().join("a").exists(), "a grain was started: {e}");
    }
    let mut malformed = link("a", "echo", common::ECHO_API_URL, "b");
    malformed.query = vec!["AAAA".into()];
    let e = refused(malformed);
    assert!(e.contains("descriptor 0 (\\\"AAAA\\\") is malformed"), "{e}");
    assert!(!echo.work.path().join("a").exists(), "a grain was started: {e}");

    // The grain's link service knows no request `other`: its answer is the error, and both
    // grains are stopped (their /var locks free, no sandbox left).
    let e = refused(link("a", "other", common::ECHO_API_URL, "b"));
    assert!(e.contains("`a` refused the link (404 Not Found)"), "{e}");
    assert!(e.contains("no request named"), "{e}");
    for g in ["a", "b"] {
        let lock = echo.work.path().join(format!("{g}.lock"));
        assert!(
            soiree_fs::Lock::try_acquire(&lock, "test").is_ok(),
            "{g} still runs"
        );
    }
    let left = common::processes_naming(echo.work.path());
    assert!(left.is_empty(), "still running: {left:#?}");
}
