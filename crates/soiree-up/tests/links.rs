//! Links `up` makes itself (`--link`): granted as the shell's picker grants them, delivered to
//! the requesting grain's link service, which claims them through its own bridge; links that
//! cannot be made refused with nothing left running.

mod common;

use common::echo_package::{has, wait_for, EchoPackage};
use common::http;

/// The echo app, when this binary runs inside a grain.
#[test]
fn echo_server() {
    common::echo_app::serve_if_asked();
}

/// Grain a's call through its link reached grain b's exported API, as the owner who chose it.
fn reaches_b(echo: &EchoPackage, used: common::Answer) {
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

fn link(requester: &str, request: &str, url: &str, provider: &str) -> soiree_up::LinkSpec {
    soiree_up::LinkSpec {
        requester: requester.into(),
        request: request.into(),
        query: vec![common::api_request(url)],
        provider: provider.into(),
        api: None,
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
    // While the grains run, their sandboxes name the test's folder (what the refusals below
    // check is gone).
    assert!(!soiree_test_support::processes_naming(echo.work.path()).is_empty());
    let a = up.addr;
    let status = http(a, "ui-a.localhost", "GET", "/.soiree/links/status", &[], b"");
    assert_eq!(status.text(), r#"{"echo":{"linked":true}}"#);
    reaches_b(&echo, http(a, "ui-a.localhost", "GET", "/use-link", &[], b""));
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
    let left = soiree_test_support::processes_naming(echo.work.path());
    assert!(left.is_empty(), "still running: {left:#?}");

    // An API named that the target does not export.
    let mut named = link("a", "echo", common::ECHO_API_URL, "b");
    named.api = Some("nope".into());
    let e = refused(named);
    assert!(
        e.contains("`b` exports no API `nope` (it exports `echo-api`)"),
        "{e}"
    );

    // A target exporting two matching APIs: `--link` must say which, and is told how.
    let config = echo.root.join("sandstorm-http-bridge-config");
    std::fs::remove_file(&config).unwrap();
    std::fs::write(&config, common::bridge_config_offering(&["echo-api", "echo-v2"])).unwrap();
    let mut opts = echo.options(&["a", "b"], None);
    opts.links = vec![link("a", "echo", common::ECHO_API_URL, "b")];
    let e = common::up(opts).err().expect("the party came up");
    assert!(e.contains("LinkAmbiguous {"), "{e}");
    assert!(e.contains("candidates: [\"echo-api\", \"echo-v2\"]"), "{e}");
    assert!(
        e.contains("`--link a.echo=b/echo-api` or `--link a.echo=b/echo-v2`"),
        "{e}"
    );
    let left = soiree_test_support::processes_naming(echo.work.path());
    assert!(left.is_empty(), "still running: {left:#?}");
}

/// A table of saved capabilities that is not one stops `up` before any grain runs, naming it.
#[test]
fn an_unreadable_table_of_saved_capabilities_is_refused() {
    let Some(echo) = EchoPackage::stage() else { return };
    let table = echo.work.path().join("a.saved.json");
    std::fs::write(&table, "{").unwrap();
    let e = common::up(echo.options(&["a", "b"], None))
        .err()
        .expect("the party came up");
    assert!(e.contains("reading its saved capabilities"), "{e}");
    assert!(
        e.contains("a.saved.json: not a table of saved capabilities"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "{",
        "the table was left as it was"
    );
    let left = soiree_test_support::processes_naming(echo.work.path());
    assert!(left.is_empty(), "still running: {left:#?}");
}

/// The link service refuses a token that was not granted to the session delivering it, or that
/// was claimed already, with the reason the host's `claimRequest` gave (its 502 reaches the
/// gateway's client as 500, by Sandstorm's status table).
#[test]
fn the_link_service_refuses_wrong_and_reused_tokens() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));
    let deliver = |token: &str| {
        let body = serde_json::json!({ "requestToken": token }).to_string();
        http(
            up.addr,
            "ui-a.localhost",
            "POST",
            "/.soiree/links/echo/claim",
            &[],
            body.as_bytes(),
        )
    };
    let wrong = deliver("not-granted");
    assert_eq!(wrong.status, 500, "{}", wrong.text());
    assert!(wrong.text().contains("no such token"), "{}", wrong.text());

    let query = serde_json::json!([common::api_request(common::ECHO_API_URL)]);
    let grant =
        serde_json::json!({"grain": "a", "as": "owner", "query": query, "provider": "b", "api": "echo-api"});
    let granted = http(
        up.addr,
        "localhost",
        "POST",
        "/_soiree/powerbox/grant",
        &[],
        grant.to_string().as_bytes(),
    );
    let v: serde_json::Value = serde_json::from_slice(&granted.body).unwrap();
    let token = v["token"].as_str().unwrap();
    let first = deliver(token);
    assert_eq!(
        (first.status, first.text()),
        (200, r#"{"linked": true}"#.to_string())
    );
    let again = deliver(token);
    assert_eq!(again.status, 500, "{}", again.text());
    assert!(again.text().contains("already claimed"), "{}", again.text());
}

/// How many times the grains of the echo package have started, from their log.
fn starts(echo: &EchoPackage) -> usize {
    echo.log().matches("echo listening").count()
}

/// The link made at start, `up` stopped and started again on the same folders: the token grain a
/// kept in its `/var` still reaches grain b. The host kept what the tokens are beside each grain's
/// `/var`, privately: a's link to b's API, and b's record of the owner who chose it.
#[test]
fn links_survive_a_restart_of_up() {
    let Some(echo) = EchoPackage::stage() else { return };
    let mut opts = echo.options(&["a", "b"], None);
    opts.links = vec![link("a", "echo", common::ECHO_API_URL, "b")];
    let up = common::up(opts).unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    let first = http(up.addr, "ui-a.localhost", "GET", "/use-link", &[], b"");
    assert!(has(&first, "call-status: 200"), "{}", first.text());
    drop(up);

    let table = |g: &str| -> serde_json::Value {
        let path = echo.work.path().join(format!("{g}.saved.json"));
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    };
    let kinds = |v: &serde_json::Value| -> Vec<String> {
        v["saved"]
            .as_object()
            .unwrap()
            .values()
            .map(|r| {
                format!(
                    "{} {}",
                    r["kind"].as_str().unwrap(),
                    r["grain"].as_str().or(r["key"].as_str()).unwrap()
                )
            })
            .collect()
    };
    assert!(
        kinds(&table("a")).contains(&"api b".to_string()),
        "{}",
        table("a")
    );
    assert!(
        kinds(&table("b")).contains(&"identity owner".to_string()),
        "{}",
        table("b")
    );

    let again = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));
    let status = http(
        again.addr,
        "ui-a.localhost",
        "GET",
        "/.soiree/links/status",
        &[],
        b"",
    );
    assert_eq!(status.text(), r#"{"echo":{"linked":true}}"#);
    reaches_b(
        &echo,
        http(again.addr, "ui-a.localhost", "GET", "/use-link", &[], b""),
    );

    // The grain drops the token: gone from the table, and not restored by the next run (the
    // bridge keeps what it restored while it runs, as Sandstorm's does).
    let cap = std::fs::read_to_string(echo.work.path().join("a/links/echo")).unwrap();
    let token = String::from_utf8(data_encoding::BASE64.decode(cap.as_bytes()).unwrap()).unwrap();
    assert!(table("a")["saved"].get(&token).is_some(), "{}", table("a"));
    let dropped = http(again.addr, "ui-a.localhost", "POST", "/drop-link", &[], b"");
    assert_eq!(dropped.text(), "dropped\n");
    assert!(table("a")["saved"].get(&token).is_none(), "{}", table("a"));
    drop(again);
    let third = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));
    let call = http(
        third.addr,
        "ui-a.localhost",
        "GET",
        "/use-link?name=dropped",
        &[],
        b"",
    )
    .text();
    assert!(call.contains("no capability is saved under this token"), "{call}");
}

/// A link to a grain the idle check stopped starts it again on the first call through it, and
/// the call reaches it (its bridge restores the API it exported).
#[test]
fn a_call_through_a_link_starts_a_stopped_target() {
    let Some(echo) = EchoPackage::stage() else { return };
    let mut opts = echo.options(&["a", "b"], Some(std::time::Duration::from_secs(1)));
    opts.links = vec![link("a", "echo", common::ECHO_API_URL, "b")];
    let up = common::up(opts).unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    let line = wait_for(up.addr, "b", "(stopped)", std::time::Duration::from_secs(10));
    assert!(line.contains("(stopped)"), "{line}");
    let used = http(up.addr, "ui-a.localhost", "GET", "/use-link", &[], b"");
    assert!(
        has(&used, "call-status: 200") && has(&used, "h x-sandstorm-api: echo-api"),
        "{}\nlog:\n{}",
        used.text(),
        echo.log()
    );
    assert!(starts(&echo) >= 3, "b started again:\n{}", echo.log());
}

/// Calls grain a makes to grain b through the link are uses of b: with a 1 s idle check and a
/// call every 250 ms, b keeps running (it starts once); once the calls end, it stops.
#[test]
fn calls_through_a_link_keep_the_target_awake() {
    let Some(echo) = EchoPackage::stage() else { return };
    let mut opts = echo.options(&["a", "b"], Some(std::time::Duration::from_secs(1)));
    opts.links = vec![link("a", "echo", common::ECHO_API_URL, "b")];
    let up = common::up(opts).unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(4);
    while std::time::Instant::now() < until {
        let used = http(up.addr, "ui-a.localhost", "GET", "/use-link", &[], b"");
        assert!(has(&used, "call-status: 200"), "{}", used.text());
        let line = common::echo_package::grain_line(up.addr, "b");
        assert!(line.contains("(running)"), "{line}\nlog:\n{}", echo.log());
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(starts(&echo), 2, "{}", echo.log());
    let line = wait_for(up.addr, "b", "(stopped)", std::time::Duration::from_secs(10));
    assert!(line.contains("(stopped)"), "{line}");
}
