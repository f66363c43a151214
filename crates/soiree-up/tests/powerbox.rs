//! The Powerbox between two grains of the echo package, as the shell's picker grants it: claimed
//! through the requesting grain's bridge, answered by the providing grain's; refusals; the same
//! link made by a person in headless Chromium.

mod common;

use common::echo_package::EchoPackage;
use common::http;
use soiree_test_support::{enter_grain_frame, link_through_picker};

/// The echo app, when this binary runs inside a grain.
#[test]
fn echo_server() {
    common::echo_app::serve_if_asked();
}

/// Two grains of the echo package: grain a's request for the echo API is granted with grain b's,
/// as the shell's picker does it; a's app claims the token through its bridge and calls b through
/// the capability, b's bridge adding the API's name and permissions. Reused and unknown tokens,
/// unmatched and malformed requests are refused.
#[test]
fn the_powerbox_links_two_grains_through_their_bridges() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));
    let a = up.addr;
    let shell = |path: &str, body: serde_json::Value| -> (u16, serde_json::Value) {
        let r = http(a, "localhost", "POST", path, &[], body.to_string().as_bytes());
        (r.status, serde_json::from_slice(&r.body).unwrap())
    };
    let query = serde_json::json!([common::api_request(common::ECHO_API_URL)]);

    // Grain b has been used before (its bridge knows the owner's identity already).
    assert_eq!(http(a, "ui-b.localhost", "GET", "/", &[], b"").status, 200);

    // The picker's options: both grains export the API.
    let (status, options) = shell("/_soiree/powerbox/options", serde_json::json!({ "query": query }));
    assert_eq!(status, 200, "{options}");
    assert_eq!(
        options["options"],
        serde_json::json!([
            {"grain": "a", "api": "echo-api", "title": "Echo API"},
            {"grain": "b", "api": "echo-api", "title": "Echo API"},
        ])
    );
    let (status, granted) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "as": "owner", "query": query, "provider": "b", "api": "echo-api"}),
    );
    assert_eq!(status, 200, "{granted}");
    let token = granted["token"].as_str().unwrap().to_string();
    let descriptor = soiree_up::parse_query(&[granted["descriptor"].as_str().unwrap().to_string()]).unwrap();
    assert_eq!(
        descriptor[0].tags,
        vec![(0xc879e379c625cdc7, Some(common::ECHO_API_URL.to_string()))]
    );

    // Grain a's app claims it (as the owner's session, which made the request) and calls b.
    let ui = "ui-a.localhost";
    let linked = http(a, ui, "GET", &format!("/claim?token={token}"), &[], b"");
    let t = linked.text();
    assert!(
        t.contains("claim-status: 200\ncall-status: 200\n"),
        "{t}\nlog:\n{}",
        echo.log()
    );
    // The bridge joins the API's path (which must end in `/`) and the request's with another `/`.
    for line in [
        "path: /pb//hello",
        "h x-sandstorm-api: echo-api",
        "h x-sandstorm-permissions: read",
        "h x-sandstorm-username: Owner",
        "h host: sandbox",
    ] {
        assert!(t.lines().any(|l| l == line), "no {line:?} in:\n{t}");
    }
    assert!(!t.contains("authorization"), "{t}");

    // A token is claimed once; a wrong one, or one claimed from another session, is refused.
    // The bridge saves the claim's result pipelined on the claim, so the refusal reaches the app
    // as the error of its first call through the capability it got back.
    let again = http(a, ui, "GET", &format!("/claim?token={token}"), &[], b"").text();
    assert!(again.contains("call-status: 500\n"), "{again}");
    assert!(again.contains("already claimed"), "{again}");
    let wrong = http(a, ui, "GET", "/claim?token=not-granted", &[], b"").text();
    assert!(wrong.contains("call-status: 500\n"), "{wrong}");
    assert!(wrong.contains("no such token"), "{wrong}");
    let (_, other) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "as": "owner", "query": query, "provider": "b", "api": "echo-api"}),
    );
    let other = other["token"].as_str().unwrap().to_string();
    let as_guest = http(
        a,
        ui,
        "GET",
        &format!("/claim?token={other}"),
        &[("Cookie", "soiree-as=role-0")],
        b"",
    )
    .text();
    assert!(
        as_guest.contains("no such token"),
        "another session's token: {as_guest}"
    );

    // Requests nothing offers, unknown APIs, malformed descriptors.
    let elsewhere = serde_json::json!([common::api_request("https://elsewhere.example/")]);
    let (_, none) = shell(
        "/_soiree/powerbox/options",
        serde_json::json!({ "query": elsewhere }),
    );
    assert_eq!(none["options"], serde_json::json!([]));
    let (status, e) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "query": elsewhere, "provider": "b", "api": "echo-api"}),
    );
    assert_eq!(status, 400);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("does not match the request"),
        "{e}"
    );
    let (_, e) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "query": query, "provider": "b", "api": "nope"}),
    );
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("offers no API \"nope\" (it offers: echo-api)"),
        "{e}"
    );
    let (status, e) = shell(
        "/_soiree/powerbox/options",
        serde_json::json!({ "query": ["AAAA"] }),
    );
    assert_eq!(status, 400);
    assert!(e["error"].as_str().unwrap().contains("malformed"), "{e}");

    // The shell page carries the picker's script and who the frame's session is for.
    let page = http(a, "localhost", "GET", "/grain/a/", &[], b"").text();
    assert!(
        page.contains("powerboxRequest") && page.contains(r#"{"as":"owner","grain":"a"}"#),
        "{page}"
    );
}

/// Chromium as a person would use it: the shell frames grain a's page, its "link" button sends
/// a real `powerboxRequest`, the shell's picker offers grain b, and after the click the page
/// shows the link working — claimed through a's bridge, answered by b's.
#[test]
fn a_link_made_in_headless_chromium() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));

    let chromium = soiree_test_support::Chromium::start(&echo.work.path().join("chromium-profile"));
    let shell_url = format!("http://127.0.0.1:{}/grain/a/?path=/link", up.addr.port());
    let result = chromium.run(|c| async move {
        enter_grain_frame(&c, &shell_url).await?;
        link_through_picker(&c, "link", "powerbox-option-b-echo-api", "status", |t| {
            t.starts_with("linked")
        })
        .await
    });
    let text = result.unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    assert!(
        text.starts_with("linked\nclaim-status: 200\ncall-status: 200\n"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "h x-sandstorm-api: echo-api"), "{text}");
    drop(up);
}
