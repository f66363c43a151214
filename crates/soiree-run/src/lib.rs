//! Run an unpacked or staged package the way a Sandstorm grain would: in bubblewrap, its supervisor as the process, its ports on the host's loopback.
//!
//! [`start`] reads the package's manifest, starts what the grain command starts after
//! Sandstorm's HTTP bridge (which needs Sandstorm itself), and forwards published ports — the
//! bridge's port by default — from the host's 127.0.0.1 into the grain's own network namespace.
//! [`Running`] waits until the services are up, says where each port is, and stops the grain.
//! [`start_bridged`] keeps the bridge instead and hands it the host's end of its Cap'n Proto
//! socket as fd 3, for `soiree-pack up`, which plays Sandstorm's supervisor.

pub mod enter;
mod forward;
pub mod grain;
pub mod publish;
mod sandbox;

use std::io::Read;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use grain::GrainCommand;
pub use publish::{Proto, Publish};
pub use sandbox::RELAY_MOUNT;

use forward::{Forwarder, Listener};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{}: not a package's manifest: {reason}", path.display())]
    #[diagnostic(
        code(soiree::run::manifest),
        help("run a package unpacked by `soiree-pack unpack`, or one staged by `soiree-pack build` (dist/NAME/root)")
    )]
    Manifest { path: PathBuf, reason: String },

    #[error("the grain runs {program}, which is not in the package")]
    #[diagnostic(
        code(soiree::run::no_program),
        help("packages built by soiree-pack ship /opt/soiree/bin/soiree-grain: rebuild it with this soiree-pack")
    )]
    NoProgram { program: String },

    #[error("cannot start bubblewrap ({}): {source}", bwrap.display())]
    #[diagnostic(code(soiree::run::bwrap), help("install it: apt-get install bubblewrap"))]
    NoBwrap { bwrap: PathBuf, source: std::io::Error },

    #[error("cannot listen on 127.0.0.1:{host} ({proto}) for the grain's port {grain}: {source}")]
    #[diagnostic(
        code(soiree::run::port),
        help("choose another host port: --port N for the bridge's port, GRAIN:HOST for --tcp/--udp (0 picks a free one)")
    )]
    Port {
        proto: Proto,
        grain: u16,
        host: u16,
        source: std::io::Error,
    },

    #[error("the sandbox did not start ({0})")]
    #[diagnostic(
        code(soiree::run::sandbox),
        help("bubblewrap's message is above; it needs user namespaces (or setuid bwrap)")
    )]
    Sandbox(String),

    #[error("the grain stopped before its services were up ({0})")]
    #[diagnostic(code(soiree::run::exited), help("the supervisor's log says why"))]
    Exited(ExitStatus),

    #[error("the grain's services were not up after {} s", .0.as_secs_f64())]
    #[diagnostic(code(soiree::run::not_ready))]
    NotReady(Duration),

    #[error("the grain's /var {} is in use by {holder}", var.display())]
    #[diagnostic(
        code(soiree::run::var_in_use),
        help("two grains on one /var would corrupt each other's state: stop the other one, or give this one its own --var DIR")
    )]
    VarInUse { var: PathBuf, holder: String },

    #[error("{}: {source}", path.display())]
    #[diagnostic(code(soiree::run::io))]
    Io { path: PathBuf, source: std::io::Error },
}

impl Error {
    /// The machine failed (exit code 3), rather than the package (1).
    pub fn is_machine(&self) -> bool {
        matches!(
            self,
            Error::NoBwrap { .. }
                | Error::Port { .. }
                | Error::Sandbox(_)
                | Error::Io { .. }
                | Error::VarInUse { .. }
        )
    }
}

/// How to run a package.
#[derive(Debug, Clone)]
pub struct Options {
    /// The package's contents: an unpacked `.spk` or a staged tree.
    pub root: PathBuf,
    /// The host directory that is the grain's `/var`; created if missing, kept between runs.
    pub var: PathBuf,
    /// The host port for the bridge's port: `None` is the same number, `Some(0)` a free one.
    pub port: Option<u16>,
    /// More ports to reach from the host, TCP or UDP.
    pub publish: Vec<Publish>,
    /// The bubblewrap program.
    pub bwrap: PathBuf,
    /// Where the grain's output goes: `None` is this process's stderr (and stdout).
    pub log: Option<PathBuf>,
    /// Who runs the grain, as another run that finds its `/var` taken is told.
    pub purpose: String,
}

impl Options {
    pub fn new(root: impl Into<PathBuf>, var: impl Into<PathBuf>) -> Options {
        Options {
            root: root.into(),
            var: var.into(),
            port: None,
            publish: Vec::new(),
            bwrap: PathBuf::from("bwrap"),
            log: None,
            purpose: "soiree-pack run".into(),
        }
    }
}

/// A grain that runs. Dropping it stops it.
pub struct Running {
    child: Child,
    supervisor_pid: i32,
    relay: tempfile::TempDir,
    published: Vec<(Publish, SocketAddr)>,
    forwarders: Vec<Forwarder>,
    status: Option<ExitStatus>,
    bridge_port: Option<u16>,
    /// The grain's first process is Sandstorm's bridge, which (as a pid namespace's init with no
    /// SIGTERM handler) only a SIGKILL stops, as Sandstorm's supervisor stops grains.
    bridged: bool,
    /// Held while the grain may run, released when `Running` is dropped.
    _var_lock: soiree_fs::Lock,
}

/// Takes the lock beside the grain's `/var` (`VAR.lock`), refusing a `/var` that another
/// grain on this machine runs with.
fn lock_var(opts: &Options) -> Result<soiree_fs::Lock, Error> {
    let var = std::fs::canonicalize(&opts.var).map_err(|source| Error::Io {
        path: opts.var.clone(),
        source,
    })?;
    let path = match var.file_name() {
        Some(name) => var.with_file_name(format!("{}.lock", name.to_string_lossy())),
        None => var.join(".soiree-var.lock"),
    };
    soiree_fs::Lock::try_acquire(&path, &opts.purpose).map_err(|e| match e {
        soiree_fs::LockError::Held { holder, .. } => Error::VarInUse {
            var: opts.var.clone(),
            holder,
        },
        soiree_fs::LockError::Io { path, source } => Error::Io { path, source },
    })
}

/// Starts the package at `opts.root` in a sandbox and forwards its ports. Returns once the
/// sandbox runs; [`Running::wait_ready`] waits for the services.
pub fn start(opts: &Options) -> Result<Running, Error> {
    start_grain(opts, None)
}

/// Starts the package's whole command, `/sandstorm-http-bridge PORT -- …`, with `supervisor`
/// as the grain's fd 3 (the bridge's Cap'n Proto connection to its host). The bridge's port is
/// not forwarded: requests reach the app through the bridge.
pub fn start_bridged(opts: &Options, supervisor: OwnedFd) -> Result<Running, Error> {
    start_grain(opts, Some(supervisor))
}

/// A copy of `fd` numbered 10 or above, close-on-exec: never 3, which the bridge's socket takes.
fn high_fd(fd: &impl AsRawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor we own; the result is a new one we own.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `n` is a fresh descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn start_grain(opts: &Options, supervisor: Option<OwnedFd>) -> Result<Running, Error> {
    let grain = GrainCommand::read(&opts.root)?;
    let bridged = supervisor.is_some();
    if bridged && grain.bridge_port.is_none() {
        return Err(Error::Manifest {
            path: opts.root.join("sandstorm-manifest"),
            reason: format!("its command does not start `{}`", grain::BRIDGE),
        });
    }
    let program = if bridged {
        &grain.with_bridge[0]
    } else {
        &grain.argv[0]
    };
    let inside = opts.root.join(program.trim_start_matches('/'));
    if !program.starts_with('/') || inside.symlink_metadata().is_err() {
        return Err(Error::NoProgram {
            program: program.clone(),
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(&opts.var).map_err(io(&opts.var))?;
    let var_lock = lock_var(opts)?;
    let relay = tempfile::Builder::new()
        .prefix("soiree-run-")
        .tempdir()
        .map_err(io(&std::env::temp_dir()))?;

    let mut publish = opts.publish.clone();
    if let Some(port) = grain.bridge_port.filter(|_| !bridged) {
        if !publish.iter().any(|p| p.proto == Proto::Tcp && p.grain == port) {
            publish.insert(0, Publish::tcp(port, opts.port.unwrap_or(port)));
        }
    }
    let mut listeners = Vec::new();
    for p in &publish {
        let l = Listener::bind(p).map_err(|source| Error::Port {
            proto: p.proto,
            grain: p.grain,
            host: p.host,
            source,
        })?;
        let addr = l.local_addr().map_err(io(Path::new("127.0.0.1")))?;
        listeners.push((
            Publish {
                host: addr.port(),
                ..*p
            },
            addr,
            l,
        ));
    }

    let (mut info_r, info_w) = std::io::pipe().map_err(io(Path::new("pipe")))?;
    let info_w = high_fd(&info_w).map_err(io(Path::new("pipe")))?;
    let info_fd = info_w.as_raw_fd();
    let supervisor = supervisor
        .map(|s| high_fd(&s))
        .transpose()
        .map_err(io(Path::new("socket")))?;
    let supervisor_fd = supervisor.as_ref().map(|s| s.as_raw_fd());
    let mut cmd = Command::new(&opts.bwrap);
    cmd.args(sandbox::args(
        &opts.root,
        &opts.var,
        relay.path(),
        &grain,
        info_fd,
        bridged,
    ))
    .stdin(Stdio::null())
    // A group of its own: a terminal's Ctrl-C would kill bwrap's monitor, and with it the grain
    // at once. The caller stops the grain with `request_stop` instead.
    .process_group(0);
    if let Some(log) = &opts.log {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(io(log))?;
        let f2 = f.try_clone().map_err(io(log))?;
        cmd.stdout(f).stderr(f2);
    }
    // SAFETY: only async-signal-safe calls (fcntl, dup2, getrlimit, setrlimit) between fork
    // and exec.
    unsafe {
        cmd.pre_exec(move || {
            // bwrap writes its JSON to this descriptor, so it must survive the exec.
            if libc::fcntl(info_fd, libc::F_SETFD, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // bwrap passes inherited descriptors on: the bridge finds its host on fd 3. Both
            // descriptors are 10 or above, so this overwrites neither.
            if let Some(fd) = supervisor_fd {
                if libc::dup2(fd, 3) != 3 || libc::fcntl(3, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            sandbox::limit_open_files()
        });
    }
    let mut child = cmd.spawn().map_err(|source| Error::NoBwrap {
        bwrap: opts.bwrap.clone(),
        source,
    })?;
    drop(cmd);
    drop(info_w);
    drop(supervisor);

    let Some(supervisor_pid) = read_child_pid(&mut info_r) else {
        let status = child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string());
        return Err(Error::Sandbox(format!("bwrap {status}")));
    };
    let mut published = Vec::new();
    let mut forwarders = Vec::new();
    for (p, addr, l) in listeners {
        let f = Forwarder::start(l, p.grain, relay.path()).map_err(io(relay.path()))?;
        published.push((p, addr));
        forwarders.push(f);
    }
    Ok(Running {
        child,
        supervisor_pid,
        relay,
        published,
        forwarders,
        status: None,
        bridge_port: grain.bridge_port,
        bridged,
        _var_lock: var_lock,
    })
}

/// bwrap's `--info-fd` JSON: `{"child-pid": N, …}`, or `None` if it ended first.
fn read_child_pid(r: &mut impl Read) -> Option<i32> {
    let mut json = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&json) {
            return v.get("child-pid")?.as_i64().map(|p| p as i32);
        }
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => json.extend_from_slice(&buf[..n]),
        }
    }
}

impl Running {
    /// Every published port: the grain's port and where it is on the host.
    pub fn published(&self) -> &[(Publish, SocketAddr)] {
        &self.published
    }

    /// Where the grain's `proto` port `grain_port` is reachable on the host.
    pub fn addr(&self, proto: Proto, grain_port: u16) -> Option<SocketAddr> {
        self.published
            .iter()
            .find(|(p, _)| p.proto == proto && p.grain == grain_port)
            .map(|(_, a)| *a)
    }

    /// The grain port Sandstorm's HTTP bridge would send requests to, if the package has one.
    pub fn bridge_port(&self) -> Option<u16> {
        self.bridge_port
    }

    /// The supervisor's pid on the host.
    pub fn supervisor_pid(&self) -> i32 {
        self.supervisor_pid
    }

    /// Waits until the supervisor reports every service ready (and first-run steps done).
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let ready = self.relay.path().join(soiree_grain::relay::READY);
        loop {
            if ready.exists() {
                return Ok(());
            }
            if let Some(status) = self.try_wait()? {
                return Err(Error::Exited(status));
            }
            if Instant::now() >= deadline {
                return Err(Error::NotReady(timeout));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks the supervisor to stop the services (SIGTERM) without waiting; a bridged grain is
    /// killed, as Sandstorm kills grains.
    pub fn request_stop(&mut self) {
        if self.status.is_none() {
            let signal = if self.bridged {
                libc::SIGKILL
            } else {
                libc::SIGTERM
            };
            // SAFETY: kill(2) with plain integers. The pid is the supervisor's while bwrap
            // (its parent, which we have not reaped) runs.
            unsafe {
                libc::kill(self.supervisor_pid, signal);
            }
        }
    }

    /// The grain's exit status once it has ended (the supervisor's: 0 after a clean stop).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, Error> {
        if self.status.is_none() {
            self.status = self.child.try_wait().map_err(|source| Error::Io {
                path: PathBuf::from("bwrap"),
                source,
            })?;
            if self.status.is_some() {
                self.close_ports();
            }
        }
        Ok(self.status)
    }

    /// Waits for the grain to end by itself (or by [`Running::request_stop`]).
    pub fn wait(&mut self) -> Result<ExitStatus, Error> {
        loop {
            if let Some(s) = self.try_wait()? {
                return Ok(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the grain: SIGTERM to the supervisor, which stops the services in reverse order;
    /// after `timeout`, the whole sandbox is killed.
    pub fn stop(mut self, timeout: Duration) -> Result<ExitStatus, Error> {
        self.stop_within(timeout)
    }

    fn stop_within(&mut self, timeout: Duration) -> Result<ExitStatus, Error> {
        self.request_stop();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(s) = self.try_wait()? {
                return Ok(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // bwrap's monitor takes the grain with it (--die-with-parent, pid namespace).
        let _ = self.child.kill();
        self.wait()
    }

    fn close_ports(&mut self) {
        for f in &mut self.forwarders {
            f.stop();
        }
    }

    /// The host directory shared with the supervisor (relay sockets and the ready marker).
    pub fn relay_dir(&self) -> &Path {
        self.relay.path()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.stop_within(Duration::from_secs(15));
        }
    }
}
