//! The demo party comes up linked: `up --profile demo` with Sandstorm's real HTTP bridge, the
//! Server and Client grains' requests for Uro granted as a browser does it (the shell's picker,
//! then the grain's own claim endpoint, `/.soiree/links/NAME/claim`), the game server
//! registering its shard through its forwarder and the Client's page reading the list through
//! its own link. After a restart of `up` the links and Uro's data are still there. And the same
//! link made in headless Chromium: the Server's link page in the shell, its button, the
//! shell's picker.

mod common;

use soiree_test_support::{enter_grain_frame, http_request, link_through_picker, wait_until, Logged};

use std::path::{Path, PathBuf};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Up {
    up: Logged,
    port: u16,
}

impl Up {
    /// `soiree-pack up --profile demo EXTRA…` in `cwd`, waited for until every grain is up.
    fn start(cwd: &Path, bundle: &Path, extra: &[&str]) -> Up {
        let party = repo().join("party.toml");
        let mut cmd = common::soiree(cwd, cwd);
        cmd.args(["up", "--profile", "demo"])
            .args(extra)
            .args(["--port", "0", "--idle", "0", "--party"])
            .arg(&party)
            .arg("--source")
            .arg(format!("sandstorm-bundle={}", bundle.display()))
            .env("NO_COLOR", "1");
        let mut up = Logged::stderr(cmd, "up");
        let text = up.wait_log("Ctrl-C stops every grain", Duration::from_secs(400));
        let port = soiree_test_support::gateway_port(&text)
            .unwrap_or_else(|| panic!("no gateway address in:\n{text}"));
        Up { up, port }
    }

    fn log(&self) -> String {
        self.up.log()
    }

    fn wait_log(&mut self, want: &str, within: Duration) {
        self.up.wait_log(want, within);
    }

    /// Waits until the services of every one of `grains` are up.
    fn wait_grains(&mut self, grains: &[&str]) {
        for grain in grains {
            self.wait_log(&format!("services of `{grain}` are up"), Duration::from_secs(120));
        }
    }

    fn http(
        &self,
        host: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let host = format!("{host}:{}", self.port);
        http_request(self.port, &host, method, path, headers, body)
    }

    /// Ctrl-C, and up's exit 0.
    fn stop(mut self) -> String {
        let (code, log) = self.up.interrupt(Duration::from_secs(60));
        assert_eq!(code, Some(0), "{log}");
        log
    }
}

/// What a browser does when the grain's link button is clicked and the owner picks Uro in the
/// shell's picker: the shell's grant, then the grain page's POST of the token to its claim
/// endpoint (through the gateway and the grain's bridge, as the owner's session). The token.
fn link(up: &Up, grain: &str, request: &str) -> String {
    let query = serde_json::json!([descriptor(up, grain, request)]);
    let (status, granted) = up.http(
        "localhost",
        "POST",
        "/_soiree/powerbox/grant",
        &[],
        &serde_json::json!({"grain": grain, "as": "owner", "query": query, "provider": "uro", "api": "uro-api"})
            .to_string(),
    );
    assert_eq!(status, 200, "{granted}\n{}", up.log());
    let granted: serde_json::Value = serde_json::from_str(&granted).unwrap();
    let token = granted["token"].as_str().unwrap().to_string();
    assert_eq!(
        claim(up, grain, request, &token),
        (200, r#"{"linked":true}"#.to_string()),
        "{}",
        up.log()
    );
    token
}

/// The grain page's POST of a request token to its claim endpoint, as the owner.
fn claim(up: &Up, grain: &str, request: &str, token: &str) -> (u16, String) {
    up.http(
        &format!("ui-{grain}.localhost"),
        "POST",
        &format!("/.soiree/links/{request}/claim"),
        &[("Content-Type", "application/json")],
        &serde_json::json!({ "requestToken": token }).to_string(),
    )
}

/// The descriptor a grain's link page passes to `powerboxRequest` for `request`.
fn descriptor(up: &Up, grain: &str, request: &str) -> String {
    let (status, page) = up.http(
        &format!("ui-{grain}.localhost"),
        "GET",
        "/.soiree/links/",
        &[],
        "",
    );
    assert_eq!(status, 200, "{page}");
    let row = page
        .split(&format!("data-request=\"{request}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no row for {request}:\n{page}"));
    row.split("data-descriptor=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string()
}

#[test]
fn the_demo_party_comes_up_linked_and_stays_linked_after_a_restart() {
    let Some(bundle) = soiree_test_support::sandstorm_bundle() else {
        return;
    };
    let cwd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();

    // First the pages before any link, in a party started without `--link`.
    let mut up = Up::start(cwd.path(), &bundle, &[]);
    up.wait_grains(&["uro", "server", "client"]);
    // The pages say so, the client's list says which request to grant (the forwarder's 503,
    // which Sandstorm's gateway turns into a 500 with the text kept).
    let (status, links) = up.http("ui-server.localhost", "GET", "/.soiree/links/status", &[], "");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&links).unwrap(),
        serde_json::json!({"uro": {"linked": false}, "players-udp": {"linked": false}})
    );
    let (status, js) = up.http("ui-server.localhost", "GET", "/.soiree/links/links.js", &[], "");
    assert_eq!(status, 200);
    assert!(js.contains("powerboxRequest"), "{js}");
    let (status, unlinked) = up.http("ui-client.localhost", "GET", "/api/v1/shards", &[], "");
    assert_eq!(status, 500, "{unlinked}");
    assert!(unlinked.contains("grant its request `uro`"), "{unlinked}");
    up.stop();

    // The issue's command line: `up` makes both links as the owner would in the picker.
    let links = ["--link", "server.uro=uro", "--link", "client.uro=uro"];
    let up = Up::start(cwd.path(), &bundle, &links);
    let log = up.log();
    for grain in ["server", "client"] {
        assert!(
            log.contains(&format!(
                "linked {grain}.uro to uro's API `uro-api` (V-Sekai Uro API)"
            )),
            "{log}"
        );
    }

    // The game server, retrying while it got 503, registers through its forwarder; the
    // client's page reads the list through its own link.
    let shards = shard_list(&up);
    let list: serde_json::Value = serde_json::from_str(&shards).unwrap();
    let shard = &list["data"]["shards"][0];
    assert_eq!(shard["port"], 7777, "{shards}");
    assert_eq!(shard["name"], "soiree demo", "{shards}");
    let id = shard["id"].as_i64().unwrap();
    let registered = format!("server: registered with Uro as shard {id}");
    assert!(up.log().contains(&registered), "{}", up.log());
    // The client page fetches that list; a visitor cannot register through the client's link.
    let (_, page) = up.http("ui-client.localhost", "GET", "/", &[], "");
    assert!(
        page.contains("shards.js") && page.contains(".soiree/links/"),
        "{page}"
    );
    let (status, _) = up.http("ui-client.localhost", "POST", "/api/v1/shards", &[], "{}");
    assert_ne!(status, 200);

    // The capability is kept under the grain's /var, for the grain's user only.
    let cap = cwd.path().join(".soiree/up/server/var/.soiree/links/uro.cap");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cap).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let kept = std::fs::read_to_string(&cap).unwrap();
    let (_, status) = up.http("ui-server.localhost", "GET", "/.soiree/links/status", &[], "");
    assert!(status.contains(r#""uro":{"linked":true}"#), "{status}");
    up.stop();

    // Restarted without `--link`: the links still work, through the restored capabilities.
    let up = Up::start(cwd.path(), &bundle, &[]);
    assert!(!up.log().contains("linked server.uro"), "{}", up.log());
    assert_eq!(std::fs::read_to_string(&cap).unwrap(), kept);
    let (_, status) = up.http("ui-server.localhost", "GET", "/.soiree/links/status", &[], "");
    assert!(status.contains(r#""uro":{"linked":true}"#), "{status}");
    // The game server, started again, registers again through its restored link (a new log's
    // line), and the client lists shards through its own.
    wait_until(
        "the server's registration after the restart",
        Duration::from_secs(60),
        || {
            up.log()
                .contains("server: registered with Uro as shard")
                .then_some(())
        },
        || up.log(),
    );
    let shards = shard_list(&up);
    assert!(shards.contains("soiree demo"), "{shards}");
    // Its heartbeats (every 10 s) reach Uro through the same link: none is refused once it
    // registered (before, while Uro was starting, some may have been).
    std::thread::sleep(Duration::from_secs(12));
    let log = up.log();
    let since = log.find("server: registered with Uro").unwrap_or(0);
    assert!(!log[since..].contains("server: Uro answered"), "{log}");
    // The shard registered before the restart survived in Uro's Redis: the owner, who holds
    // Uro's `host` permission, heartbeats it in Uro's own grain.
    let (status, beat) = up.http(
        "ui-uro.localhost",
        "PUT",
        &format!("/api/v1/shards/{id}"),
        &[],
        r#"{"shard": {"current_users": 1}}"#,
    );
    assert_eq!(
        status,
        200,
        "shard {id} survived in Uro's Redis: {beat}\n{}",
        up.log()
    );

    // A claim the Powerbox refuses is refused by the grain too, and keeps nothing: a token
    // that was never granted, and one already claimed.
    let (status, why) = claim(&up, "server", "uro", "bm90IGEgdG9rZW4");
    assert_eq!(status, 500, "{why}");
    assert!(why.contains("the claim was refused"), "{why}");
    assert_eq!(std::fs::read_to_string(&cap).unwrap(), kept);
    let client_cap = cwd.path().join(".soiree/up/client/var/.soiree/links/uro.cap");
    let token = link(&up, "client", "uro");
    let relinked = std::fs::read_to_string(&client_cap).unwrap();
    let (status, why) = claim(&up, "client", "uro", &token);
    assert_eq!(status, 500, "{why}");
    assert!(why.contains("the claim was refused"), "{why}");
    assert_eq!(std::fs::read_to_string(&client_cap).unwrap(), relinked);
    assert!(shard_list(&up).contains("soiree demo"));

    // An anonymous visitor of the Client grain (shared with players) cannot unlink it.
    let (status, _) = up.http(
        "ui-client.localhost",
        "POST",
        "/.soiree/links/uro/unlink",
        &[("Cookie", "soiree-as=anonymous")],
        "",
    );
    assert_eq!(status, 403);
    // Unlinked by its owner, the forwarder answers 503 again.
    let (status, _) = up.http(
        "ui-client.localhost",
        "POST",
        "/.soiree/links/uro/unlink",
        &[],
        "",
    );
    assert_eq!(status, 200);
    let (status, unlinked) = up.http("ui-client.localhost", "GET", "/api/v1/shards", &[], "");
    assert_eq!(status, 500, "{unlinked}");
    assert!(unlinked.contains("grant its request `uro`"), "{unlinked}");
    up.stop();
}

/// The client's shard list through its link, once it answers 200 with the demo's shard.
fn shard_list(up: &Up) -> String {
    wait_until(
        "the server's shard in the client's list",
        Duration::from_secs(60),
        || {
            let (status, body) = up.http("ui-client.localhost", "GET", "/api/v1/shards", &[], "");
            (status == 200 && body.contains("soiree demo")).then_some(body)
        },
        || up.log(),
    )
}

/// Chromium as a person would use it: the shell frames the Server grain's link page, its
/// "link" button sends the real `powerboxRequest`, the shell's picker offers the Uro grain, and
/// after the click the page reports the link, which the grain keeps.
#[test]
fn a_link_made_in_headless_chromium_from_the_server_grains_page() {
    let Some(bundle) = soiree_test_support::sandstorm_bundle() else {
        return;
    };
    let cwd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut up = Up::start(cwd.path(), &bundle, &[]);
    up.wait_grains(&["uro", "server"]);
    // The Uro grain is opened once, so that its bridge knows its owner.
    assert_eq!(
        up.http("ui-uro.localhost", "GET", "/api/v1/health", &[], "").0,
        200
    );

    let chromium = soiree_test_support::Chromium::start(&cwd.path().join("chromium-profile"));
    // The server's own page links to its link page; the shell opens it at that path.
    let (_, index) = up.http("ui-server.localhost", "GET", "/", &[], "");
    assert!(index.contains(r#"href=".soiree/links/""#), "{index}");
    let shell_url = format!("http://127.0.0.1:{}/grain/server/?path=/.soiree/links/", up.port);
    let result = chromium.run(|c| async move {
        enter_grain_frame(&c, &shell_url).await?;
        link_through_picker(&c, "link-uro", "powerbox-option-uro-uro-api", "status-uro", |t| {
            t == "linked" || t.starts_with("not linked:")
        })
        .await
    });
    let text = result.unwrap_or_else(|e| panic!("{e}\nlog:\n{}", up.log()));
    assert_eq!(text, "linked", "{}", up.log());
    let (_, status) = up.http("ui-server.localhost", "GET", "/.soiree/links/status", &[], "");
    assert!(status.contains(r#""uro":{"linked":true}"#), "{status}");
    // And the game server gets through: Uro logs its shard.
    up.wait_log("uro: shard 1 registered: soiree demo", Duration::from_secs(60));
    up.stop();
}
