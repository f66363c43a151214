//! The Powerbox between two grains of the echo package, as the shell's picker grants it: claimed
//! through the requesting grain's bridge, answered by the providing grain's; refusals; the same
//! link made by a person in headless Chromium.

mod common;

use std::time::Duration;

use common::echo_package::EchoPackage;
use common::http;

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
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let driver = std::path::Path::new("/usr/bin/chromedriver");
    assert!(
        chromium.exists() && driver.exists(),
        "apt-get install chromium chromium-driver (.ci/run installs them)"
    );
    let Some(echo) = EchoPackage::stage() else { return };
    let up = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut chromedriver = std::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let profile = echo.work.path().join("chromium-profile");
    let shell_url = format!("http://127.0.0.1:{}/grain/a/?path=/link", up.addr.port());
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            use fantoccini::Locator;
            let mut caps = fantoccini::wd::Capabilities::new();
            caps.insert(
                "goog:chromeOptions".into(),
                serde_json::json!({
                    "binary": chromium,
                    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync",
                             format!("--user-data-dir={}", profile.display())],
                }),
            );
            let mut client = None;
            // chromedriver takes a moment to listen.
            for _ in 0..50 {
                match fantoccini::ClientBuilder::new(
                        hyper_util::client::legacy::connect::HttpConnector::new(),
                    )
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
                    {
                        Ok(c) => {
                            client = Some(c);
                            break;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
            }
            let c = client.expect("chromedriver did not start");
            let step = |what: &'static str| move |e: fantoccini::error::CmdError| format!("{what}: {e}");
            let run = async {
                c.goto(&shell_url).await.map_err(step("open the shell"))?;
                c.wait()
                    .for_element(Locator::Id("grain-frame"))
                    .await
                    .map_err(step("the frame"))?
                    .enter_frame()
                    .await
                    .map_err(step("enter the frame"))?;
                c.wait()
                    .for_element(Locator::Id("link"))
                    .await
                    .map_err(step("the grain's link button"))?
                    .click()
                    .await
                    .map_err(step("click link"))?;
                c.enter_parent_frame().await.map_err(step("leave the frame"))?;
                c.wait()
                    .for_element(Locator::Id("powerbox-option-b-echo-api"))
                    .await
                    .map_err(step("the picker's option"))?
                    .click()
                    .await
                    .map_err(step("click the option"))?;
                c.find(Locator::Id("grain-frame"))
                    .await
                    .map_err(step("the frame again"))?
                    .enter_frame()
                    .await
                    .map_err(step("enter the frame again"))?;
                let status = c.find(Locator::Id("status")).await.map_err(step("the status"))?;
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                loop {
                    let text = status.text().await.map_err(step("the status text"))?;
                    if text.starts_with("linked") || std::time::Instant::now() > deadline {
                        return Ok::<String, String>(text);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            let out = match run.await {
                Ok(t) => Ok(t),
                Err(e) => {
                    let here = c.source().await.unwrap_or_default();
                    let _ = c.enter_parent_frame().await;
                    Err(format!(
                        "{e}\nframe:\n{here}\npage:\n{}",
                        c.source().await.unwrap_or_default()
                    ))
                }
            };
            let _ = c.close().await;
            out
        });
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
    let text = result.unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    assert!(
        text.starts_with("linked\nclaim-status: 200\ncall-status: 200\n"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "h x-sandstorm-api: echo-api"), "{text}");
    drop(up);
}
