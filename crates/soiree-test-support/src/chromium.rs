//! Headless Chromium under chromedriver, driving the shell as a person would: a session run to its end, the grain's frame, and a link made through the shell's picker.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};

/// chromedriver on a free loopback port, for a headless Chromium with its profile in a folder
/// of the test's. Stopped when dropped.
pub struct Chromium {
    driver: Child,
    port: u16,
    profile: PathBuf,
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Chromium {
    /// Panics, saying what to install, when Chromium or its driver is missing.
    pub fn start(profile: &Path) -> Chromium {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "apt-get install chromium chromium-driver (.ci/run installs them)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free loopback port: {e}"));
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER}: {e}"));
        Chromium {
            driver,
            port,
            profile: profile.to_path_buf(),
        }
    }

    /// A WebDriver session with a new headless Chromium; waits for chromedriver to listen.
    pub async fn client(&self) -> Client {
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", self.profile.display())],
            }),
        );
        let mut last = String::new();
        for _ in 0..50 {
            match fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(c) => return c,
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start: {last}")
    }
}

impl Chromium {
    /// Runs `flow` in a new session on a runtime of its own, and closes the session. A failed
    /// step comes back with the source of the frame it failed in and of the whole page.
    pub fn run<T, F: Future<Output = Result<T, String>>>(
        &self,
        flow: impl FnOnce(Client) -> F,
    ) -> Result<T, String> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let c = self.client().await;
                let out = match flow(c.clone()).await {
                    Ok(v) => Ok(v),
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
            })
    }
}

/// A WebDriver error as the step of the flow that met it.
pub fn step(what: &'static str) -> impl Fn(CmdError) -> String {
    move |e| format!("{what}: {e}")
}

/// Opens the shell at `shell_url` and enters the frame it shows the grain in.
pub async fn enter_grain_frame(c: &Client, shell_url: &str) -> Result<(), String> {
    c.goto(shell_url).await.map_err(step("open the shell"))?;
    c.wait()
        .for_element(Locator::Id("grain-frame"))
        .await
        .map_err(step("the frame"))?
        .enter_frame()
        .await
        .map_err(step("enter the frame"))
}

/// A link made as a person makes it, from inside the grain's frame: the grain's `button` (its
/// page sends the real `powerboxRequest`), then `option` in the shell's picker, then back in
/// the frame, the text of the grain's `status` element once `done` says it is final (or after
/// 30 s, whatever it says then).
pub async fn link_through_picker(
    c: &Client,
    button: &str,
    option: &str,
    status: &str,
    done: impl Fn(&str) -> bool,
) -> Result<String, String> {
    c.wait()
        .for_element(Locator::Id(button))
        .await
        .map_err(step("the grain's link button"))?
        .click()
        .await
        .map_err(step("click link"))?;
    c.enter_parent_frame().await.map_err(step("leave the frame"))?;
    c.wait()
        .for_element(Locator::Id(option))
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
    let status = c.find(Locator::Id(status)).await.map_err(step("the status"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = status.text().await.map_err(step("the status text"))?;
        if done(&text) || Instant::now() > deadline {
            return Ok(text);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
