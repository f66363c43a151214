//! `soiree-pack run`: a party's package (planned and staged) and the same package built into an
//! .spk, each run in bubblewrap with the shipped supervisor; Redis inside answers through the
//! forwarded port; SIGINT (Ctrl-C) stops the grain cleanly with exit code 0.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{text, Party};
use soiree_test_support::Logged;

const REDIS_RECIPE: &str = r#"
[[files]]
source = "redis"
from = "usr/bin/redis-server"
to = "/usr/bin/redis-server"
executable = true

[services.redis]
command = ["/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", "6379", "--dir", "/var/redis", "--save", ""]
var-dirs = ["redis"]
ready = { tcp = 6379 }
"#;

fn party() -> Party {
    let redis = common::program("/usr/bin/redis-server", "redis-server");
    let party = Party::new("redis = { path = \"inputs/redis\" }", &["redis"]);
    party.copy(&redis, "inputs/redis/usr/bin/redis-server");
    party.recipe("redis", REDIS_RECIPE);
    party
}

/// `soiree-pack run ARGS` in the party directory, its stderr collected.
struct Run(Logged);

impl Run {
    fn start(party: &Party, args: &[&str]) -> Run {
        let mut cmd = common::soiree(party.dir.path(), party.dir.path());
        cmd.arg("run").args(args);
        Run(Logged::stderr(cmd, "run"))
    }

    fn log(&self) -> String {
        self.0.log()
    }

    fn wait_log(&mut self, want: &str) {
        self.0.wait_log(want, Duration::from_secs(60));
    }

    /// The host address `run` printed for grain TCP port `port`.
    fn host_addr(&self, port: u16) -> String {
        let log = self.log();
        let prefix = format!("grain tcp port {port} is ");
        let line = log.lines().find(|l| l.contains(&prefix)).unwrap();
        let rest = &line[line.find(&prefix).unwrap() + prefix.len()..];
        rest.split_whitespace().next().unwrap().to_string()
    }

    /// Ctrl-C, then the exit code.
    fn interrupt(mut self) -> (Option<i32>, String) {
        self.0.interrupt(Duration::from_secs(60))
    }
}

fn ping(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    text(&buf[..n])
}

#[test]
fn runs_a_package_and_its_spk_and_stops_on_ctrl_c() {
    let party = party();
    // From the party: planned and staged.
    let mut run = Run::start(&party, &["app", "--offline", "--tcp", "6379:0"]);
    run.wait_log("services of `app` are up");
    assert_eq!(ping(&run.host_addr(6379)), "+PONG\r\n", "{}", run.log());
    let (code, log) = run.interrupt();
    assert_eq!(code, Some(0), "{log}");
    for want in [
        "soiree-grain| redis is ready (tcp port 6379)",
        "soiree-grain| stopping redis",
        "soiree-grain| every service is stopped",
        "/var is .soiree/run/app/var",
    ] {
        assert!(log.contains(want), "no `{want}` in:\n{log}");
    }
    assert!(party.path(".soiree/run/app/var/redis").is_dir());

    // The same package built, from its .spk.
    party.build(&[]).unwrap_or_else(|o| panic!("{}", text(&o.stderr)));
    let mut run = Run::start(&party, &["dist/app.spk", "--tcp", "6379:0"]);
    run.wait_log("services of `app` are up");
    assert_eq!(ping(&run.host_addr(6379)), "+PONG\r\n", "{}", run.log());
    let (code, log) = run.interrupt();
    assert_eq!(code, Some(0), "{log}");
    // Each run's package files are gone; the grain's /var stays.
    let mut left: Vec<String> = std::fs::read_dir(party.path(".soiree/run/app"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["var", "var.lock"]);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let party = party();
    let out = party.run(&["run", "app", "--udp", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--udp `x` in `x` is not a port"));
    let out = party.run(&["run", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("the party has no package `nope`"));
}

/// `enter` runs a command inside the running grain: as uid 1000, with the package as `/`, in
/// the grain's pid namespace and with its /var.
#[test]
fn enter_runs_a_command_inside_the_running_grain() {
    let party = party();
    let dash = common::program("/usr/bin/dash", "dash");
    let id = common::program("/usr/bin/id", "coreutils");
    party.copy(&dash, "inputs/redis/bin/sh");
    party.copy(&id, "inputs/redis/usr/bin/id");
    party.recipe(
        "redis",
        &format!(
            "{REDIS_RECIPE}\n[[files]]\nsource = \"redis\"\nfrom = \"bin/sh\"\nto = \"/bin/sh\"\nexecutable = true\n\n\
             [[files]]\nsource = \"redis\"\nfrom = \"usr/bin/id\"\nto = \"/usr/bin/id\"\nexecutable = true\n"
        ),
    );
    let enter = |args: &[&str]| {
        common::soiree(party.dir.path(), party.dir.path())
            .arg("enter")
            .args(args)
            .output()
            .unwrap()
    };
    // Before the grain runs there is nothing to enter.
    let out = enter(&["app"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no grain `app` is running here"),
        "{}",
        text(&out.stderr)
    );

    let mut run = Run::start(&party, &["app", "--offline", "--tcp", "6379:0"]);
    run.wait_log("services of `app` are up");
    assert!(party.path(".soiree/run/app/grain.json").is_file());
    let script = "id -u; id -g; echo /*; echo /var/*; echo $HOME; echo $$";
    let out = enter(&["app", "--", "/bin/sh", "-c", script]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}\n{}", text(&out.stderr));
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], "1000", "{shown}");
    assert_eq!(lines[1], "1000", "{shown}");
    // The package's root, not the host's: no /home, no /work; /var holds Redis's folder.
    assert!(lines[2].contains("/sandstorm-manifest"), "{shown}");
    assert!(
        !lines[2].contains("/home") && !lines[2].contains("/root"),
        "{shown}"
    );
    assert!(lines[3].contains("/var/redis"), "{shown}");
    assert!(shown.contains("\n/var\n"), "HOME: {shown}");
    // In the grain's pid namespace the supervisor is 1, so the shell's pid is small.
    let pid: i32 = lines.last().unwrap().parse().unwrap();
    assert!(pid < 100, "{shown}");
    // A command's exit status is enter's.
    let out = enter(&["app", "--", "/bin/sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));

    let (code, log) = run.interrupt();
    assert_eq!(code, Some(0), "{log}");
    // The record goes with the grain.
    assert!(!party.path(".soiree/run/app/grain.json").exists());
    let out = enter(&["app"]);
    assert_eq!(out.status.code(), Some(2));
}
