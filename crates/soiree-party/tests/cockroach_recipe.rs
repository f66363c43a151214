//! The cockroachdb recipe, as the repository's party composes it, against CockroachDB's documented
//! `start-single-node` flags (cockroachdb/docs, v25.1 `cockroach-start-single-node.md`) and the
//! constraints of a grain: loopback only, only `/var` writable, no `/proc/meminfo`. CockroachDB
//! itself cannot be fetched here, so the command line is what is checked.

use std::path::PathBuf;

use soiree_party::{Ready, Service};

/// `start-single-node` flags that take a value, from the documented flag table.
const VALUE_FLAGS: &[&str] = &[
    "--listen-addr",
    "--http-addr",
    "--sql-addr",
    "--advertise-addr",
    "--store",
    "--cache",
    "--max-sql-memory",
    "--max-tsdb-memory",
    "--max-go-memory",
    "--temp-dir",
    "--external-io-dir",
    "--socket-dir",
    "--pid-file",
    "--listening-url-file",
    "--certs-dir",
    "--log-dir",
    "--locality",
];
/// Documented flags without a value.
const SWITCHES: &[&str] = &["--insecure", "--accept-sql-without-tls", "--background"];

fn uro_services() -> Vec<Service> {
    let party = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../party.toml");
    let party = soiree_party::load(&party, None)
        .unwrap_or_else(|p| panic!("{}", p.0.iter().map(|e| e.render_plain()).collect::<String>()));
    party
        .packages
        .into_iter()
        .find(|p| p.name == "uro")
        .expect("uro package")
        .services
}

fn flags(command: &[String]) -> Vec<(String, Option<String>)> {
    command[2..]
        .iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        })
        .collect()
}

fn absolute_size(v: &str) -> bool {
    let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !v.contains('%') && !v.contains('.') && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn cockroach_starts_single_node_on_loopback_with_its_store_in_var() {
    let services = uro_services();
    let db = services
        .iter()
        .find(|s| s.name == "cockroachdb")
        .expect("cockroachdb service");
    assert!(db.command[0].ends_with("/cockroach"), "{:?}", db.command);
    assert_eq!(db.command[1], "start-single-node");
    let flags = flags(&db.command);
    for (flag, value) in &flags {
        match value {
            Some(_) => assert!(VALUE_FLAGS.contains(&flag.as_str()), "undocumented flag {flag}"),
            None => assert!(SWITCHES.contains(&flag.as_str()), "undocumented switch {flag}"),
        }
    }
    let get = |name: &str| flags.iter().find(|(f, _)| f == name).and_then(|(_, v)| v.clone());
    assert!(
        flags.iter().any(|(f, _)| f == "--insecure"),
        "insecure: the grain's loopback is private"
    );
    assert!(
        !flags.iter().any(|(f, _)| f == "--background"),
        "the supervisor runs it in the foreground"
    );
    let listen = get("--listen-addr").expect("--listen-addr");
    let http = get("--http-addr").expect("--http-addr");
    assert!(
        listen.starts_with("127.0.0.1:") && http.starts_with("127.0.0.1:"),
        "{listen} {http}"
    );

    // Everything it writes (store, logs, temp dir) lives under the store: /var/cockroach.
    let store = get("--store").expect("--store");
    let fields: Vec<&str> = store.split(',').collect();
    assert!(fields.contains(&"path=/var/cockroach"), "{store}");
    assert!(
        fields.contains(&"ballast-size=0"),
        "no ballast file in a grain: {store}"
    );
    assert!(db.var_dirs.iter().any(|d| d == "cockroach"));

    // Percentages read /proc/meminfo, which a grain does not have.
    for flag in ["--cache", "--max-sql-memory", "--max-tsdb-memory"] {
        let v = get(flag).unwrap_or_else(|| panic!("{flag} must be given: its default is a percentage"));
        assert!(absolute_size(&v), "{flag}={v} is not an absolute size");
    }
    assert_eq!(
        db.env
            .get("COCKROACH_SKIP_ENABLING_DIAGNOSTIC_REPORTING")
            .map(String::as_str),
        Some("true"),
        "diagnostics reporting off"
    );

    // Ready when /health?ready=1 answers on the HTTP port it listens on.
    let http_port: u16 = http
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("http port");
    assert_eq!(
        db.ready,
        Some(Ready::Http(format!(
            "http://127.0.0.1:{http_port}/health?ready=1"
        )))
    );
    let sql_port: u16 = listen
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("sql port");
    assert!(db.ports.contains(&sql_port) && db.ports.contains(&http_port));
}

#[test]
fn cockroach_creates_the_database_uro_connects_to_on_first_run() {
    let services = uro_services();
    let db = services
        .iter()
        .find(|s| s.name == "cockroachdb")
        .expect("cockroachdb service");
    let uro = services.iter().find(|s| s.name == "uro").expect("uro service");
    let url = &uro.env["DATABASE_URL"];
    let (hostport, database) = url
        .strip_prefix("postgresql://root@")
        .and_then(|r| r.split_once('/'))
        .unwrap_or_else(|| panic!("{url}"));
    let listen = db
        .command
        .iter()
        .find_map(|a| a.strip_prefix("--listen-addr="))
        .expect("listen");
    assert_eq!(hostport, listen, "Uro connects where CockroachDB listens");

    assert_eq!(db.first_run.len(), 1);
    let step = &db.first_run[0];
    assert_eq!(step[0], db.command[0], "the same binary's SQL shell");
    assert_eq!(step[1], "sql");
    assert!(step.contains(&"--insecure".to_string()));
    assert!(step.contains(&format!("--host={listen}")), "{step:?}");
    let e = step.iter().position(|a| a == "-e").expect("-e STATEMENT");
    assert_eq!(step[e + 1], format!("CREATE DATABASE IF NOT EXISTS {database}"));
    assert!(uro.after.contains(&"cockroachdb".to_string()) && uro.after.contains(&"redis".to_string()));
    assert_eq!(
        uro.pre_start,
        [["/opt/uro/bin/uro", "eval", "Uro.Release.migrate()"]]
    );
}
