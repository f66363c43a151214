//! The real `soiree-grain` binary supervising real processes (sh and python3): start order,
//! readiness checks, first-run markers, restarts with backoff, stop order, log prefixes,
//! environment, /var directories and the relay for `soiree-pack run`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use soiree_test_support::{free_tcp_port, Logged};

/// A supervisor process with its stderr collected.
struct Grain(Logged);

struct Dirs {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    var: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let var = root.join("var");
    std::fs::create_dir(&var).unwrap();
    Dirs { _tmp: tmp, root, var }
}

/// A service running `script` with sh.
fn sh(name: &str, script: &str) -> Value {
    json!({ "name": name, "command": ["/bin/sh", "-c", script] })
}

fn with(mut service: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        service[k] = v.clone();
    }
    service
}

impl Grain {
    fn start(d: &Dirs, services: Vec<Value>) -> Grain {
        Grain::start_with(
            d,
            json!({ "package": "test", "env": {}, "services": services }),
            &[],
        )
    }

    fn start_with(d: &Dirs, config: Value, env: &[(&str, &Path)]) -> Grain {
        let file = d.root.join("services.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-grain"));
        cmd.arg("--var")
            .arg(&d.var)
            .arg(&file)
            .current_dir(&d.root)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("T", &d.root);
        Grain(Logged::stderr(cmd, "the supervisor"))
    }

    fn log(&self) -> String {
        self.0.log()
    }

    /// Waits until the log holds `text`.
    fn wait_log(&mut self, text: &str, secs: u64) {
        self.0.wait_log(text, Duration::from_secs(secs));
    }

    fn up(&mut self) {
        self.wait_log("services of `test` are up", 30);
    }

    fn signal(&self, sig: i32) {
        self.0.signal(sig);
    }

    /// Waits for the supervisor to exit (at most `secs`) and returns its exit code.
    fn wait(mut self, secs: u64) -> (Option<i32>, String) {
        self.0.finish(Duration::from_secs(secs))
    }

    fn stop(self) -> String {
        self.signal(libc::SIGTERM);
        let (code, log) = self.wait(30);
        assert_eq!(code, Some(0), "log:\n{log}");
        log
    }
}

fn positions(log: &str, texts: &[&str]) -> Vec<usize> {
    texts
        .iter()
        .map(|t| log.find(t).unwrap_or_else(|| panic!("no `{t}` in:\n{log}")))
        .collect()
}

fn assert_in_order(log: &str, texts: &[&str]) {
    let p = positions(log, texts);
    assert!(
        p.windows(2).all(|w| w[0] < w[1]),
        "not in the order {texts:?}:\n{log}"
    );
}

/// A service that records its start and stop in `$T/events` and waits for SIGTERM.
fn recorder(name: &str) -> Value {
    sh(
        name,
        &format!(
            "echo started {name} >> \"$T/events\"; \
             trap 'echo stopped {name} >> \"$T/events\"; exit 0' TERM; \
             touch \"$T/{name}.up\"; while :; do sleep 0.05; done"
        ),
    )
}

#[test]
fn starts_in_dependency_order_and_stops_in_reverse() {
    let d = dirs();
    let file = |n: &str| json!({ "file": d.root.join(format!("{n}.up")) });
    let mut g = Grain::start(
        &d,
        vec![
            with(
                recorder("web"),
                json!({ "after": ["db", "cache"], "ready": file("web") }),
            ),
            with(recorder("db"), json!({ "ready": file("db") })),
            with(
                recorder("cache"),
                json!({ "after": ["db"], "ready": file("cache") }),
            ),
        ],
    );
    g.up();
    let log = g.stop();
    let events = std::fs::read_to_string(d.root.join("events")).unwrap();
    assert_eq!(
        events.lines().collect::<Vec<_>>(),
        [
            "started db",
            "started cache",
            "started web",
            "stopped web",
            "stopped cache",
            "stopped db"
        ],
        "log:\n{log}"
    );
    assert_in_order(
        &log,
        &["stopping web", "web stopped", "stopping cache", "stopping db"],
    );
}

#[test]
fn a_cycle_or_an_unknown_dependency_stops_before_starting_anything() {
    for (services, want) in [
        (
            vec![
                with(recorder("a"), json!({ "after": ["b"] })),
                with(recorder("b"), json!({ "after": ["a"] })),
            ],
            "services wait for each other: a → b → a",
        ),
        (
            vec![with(recorder("a"), json!({ "after": ["nope"] }))],
            "service `a` starts after `nope`, but there is no service `nope`",
        ),
    ] {
        let d = dirs();
        let (code, log) = Grain::start(&d, services).wait(10);
        assert_eq!(code, Some(1), "{log}");
        assert!(log.contains(want), "{log}");
        assert!(!d.root.join("events").exists(), "nothing may start");
    }
}

/// A python3 server of `kind` that starts listening after half a second.
fn python_server(name: &str, kind: &str, port: u16, path: &Path) -> Value {
    let program = format!(
        "import time, socket, http.server, os, socketserver\n\
         time.sleep(0.5)\n\
         kind, port, path = {kind:?}, {port}, {path:?}\n\
         if kind == 'tcp':\n    s = socket.socket(); s.bind(('127.0.0.1', port)); s.listen()\n\
         elif kind == 'unix':\n    s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen()\n\
         elif kind == 'http':\n    os.chdir(path); s = http.server.HTTPServer(('127.0.0.1', port), http.server.SimpleHTTPRequestHandler); s.serve_forever()\n\
         elif kind == 'file':\n    open(path, 'w').close()\n\
         while True: time.sleep(1)\n",
        path = path.to_str().unwrap()
    );
    json!({ "name": name, "command": ["python3", "-c", program] })
}

#[test]
fn waits_for_tcp_http_unix_and_file_readiness() {
    let d = dirs();
    let (tcp, http) = (free_tcp_port(), free_tcp_port());
    let sock = d.root.join("s.sock");
    let file = d.root.join("ready.flag");
    let mut g = Grain::start(
        &d,
        vec![
            with(
                python_server("t", "tcp", tcp, Path::new("")),
                json!({ "ready": { "tcp": tcp } }),
            ),
            with(
                python_server("h", "http", http, &d.root),
                json!({ "ready": { "http": format!("http://localhost:{http}/") } }),
            ),
            with(
                python_server("u", "unix", 0, &sock),
                json!({ "ready": { "unix": sock } }),
            ),
            with(
                python_server("f", "file", 0, &file),
                json!({ "ready": { "file": file } }),
            ),
            with(recorder("last"), json!({ "after": ["t", "h", "u", "f"] })),
        ],
    );
    g.up();
    let log = g.stop();
    assert_in_order(
        &log,
        &[
            &format!("t is ready (tcp port {tcp})"),
            &format!("h is ready (GET http://localhost:{http}/)"),
            &format!("u is ready (unix socket {})", sock.display()),
            &format!("f is ready (file {})", file.display()),
            "starting last",
        ],
    );
}

/// A UDP service is ready when it says so: its next service starts only after the line, and
/// a restart waits for the line again; a service that never prints it is not ready.
#[test]
fn log_readiness_waits_for_a_line_of_the_services_output() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![
            with(
                // Crashes once before the line, so readiness must come from the second process.
                sh(
                    "game",
                    "if [ ! -e \"$T/crashed\" ]; then touch \"$T/crashed\"; echo listening soon; exit 1; fi; \
                     sleep 0.5; echo warming up; echo 'server: listening on UDP 7777'; while :; do sleep 0.05; done",
                ),
                json!({ "ready": { "log": "listening on UDP 7777" } }),
            ),
            with(recorder("after-game"), json!({ "after": ["game"] })),
        ],
    );
    g.up();
    let log = g.log();
    assert_in_order(
        &log,
        &[
            "game| listening soon",
            "game| server: listening on UDP 7777",
            "game is ready (a line with \"listening on UDP 7777\" in its output)",
            "starting after-game",
        ],
    );
    g.stop();

    let d = dirs();
    let g = Grain::start(
        &d,
        vec![with(
            sh("silent", "echo nothing to see; while :; do sleep 0.05; done"),
            json!({ "ready": { "log": "listening" }, "ready_timeout": 1 }),
        )],
    );
    let (code, log) = g.wait(30);
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains("service `silent` was not ready after 1 s (a line with \"listening\" in its output: no such line in its output yet)"),
        "{log}"
    );
}

#[test]
fn a_readiness_timeout_stops_the_grain_with_an_error() {
    let d = dirs();
    let port = free_tcp_port();
    let url = format!("http://127.0.0.1:{port}/missing");
    let g = Grain::start(
        &d,
        vec![
            with(recorder("first"), json!({})),
            with(
                // Answers 404: up, but not ready.
                python_server("web", "http", port, &d.root),
                json!({ "ready": { "http": url }, "ready_timeout": 2, "after": ["first"] }),
            ),
            with(recorder("never"), json!({ "after": ["web"] })),
        ],
    );
    let (code, log) = g.wait(30);
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains(&format!(
            "error: service `web` was not ready after 2 s (GET {url}: answered 404)"
        )),
        "{log}"
    );
    assert!(
        log.contains("stopping web") && log.contains("stopping first"),
        "{log}"
    );
    let events = std::fs::read_to_string(d.root.join("events")).unwrap();
    assert_eq!(events, "started first\nstopped first\n");
}

#[test]
fn first_run_commands_run_once_per_grain() {
    let d = dirs();
    let service = with(
        recorder("db"),
        json!({ "first_run": [
            ["/bin/sh", "-c", "echo once >> \"$T/first-run\""],
            ["/bin/sh", "-c", "echo twice-in-a-row >> \"$T/first-run\""],
        ] }),
    );
    for _ in 0..2 {
        let mut g = Grain::start(&d, vec![service.clone()]);
        g.up();
        g.stop();
    }
    assert_eq!(
        std::fs::read_to_string(d.root.join("first-run")).unwrap(),
        "once\ntwice-in-a-row\n"
    );
    assert!(d.var.join(".soiree/first-run/db.done").is_file());
}

#[test]
fn a_failed_first_run_fails_the_start_and_runs_again_next_time() {
    let d = dirs();
    let service = with(
        recorder("db"),
        json!({ "first_run": [["/bin/sh", "-c", "echo try >> \"$T/tries\"; test -e \"$T/fixed\""]] }),
    );
    let (code, log) = Grain::start(&d, vec![service.clone()]).wait(30);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("first-run command `/bin/sh -c"), "{log}");
    assert!(log.contains("failed (status 1)"), "{log}");
    assert!(!d.var.join(".soiree/first-run/db.done").exists());
    std::fs::write(d.root.join("fixed"), "").unwrap();
    let mut g = Grain::start(&d, vec![service]);
    g.up();
    g.stop();
    assert_eq!(
        std::fs::read_to_string(d.root.join("tries")).unwrap(),
        "try\ntry\n"
    );
    assert!(d.var.join(".soiree/first-run/db.done").exists());
}

#[test]
fn a_crashing_service_restarts_with_growing_delays() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![sh(
            "flaky",
            "python3 -c 'import time; print(time.monotonic())' >> \"$T/starts\"; exit 3",
        )],
    );
    g.wait_log("starting it again in 2.0 s", 20);
    // The fourth start, 2 s after the third.
    let deadline = Instant::now() + Duration::from_secs(20);
    let starts = loop {
        let starts: Vec<f64> = std::fs::read_to_string(d.root.join("starts"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        if starts.len() >= 4 || Instant::now() > deadline {
            break starts;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = g.stop();
    assert!(starts.len() >= 4, "{starts:?}\n{log}");
    let gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    // 0.5 s, 1 s, 2 s, plus the time python3 takes to start.
    for (gap, want) in gaps.iter().zip([0.5, 1.0, 2.0]) {
        assert!(*gap >= want && *gap < want + 1.5, "gaps {gaps:?}\n{log}");
    }
    assert!(
        log.contains("flaky exited (status 3); starting it again in 0.5 s"),
        "{log}"
    );
    assert!(
        log.contains("flaky exited (status 3); starting it again in 1.0 s"),
        "{log}"
    );
}

#[test]
fn restart_policies_on_failure_and_never() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![
            with(
                sh("done", "echo run >> \"$T/done\"; exit 0"),
                json!({ "restart": "on-failure" }),
            ),
            with(
                sh("once", "echo run >> \"$T/once\"; exit 5"),
                json!({ "restart": "never" }),
            ),
        ],
    );
    g.up();
    g.wait_log("once exited (status 5); not restarted (restart: Never)", 10);
    g.wait_log("done exited (status 0); not restarted (restart: OnFailure)", 10);
    std::thread::sleep(Duration::from_millis(1500));
    g.stop();
    assert_eq!(std::fs::read_to_string(d.root.join("done")).unwrap(), "run\n");
    assert_eq!(std::fs::read_to_string(d.root.join("once")).unwrap(), "run\n");
}

#[test]
fn output_lines_are_prefixed_with_the_service_name() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![
            with(
                sh("talker", "echo to stdout; echo to stderr >&2; printf 'no newline'; sleep 1; echo ' later'; exec sleep 100"),
                json!({}),
            ),
            with(sh("other", "echo hello; exec sleep 100"), json!({})),
        ],
    );
    g.wait_log("talker|  later\n", 10);
    let log = g.stop();
    for line in [
        "talker| to stdout\n",
        "talker| to stderr\n",
        // Flushed after half a second without its end.
        "talker| no newline\n",
        "other| hello\n",
        "soiree-grain| starting talker: /bin/sh -c",
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
}

#[test]
fn services_get_the_package_env_their_own_env_and_workdir() {
    let d = dirs();
    let wd = d.root.join("wd");
    std::fs::create_dir(&wd).unwrap();
    let relay = tempfile::tempdir().unwrap();
    let config = json!({
        "package": "test",
        "env": { "A": "package", "B": "package" },
        "services": [with(
            sh("envy", "env > \"$T/env\"; pwd > \"$T/pwd\"; exec sleep 100"),
            json!({ "env": { "B": "service" }, "workdir": wd, "ready": { "file": d.root.join("pwd") } }),
        )],
    });
    let mut g = Grain::start_with(&d, config, &[("SOIREE_RUN_RELAY", relay.path())]);
    g.up();
    // The relay is served and the grain says when it is up.
    assert!(relay.path().join("sockets").exists());
    assert!(relay.path().join("ready").exists());
    g.stop();
    let env = std::fs::read_to_string(d.root.join("env")).unwrap();
    assert!(env.lines().any(|l| l == "A=package"), "{env}");
    assert!(env.lines().any(|l| l == "B=service"), "{env}");
    assert!(!env.contains("SOIREE_RUN_RELAY"), "{env}");
    assert_eq!(
        std::fs::read_to_string(d.root.join("pwd")).unwrap().trim(),
        wd.to_str().unwrap()
    );
}

#[test]
fn var_dirs_are_created_before_the_service_starts() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![with(
            sh(
                "db",
                "test -d \"$V/db/data\" && test -d \"$V/logs\" && touch \"$T/saw-dirs\"; exec sleep 100",
            ),
            json!({ "var_dirs": ["db/data", "logs"], "env": { "V": d.var }, "ready": { "file": d.root.join("saw-dirs") }, "ready_timeout": 5 }),
        )],
    );
    g.up();
    g.stop();
}

#[test]
fn a_service_that_ignores_sigterm_is_killed_after_its_stop_timeout() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![with(
            sh(
                "stubborn",
                "trap '' TERM; touch \"$T/up\"; while :; do sleep 0.05; done",
            ),
            json!({ "stop_timeout": 0.5, "ready": { "file": d.root.join("up") } }),
        )],
    );
    g.up();
    let started = Instant::now();
    let log = g.stop();
    assert!(started.elapsed() < Duration::from_secs(5), "{log}");
    assert!(
        log.contains("stubborn did not stop within 0.5 s: killing it"),
        "{log}"
    );
    assert!(log.contains("stubborn stopped (signal 9)"), "{log}");
}

#[test]
fn sigint_stops_the_grain_too() {
    let d = dirs();
    let mut g = Grain::start(&d, vec![recorder("a")]);
    g.up();
    g.signal(libc::SIGINT);
    let (code, log) = g.wait(30);
    assert_eq!(code, Some(0), "{log}");
    assert!(std::fs::read_to_string(d.root.join("events"))
        .unwrap()
        .contains("stopped a"));
}

/// A service that keeps exiting is reported as failing after a few exits in a row, with the
/// last lines it printed; it is still restarted.
#[test]
fn a_service_that_keeps_failing_is_reported_with_its_last_lines() {
    let d = dirs();
    let mut g = Grain::start(
        &d,
        vec![sh(
            "godot",
            "n=$(cat \"$T/n\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$T/n\"; \
             echo \"start $n\"; echo 'ERROR: cannot open project.godot' >&2; exit 1",
        )],
    );
    g.wait_log(
        "FAILING: service `godot` exited 4 times in a row (last: status 1)",
        30,
    );
    g.wait_log("starting godot", 5);
    let log = g.stop();
    let report = &log[log.find("FAILING").unwrap()..];
    // The lines of the fourth start, the last before the report, are there, prefixed.
    assert!(report.contains("\nsoiree-grain|   godot| start 4\n"), "{log}");
    assert!(
        report.contains("godot| ERROR: cannot open project.godot"),
        "{log}"
    );
    assert!(!report.lines().take(10).any(|l| l.contains("start 5")), "{log}");
    // Once, not at every exit after.
    assert_eq!(log.matches("FAILING").count(), 1, "{log}");
}
