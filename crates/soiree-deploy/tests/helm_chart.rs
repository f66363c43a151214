//! The repository's party as a Helm chart, linted and rendered by real Helm code (PyPI
//! `helm-python-sdk`, Helm v4 as a library) with the default values and with scaled ones, every
//! rendered manifest validated against Kubernetes' schemas (PyPI `kubernetes-validate`) by
//! `fixtures/deploy/check_chart.py`; then what the scaled values must have changed, the split
//! Redis's rendered command run by the real `redis-server`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart(dir: &Path) -> PathBuf {
    let party = soiree_party::load(&repo().join("party.toml"), None).unwrap();
    let d = soiree_deploy::Deployment::new(&party, &Default::default()).unwrap();
    let files = soiree_deploy::helm::render(&d, &party).unwrap();
    let out = dir.join("soiree");
    soiree_deploy::output::write_dir(&out, &files).unwrap();
    out
}

/// Lints, renders and validates with `values`; the rendered manifests.
fn check(chart: &Path, values: Value) -> Vec<Value> {
    let (out, run, said) = run_check(chart, values);
    assert!(run.status.success(), "check_chart.py failed:\n{said}");
    let m: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifests.json")).unwrap()).unwrap();
    m["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["doc"].clone())
        .collect()
}

/// What Helm says when it refuses to render with `values`.
fn refused(chart: &Path, values: Value) -> String {
    let (_out, run, said) = run_check(chart, values);
    assert!(!run.status.success(), "rendered although it should not:\n{said}");
    said
}

fn run_check(chart: &Path, values: Value) -> (tempfile::TempDir, std::process::Output, String) {
    let out = tempfile::tempdir().unwrap();
    let values_file = out.path().join("values.json");
    std::fs::write(&values_file, values.to_string()).unwrap();
    let run = Command::new("python3")
        .arg(repo().join("fixtures/deploy/check_chart.py"))
        .arg(chart)
        .arg(&values_file)
        .arg(out.path())
        .output()
        .expect("python3");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (out, run, said)
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

fn containers(pod: &Value) -> Vec<&Value> {
    pod["spec"]["containers"].as_array().unwrap().iter().collect()
}

fn names(list: &[&Value]) -> Vec<String> {
    list.iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// Runs a rendered Redis command with the real `redis-server` (on loopback, in a temporary
/// dir, for the test) and asks it for the flags the values carried: a flag value Helm turned
/// into another (`yes` read as `true`) is refused by Redis, or read back otherwise.
fn redis_takes(command: &Value) {
    let mut args: Vec<String> = command
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let port = soiree_test_support::free_tcp_port();
    for (flag, value) in [
        ("--bind", "127.0.0.1".to_string()),
        ("--port", port.to_string()),
        ("--dir", dir.path().display().to_string()),
    ] {
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = value;
    }
    let program = soiree_test_support::program(&args[0], "redis-server");
    let mut cmd = Command::new(program);
    cmd.args(&args[1..]);
    let mut redis = soiree_test_support::Logged::lines(cmd, "redis-server");
    let ask = |q: &str| -> Option<String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.write_all(format!("{q}\r\n").as_bytes()).ok()?;
        s.shutdown(std::net::Shutdown::Write).ok()?;
        let mut said = String::new();
        s.read_to_string(&mut said).ok()?;
        Some(said)
    };
    let config = soiree_test_support::wait_until(
        "answer from the rendered redis-server",
        std::time::Duration::from_secs(10),
        || ask("CONFIG GET appendonly"),
        || redis.log(),
    );
    assert!(config.contains("appendonly\r\n$3\r\nyes"), "{config}");
    assert!(ask("CONFIG GET protected-mode")
        .unwrap()
        .contains("protected-mode\r\n$2\r\nno"));
    assert!(ask("CONFIG GET save").unwrap().contains("save\r\n$0\r\n"));
    let (_, log) = redis.interrupt(std::time::Duration::from_secs(10));
    assert!(dir.path().join("appendonlydir").is_dir(), "{log}");
}

#[test]
fn default_values_give_a_pod_per_package_with_a_container_per_service() {
    let t = tempfile::tempdir().unwrap();
    let docs = check(&chart(t.path()), json!({}));
    let uro = find(&docs, "Deployment", "party-uro").expect("uro's Deployment");
    let pod = &uro["spec"]["template"];
    let c = containers(pod);
    assert_eq!(names(&c), ["cockroachdb", "nginx", "redis", "uro"]);
    // `after` across containers: Uro waits for CockroachDB and Redis (cmd[3..]).
    assert_eq!(
        c[3]["command"],
        json!([
            "/opt/soiree/bin/soiree-grain",
            "--only",
            "uro",
            "--after",
            "cockroachdb",
            "--after",
            "redis",
            "/opt/soiree/services.json"
        ])
    );
    for c in &c {
        let cmd = c["command"].as_array().unwrap();
        assert_eq!(cmd[1], "--only");
        assert_eq!(cmd[2], c["name"]);
        assert_eq!(c["image"], "localhost/soiree/soiree-uro:1");
        let probe = &c["readinessProbe"]["exec"]["command"];
        assert_eq!(
            probe,
            &json!(["/opt/soiree/bin/soiree-grain", "--ready", c["name"]])
        );
        assert_eq!(c["volumeMounts"][0]["mountPath"], "/var");
    }
    // Only the HTTP port leaves the Pod; Redis and CockroachDB stay on its loopback.
    assert_eq!(
        c[1]["ports"],
        json!([{ "containerPort": 8000, "protocol": "TCP" }])
    );
    assert!(c[0]["ports"].is_null() && c[2]["ports"].is_null() && c[3]["ports"].is_null());
    assert_eq!(pod["spec"]["securityContext"]["runAsUser"], 1000);
    assert_eq!(
        pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "party-uro-var"
    );
    // The Server's Uro shim: its links container forwards 127.0.0.1:4000 to Uro's Service.
    let server = find(&docs, "Deployment", "party-server").expect("server's Deployment");
    let c = containers(&server["spec"]["template"]);
    // The players' relay (game-relay) shares the Pod's loopback with the game, as in a grain.
    assert_eq!(names(&c), ["godot", "nginx", "relay", "links"]);
    assert_eq!(
        c[3]["env"],
        json!([{ "name": "SOIREE_LINK_URO", "value": "http://party-uro:8000/api/v1/" }])
    );
    assert!(find(&docs, "Service", "party-uro").is_some());
    let udp = find(&docs, "Service", "party-server-udp").expect("the game's UDP Service");
    assert_eq!(
        udp["spec"]["ports"],
        json!([{ "name": "udp-7777", "port": 7777, "targetPort": 7777, "protocol": "UDP" }])
    );
    assert!(find(&docs, "StatefulSet", "party-cockroachdb").is_none());
    assert!(find(&docs, "StatefulSet", "party-redis").is_none());
}

#[test]
fn scaled_values_split_cockroachdb_and_redis_and_scale_uro_and_the_game() {
    let t = tempfile::tempdir().unwrap();
    let chart = chart(t.path());
    let docs = check(
        &chart,
        json!({
            "packages": {
                "uro": { "replicas": 3, "storage": { "accessMode": "ReadWriteMany" } },
                "server": { "replicas": 2, "storage": { "accessMode": "ReadWriteMany" } },
            },
            "cockroachdb": { "enabled": true, "replicas": 3, "storage": { "className": "fast-ssd" } },
            "redis": { "enabled": true },
            "ingress": { "enabled": true, "host": "party.example.org" },
        }),
    );
    let uro = find(&docs, "Deployment", "party-uro").unwrap();
    assert_eq!(uro["spec"]["replicas"], 3);
    let c = containers(&uro["spec"]["template"]);
    assert_eq!(
        names(&c),
        ["nginx", "uro", "links"],
        "cockroachdb and redis run apart: one each for every replica"
    );
    assert_eq!(
        c[1]["command"],
        json!([
            "/opt/soiree/bin/soiree-grain",
            "--only",
            "uro",
            "/opt/soiree/services.json"
        ]),
        "Uro reaches the split CockroachDB and Redis through the links container, and does not wait for them"
    );
    assert_eq!(
        c[2]["command"],
        json!([
            "/opt/soiree/bin/soiree-grain",
            "--only-links",
            "--forward",
            "26257=tcp://party-cockroachdb-public:26257",
            "--forward",
            "6379=tcp://party-redis:6379",
            "/opt/soiree/services.json"
        ])
    );
    // One Redis, reachable from the cluster, with the recipe's data dir on its own claim.
    let redis = find(&docs, "StatefulSet", "party-redis").expect("Redis's StatefulSet");
    assert_eq!(redis["spec"]["replicas"], 1);
    let rc = &redis["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        rc["command"],
        json!([
            "/usr/bin/redis-server",
            "--bind",
            "0.0.0.0",
            "--protected-mode",
            "no",
            "--port",
            "6379",
            "--dir",
            "/var/redis",
            "--appendonly",
            "yes",
            "--save",
            ""
        ])
    );
    redis_takes(&rc["command"]);
    assert_eq!(rc["image"], "localhost/soiree/soiree-uro:1");
    assert_eq!(rc["volumeMounts"][0]["mountPath"], "/var/redis");
    assert_eq!(rc["readinessProbe"]["tcpSocket"]["port"], "redis");
    let claim = &redis["spec"]["volumeClaimTemplates"][0]["spec"];
    assert_eq!(claim["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(claim["resources"]["requests"]["storage"], "1Gi");
    let svc = find(&docs, "Service", "party-redis").expect("Redis's Service");
    assert_eq!(
        svc["spec"]["ports"],
        json!([{ "name": "redis", "port": 6379, "targetPort": "redis", "protocol": "TCP" }])
    );
    assert_eq!(
        svc["spec"]["selector"],
        redis["spec"]["template"]["metadata"]["labels"]
    );
    let db = find(&docs, "StatefulSet", "party-cockroachdb").expect("CockroachDB's StatefulSet");
    assert_eq!(db["spec"]["replicas"], 3);
    // Each node's own claim, of the storage class asked for.
    let claim = &db["spec"]["volumeClaimTemplates"][0]["spec"];
    assert_eq!(claim["storageClassName"], "fast-ssd");
    assert_eq!(claim["accessModes"], json!(["ReadWriteOnce"]));
    let cmd: Vec<&str> = db["spec"]["template"]["spec"]["containers"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(cmd[..2], ["/opt/cockroach/cockroach", "start"]);
    assert!(cmd.contains(&"--join=party-cockroachdb-0.party-cockroachdb:26257,party-cockroachdb-1.party-cockroachdb:26257,party-cockroachdb-2.party-cockroachdb:26257"), "{cmd:?}");
    assert!(cmd.contains(&"--store=path=/var/cockroach,ballast-size=0"));
    let job = find(&docs, "Job", "party-cockroachdb-init").expect("the init Job");
    let spec = &job["spec"]["template"]["spec"];
    assert_eq!(spec["initContainers"][0]["command"][1], "init");
    assert!(spec["containers"][0]["command"]
        .as_array()
        .unwrap()
        .contains(&json!("--host=party-cockroachdb-public:26257")));
    assert_eq!(
        find(&docs, "Deployment", "party-server").unwrap()["spec"]["replicas"],
        2
    );
    let ingress = find(&docs, "Ingress", "party").expect("the Ingress");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "client.party.example.org");
    // The replicas share the one claim, which the values made ReadWriteMany.
    let claim = find(&docs, "PersistentVolumeClaim", "party-uro-var").unwrap();
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteMany"]));
    assert_eq!(
        uro["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "party-uro-var"
    );
}

#[test]
fn replicas_that_cannot_share_var_are_refused_at_render_time() {
    let t = tempfile::tempdir().unwrap();
    let chart = chart(t.path());
    // Uro's secrets and uploads are the package's: a ReadWriteOnce claim cannot be every replica's.
    let said = refused(
        &chart,
        json!({ "packages": { "uro": { "replicas": 2 } }, "cockroachdb": { "enabled": true } }),
    );
    assert!(
        said.contains("packages.uro.replicas is 2, but its /var claim is ReadWriteOnce")
            && said.contains("packages.uro.storage.accessMode=ReadWriteMany"),
        "{said}"
    );
    // Shared storage, but CockroachDB still in Uro's Pod: two single nodes on one store.
    let said = refused(
        &chart,
        json!({ "packages": { "uro": { "replicas": 2, "storage": { "accessMode": "ReadWriteMany" } } } }),
    );
    assert!(
        said.contains("CockroachDB (service cockroachdb) runs in its Pod")
            && said.contains("cockroachdb.enabled=true"),
        "{said}"
    );
    // CockroachDB apart, but Redis still in Uro's Pod: two servers writing one /var/redis.
    let said = refused(
        &chart,
        json!({
            "packages": { "uro": { "replicas": 2, "storage": { "accessMode": "ReadWriteMany" } } },
            "cockroachdb": { "enabled": true },
        }),
    );
    assert!(
        said.contains("packages.uro.replicas is 2, but Redis (service redis) runs in its Pod")
            && said.contains("redis.enabled=true"),
        "{said}"
    );
}

#[test]
fn agones_turns_the_game_server_into_a_fleet() {
    let t = tempfile::tempdir().unwrap();
    let docs = check(
        &chart(t.path()),
        json!({ "gameServer": { "agones": { "enabled": true } }, "packages": { "server": { "replicas": 4 } } }),
    );
    assert!(find(&docs, "Deployment", "party-server").is_none());
    assert!(find(&docs, "Service", "party-server-udp").is_none());
    let fleet = find(&docs, "Fleet", "party-server").expect("the Fleet");
    assert_eq!(fleet["spec"]["replicas"], 4);
    let gs = &fleet["spec"]["template"]["spec"];
    assert_eq!(
        gs["ports"],
        json!([{ "name": "udp-7777", "portPolicy": "Dynamic", "containerPort": 7777, "protocol": "UDP", "container": "godot" }])
    );
    let c = containers(&gs["template"]);
    assert_eq!(names(&c), ["godot", "nginx", "relay", "links", "agones-health"]);
    assert_eq!(
        c[4]["command"],
        json!([
            "/opt/soiree/bin/soiree-grain",
            "--agones",
            "godot",
            "nginx",
            "relay"
        ])
    );
}

/// The chart's values as written, as JSON (Helm reads them as YAML).
fn written_values(chart: &Path) -> Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(chart.join("values.yaml"))
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A second package that serves UDP gets its own UDP Service beside the game server's, with
/// only its own ports.
#[test]
fn every_package_that_serves_udp_gets_a_udp_service() {
    let t = tempfile::tempdir().unwrap();
    let chart = chart(t.path());
    let values = written_values(&chart);
    let mut services = values["packages"]["uro"]["services"].clone();
    let uro = services
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["name"] == "uro")
        .unwrap();
    uro["udpPorts"] = json!([3478]);
    let docs = check(&chart, json!({ "packages": { "uro": { "services": services } } }));
    let udp = |name: &str| {
        let svc = find(&docs, "Service", name).unwrap_or_else(|| panic!("no Service {name}"));
        assert_eq!(svc["spec"]["type"], "LoadBalancer");
        svc["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["port"].as_u64().unwrap(),
                    p["protocol"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(udp("party-uro-udp"), [(3478, "UDP".to_string())]);
    assert_eq!(udp("party-server-udp"), [(7777, "UDP".to_string())]);
    // Without UDP ports, no such Service.
    let plain = check(&chart, json!({}));
    assert!(find(&plain, "Service", "party-uro-udp").is_none());
    assert!(find(&plain, "Service", "party-server-udp").is_some());
}
