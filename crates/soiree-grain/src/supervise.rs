//! The supervisor's loop: start services in dependency order, wait for each to be ready, run
//! first-run steps, restart what crashes, and stop everything in reverse order on SIGTERM.
//!
//! One thread owns every process. Signals (SIGCHLD included) arrive as messages from
//! signal-hook's thread, so the loop sleeps on a channel with a deadline for the next probe or
//! restart and reaps children itself with `waitpid(-1)`: as a grain's first process it is also
//! the one orphans are handed to.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};

use crate::config::{Config, Ready, Restart, Service};
use crate::{first_run, log, ready, ready_mark, relay, Error};

/// The first restart waits this long; each further crash in a row doubles it, up to the cap.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// A service up this long has recovered: its next crash waits `BACKOFF_FIRST` again.
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(10);
/// After this many exits in a row a service is reported as failing, with its last lines (it is
/// still restarted: a grain has no operator to do it).
pub const FAILING_AFTER: u32 = 4;
/// How long to wait for a failing service's last output to be read before showing it.
const LAST_OUTPUT_WAIT: Duration = Duration::from_secs(1);
/// How often a readiness check is tried.
const PROBE_EVERY: Duration = Duration::from_millis(100);
/// After SIGKILL, how long to wait for the exit to be reported before moving on.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Where the supervisor keeps state and how it talks to `soiree-pack run`.
#[derive(Debug, Clone)]
pub struct Options {
    /// The grain's persistent directory: `/var`.
    pub var_dir: PathBuf,
    /// Set by `soiree-pack run` (`SOIREE_RUN_RELAY`): hand out sockets and report readiness.
    pub relay_dir: Option<PathBuf>,
    /// `--forward PORT=tcp://HOST:PORT`: loopback ports to forward besides the package's links (a service
    /// its deployment runs elsewhere, reached at the address its recipe gave it).
    pub forwards: Vec<(u16, String)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            var_dir: PathBuf::from("/var"),
            relay_dir: std::env::var_os(relay::RELAY_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            forwards: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    NotStarted,
    Running {
        pid: i32,
        since: Instant,
    },
    /// Crashed; starts again at `until`.
    Waiting {
        until: Instant,
    },
    /// Exited and not to be started again.
    Done,
}

struct Supervisor<'a> {
    config: &'a Config,
    opts: &'a Options,
    states: Vec<State>,
    /// Crashes in a row, for the backoff.
    crashes: Vec<u32>,
    /// Services started so far, in start order: the reverse is the stop order.
    started: Vec<usize>,
    /// A first-run command being waited for, and its exit status once reaped.
    oneshot: Option<(i32, Option<i32>)>,
    /// SIGTERM/SIGINT/SIGHUP received: the first stops gently, a second kills.
    stop_signals: u32,
    stopping: bool,
    signals: Receiver<i32>,
    base_env: Vec<(OsString, OsString)>,
    /// Per service: whether its output since its last start had its `log` readiness line.
    log_seen: Vec<Arc<AtomicBool>>,
    /// Per service: its last lines of output, and the thread that reads its current process's.
    tails: Vec<log::Tail>,
    log_threads: Vec<Option<std::thread::JoinHandle<()>>>,
    /// Each service's generated secrets, by service name.
    secrets: std::collections::HashMap<String, std::collections::BTreeMap<String, String>>,
}

/// Runs the services of `config` until SIGTERM, SIGINT or SIGHUP, then stops them. Returns
/// after a clean stop; an error means the grain could not start (everything started has been
/// stopped by then).
pub fn run(config: &Config, opts: &Options) -> Result<(), Error> {
    let order = crate::order::start_order(&config.services)?;
    let signals = listen_for_signals()?;
    // Orphans of services (daemons that fork) are reaped here, not left as zombies.
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    // Before any service: a program that calls its API at start gets the forwarder's 503 (and
    // retries) rather than a refused connection.
    if let Some(links) = &config.links {
        crate::links::start(crate::links::Shared {
            package: config.package.clone(),
            links: links.clone(),
            store: crate::link_store::LinkStore::new(&opts.var_dir),
            proxy: crate::http1::proxy_from_env(),
            direct: crate::links::direct_from_env(links).inspect_err(|e| log::say(&format!("error: {e}")))?,
        })
        .inspect_err(|e| log::say(&format!("error: {e}")))?;
    }
    let mut s = Supervisor {
        config,
        opts,
        states: vec![State::NotStarted; config.services.len()],
        crashes: vec![0; config.services.len()],
        started: Vec::new(),
        oneshot: None,
        stop_signals: 0,
        stopping: false,
        signals,
        // Services inherit what the grain was started with (the bridge adds its proxy
        // variables there), never the relay's variable.
        base_env: std::env::vars_os()
            .filter(|(k, _)| k.as_os_str() != relay::RELAY_ENV)
            .collect(),
        secrets: Default::default(),
        log_seen: (0..config.services.len())
            .map(|_| Arc::new(AtomicBool::new(false)))
            .collect(),
        tails: (0..config.services.len()).map(|_| Default::default()).collect(),
        log_threads: (0..config.services.len()).map(|_| None).collect(),
    };
    let result = serve_forwards(&opts.forwards).and_then(|()| s.start_all(&order));
    if let Err(e) = &result {
        log::say(&format!("error: {e}"));
    } else if s.stop_signals == 0 {
        log::say(&format!(
            "{} services of `{}` are up",
            config.services.len(),
            config.package
        ));
        if let Some(dir) = &opts.relay_dir {
            // `soiree-pack run` waits for this file; failing to write it only delays a test.
            let _ = std::fs::write(dir.join(relay::READY), b"");
        }
        s.watch();
    }
    s.stop_all();
    if result.is_ok() {
        log::say("every service is stopped");
    }
    result
}

/// `--forward`: loopback ports joined to services run elsewhere.
fn serve_forwards(forwards: &[(u16, String)]) -> Result<(), Error> {
    for (port, upstream) in forwards {
        crate::tcp_forward::serve(*port, upstream).map_err(Error::Start)?;
        log::say(&format!("127.0.0.1:{port} forwards to {upstream}"));
    }
    Ok(())
}

fn listen_for_signals() -> Result<Receiver<i32>, Error> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGCHLD])
        .map_err(|e| Error::Io(format!("cannot handle signals: {e}")))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if tx.send(sig).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| Error::Io(format!("cannot start the signal thread: {e}")))?;
    Ok(rx)
}

impl Supervisor<'_> {
    fn svc(&self, i: usize) -> &Service {
        &self.config.services[i]
    }

    fn start_all(&mut self, order: &[usize]) -> Result<(), Error> {
        for &i in order {
            ready_mark::clear(&self.opts.var_dir, &self.svc(i).name).map_err(|e| {
                Error::Io(format!(
                    "service `{}`: cannot clear its ready marker: {e}",
                    self.svc(i).name
                ))
            })?;
        }
        for &i in order {
            for d in &self.svc(i).var_dirs {
                let dir = self.opts.var_dir.join(d);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::Io(format!(
                        "service `{}`: cannot create {}: {e}",
                        self.svc(i).name,
                        dir.display()
                    ))
                })?;
            }
        }
        for &i in order {
            let svc = self.svc(i);
            if svc.secrets.is_empty() {
                continue;
            }
            let values = crate::secrets::load_or_create(&self.opts.var_dir, &svc.name, &svc.secrets)
                .map_err(|e| Error::Io(format!("service `{}`: cannot keep its secrets: {e}", svc.name)))?;
            self.secrets.insert(svc.name.clone(), values);
        }
        if let Some(dir) = &self.opts.relay_dir {
            relay::serve(dir).map_err(|e| Error::Io(format!("relay {}: {e}", dir.display())))?;
        }
        for &i in order {
            if self.stop_signals > 0 {
                return Ok(());
            }
            let name = self.svc(i).name.clone();
            if !self.pre_start(i)? {
                return Ok(());
            }
            self.spawn(i)
                .map_err(|e| Error::Start(format!("service `{name}`: {e}")))?;
            self.started.push(i);
            self.wait_ready(i)?;
            if self.stop_signals > 0 {
                return Ok(());
            }
            self.first_run(i)?;
            if let Err(e) = ready_mark::mark(&self.opts.var_dir, &name) {
                log::say(&format!("{name}: cannot record that it is ready: {e}"));
            }
        }
        Ok(())
    }

    /// Starts service `i`'s process with its output forwarded to stderr.
    fn spawn(&mut self, i: usize) -> Result<(), String> {
        let svc = self.svc(i);
        log::say(&format!("starting {}: {}", svc.name, svc.command.join(" ")));
        // A new process has said nothing yet: readiness from its log starts over.
        self.log_seen[i].store(false, Ordering::SeqCst);
        let watch = match &svc.ready {
            Some(Ready::Log(text)) => Some((text.clone(), self.log_seen[i].clone())),
            _ => None,
        };
        let (pid, thread) = self.spawn_command(svc, &svc.command, watch, Some(self.tails[i].clone()))?;
        self.log_threads[i] = thread;
        self.states[i] = State::Running {
            pid,
            since: Instant::now(),
        };
        Ok(())
    }

    /// Spawns `argv` with `svc`'s environment and working directory, in a process group of its
    /// own (so stopping reaches the processes it starts), and returns its pid.
    fn spawn_command(
        &self,
        svc: &Service,
        argv: &[String],
        watch: Option<log::Watch>,
        tail: Option<log::Tail>,
    ) -> Result<(i32, Option<std::thread::JoinHandle<()>>), String> {
        let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
        let writer2 = writer
            .try_clone()
            .map_err(|e| format!("cannot make a pipe: {e}"))?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env_clear()
            .envs(self.base_env.iter().map(|(k, v)| (k, v)))
            .envs(&self.config.env)
            .envs(&svc.env)
            .envs(self.secrets.get(&svc.name).into_iter().flatten())
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(writer2);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        if let Some(w) = &svc.workdir {
            cmd.current_dir(w);
        }
        let child = cmd.spawn().map_err(|e| {
            let wd = svc
                .workdir
                .as_deref()
                .map(|w| format!(" in {w}"))
                .unwrap_or_default();
            format!("cannot start {}{wd}: {e}", argv[0])
        })?;
        // The command holds our copies of the pipe's write end: drop it so the log thread sees
        // the end of the output when the process (and its children) close theirs.
        drop(cmd);
        let pid = child.id() as i32;
        let thread = match log::forward(&svc.name, reader, watch, tail) {
            Ok(t) => Some(t),
            Err(e) => {
                log::say(&format!("{}: cannot forward its output: {e}", svc.name));
                None
            }
        };
        Ok((pid, thread))
    }

    /// Waits for one signal or until `deadline`, then reaps every exited child.
    fn pump(&mut self, deadline: Option<Instant>) {
        // Wake at least every second: a lost SIGCHLD (coalesced with another) must not leave a
        // child unreaped.
        let cap = Instant::now() + Duration::from_secs(1);
        let until = deadline.map_or(cap, |d| d.min(cap));
        let wait = until.saturating_duration_since(Instant::now());
        let mut handle = |sig: i32| {
            if sig != SIGCHLD {
                self.stop_signals += 1;
            }
        };
        match self.signals.recv_timeout(wait) {
            Ok(sig) => {
                handle(sig);
                while let Ok(sig) = self.signals.try_recv() {
                    handle(sig);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The signal thread never ends while the process lives; sleep instead of spinning.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
        }
        self.reap();
    }

    fn reap(&mut self) {
        loop {
            let mut status = 0;
            // SAFETY: waitpid with a valid pointer to a local.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                return;
            }
            if let Some((p, st)) = &mut self.oneshot {
                if *p == pid {
                    *st = Some(status);
                    continue;
                }
            }
            if let Some(i) = self
                .states
                .iter()
                .position(|s| matches!(s, State::Running { pid: p, .. } if *p == pid))
            {
                self.exited(i, pid, status);
            }
            // Anything else is an orphan handed to us: reaped, nothing more.
        }
    }

    /// Service `i`'s process `pid` ended with `status`: clear its process group, then restart
    /// it later or leave it done.
    fn exited(&mut self, i: usize, pid: i32, status: i32) {
        kill_group(pid, libc::SIGKILL);
        let State::Running { since, .. } = self.states[i] else {
            return;
        };
        let name = self.svc(i).name.clone();
        let how = describe_status(status);
        if self.stopping {
            log::say(&format!("{name} stopped ({how})"));
            self.states[i] = State::Done;
            return;
        }
        let failed = !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        let again = match self.svc(i).restart {
            Restart::Always => true,
            Restart::OnFailure => failed,
            Restart::Never => false,
        };
        if !again {
            log::say(&format!(
                "{name} exited ({how}); not restarted (restart: {:?})",
                self.svc(i).restart
            ));
            self.states[i] = State::Done;
            return;
        }
        if since.elapsed() >= BACKOFF_RESET_AFTER {
            self.crashes[i] = 0;
        }
        let delay = backoff(self.crashes[i]);
        self.crashes[i] += 1;
        log::say(&format!(
            "{name} exited ({how}); starting it again in {:.1} s",
            delay.as_secs_f64()
        ));
        if self.crashes[i] == FAILING_AFTER {
            self.report_failing(i, &how);
        }
        self.states[i] = State::Waiting {
            until: Instant::now() + delay,
        };
    }

    /// Says that service `i` keeps failing, with its last lines of output (read to their end
    /// first, briefly: a process that left children holding its output may not end it).
    fn report_failing(&mut self, i: usize, how: &str) {
        if let Some(thread) = self.log_threads[i].take() {
            let deadline = Instant::now() + LAST_OUTPUT_WAIT;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let name = &self.svc(i).name;
        let lines: Vec<String> = self.tails[i]
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        let mut message = format!(
            "FAILING: service `{name}` exited {FAILING_AFTER} times in a row (last: {how}); still restarting it"
        );
        if lines.is_empty() {
            message.push_str("; it printed nothing");
        } else {
            message.push_str("; its last lines were:");
            for l in &lines {
                message.push_str("\n  ");
                message.push_str(l);
            }
        }
        log::say(&message);
    }

    /// Restarts services whose backoff has passed; returns the next time one is due.
    fn restart_due(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for i in 0..self.states.len() {
            if let State::Waiting { until } = self.states[i] {
                if until <= now {
                    if let Err(e) = self.spawn(i) {
                        // A program that cannot start now may be back later (a file on /var).
                        let delay = backoff(self.crashes[i]);
                        self.crashes[i] += 1;
                        log::say(&format!(
                            "{}: {e}; trying again in {:.1} s",
                            self.svc(i).name,
                            delay.as_secs_f64()
                        ));
                        self.states[i] = State::Waiting { until: now + delay };
                        next = Some(next.map_or(now + delay, |n| n.min(now + delay)));
                    }
                } else {
                    next = Some(next.map_or(until, |n| n.min(until)));
                }
            }
        }
        next
    }

    fn wait_ready(&mut self, i: usize) -> Result<(), Error> {
        let Some(check) = self.svc(i).ready.clone() else {
            return Ok(());
        };
        let name = self.svc(i).name.clone();
        let start = Instant::now();
        let deadline = start + self.svc(i).ready_timeout();
        let mut last = String::from("not tried");
        loop {
            if self.stop_signals > 0 {
                return Ok(());
            }
            let next_restart = self.restart_due();
            match self.states[i] {
                State::Running { .. } => {
                    match ready::probe(&check, self.log_seen[i].load(Ordering::SeqCst)) {
                        Ok(()) => {
                            log::say(&format!(
                                "{name} is ready ({}) after {:.1} s",
                                ready::describe(&check),
                                start.elapsed().as_secs_f64()
                            ));
                            return Ok(());
                        }
                        Err(e) => last = e,
                    }
                }
                State::Done => {
                    return Err(Error::NotReady(format!(
                        "service `{name}` exited before it was ready ({})",
                        ready::describe(&check)
                    )))
                }
                State::NotStarted | State::Waiting { .. } => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::NotReady(format!(
                    "service `{name}` was not ready after {} ({}: {last})",
                    seconds(self.svc(i).ready_timeout()),
                    ready::describe(&check)
                )));
            }
            let mut wake = (now + PROBE_EVERY).min(deadline);
            if let Some(r) = next_restart {
                wake = wake.min(r);
            }
            self.pump(Some(wake));
        }
    }

    /// Runs service `i`'s first-run commands unless its marker says they ran in this grain.
    fn first_run(&mut self, i: usize) -> Result<(), Error> {
        let svc = self.svc(i);
        if svc.first_run.is_empty() {
            return Ok(());
        }
        let marker = first_run::marker(&self.opts.var_dir, &svc.name);
        if marker.exists() {
            return Ok(());
        }
        let name = svc.name.clone();
        let commands = svc.first_run.clone();
        if !self.run_steps(i, &commands, "first-run")? {
            return Ok(());
        }
        first_run::mark_done(&marker).map_err(|e| {
            Error::Io(format!(
                "service `{name}`: cannot write {}: {e}",
                marker.display()
            ))
        })
    }

    /// Runs service `i`'s pre-start commands (each time the grain starts it, before it starts).
    fn pre_start(&mut self, i: usize) -> Result<bool, Error> {
        let commands = self.svc(i).pre_start.clone();
        self.run_steps(i, &commands, "pre-start")
    }

    /// Runs `commands` one after another with service `i`'s environment. `Ok(false)` when a stop
    /// signal came first; an error names the command that failed.
    fn run_steps(&mut self, i: usize, commands: &[Vec<String>], what: &str) -> Result<bool, Error> {
        let name = self.svc(i).name.clone();
        for argv in commands {
            log::say(&format!("{name}: {what}: {}", argv.join(" ")));
            let (pid, _) = self
                .spawn_command(self.svc(i), argv, None, None)
                .map_err(|e| Error::FirstRun(format!("service `{name}`: {e}")))?;
            self.oneshot = Some((pid, None));
            let status = loop {
                if let Some((_, Some(st))) = self.oneshot {
                    break Some(st);
                }
                if self.stop_signals > 0 {
                    kill_group(pid, libc::SIGTERM);
                    break None;
                }
                let next = self.restart_due();
                self.pump(next);
            };
            self.oneshot = None;
            match status {
                None => return Ok(false),
                Some(st) if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0 => {}
                Some(st) => {
                    return Err(Error::FirstRun(format!(
                        "service `{name}`: {what} command `{}` failed ({}); it runs again when the grain starts next",
                        argv.join(" "),
                        describe_status(st)
                    )))
                }
            }
        }
        Ok(true)
    }

    /// Until a stop signal: restart what crashes.
    fn watch(&mut self) {
        while self.stop_signals == 0 {
            let next = self.restart_due();
            self.pump(next);
        }
    }

    /// Stops the started services in reverse start order: SIGTERM to each process group, its
    /// stop timeout, then SIGKILL. A second stop signal kills what is left at once.
    fn stop_all(&mut self) {
        self.stopping = true;
        for &i in self.started.clone().iter().rev() {
            // Not ready once stopping: a probe must not pass on a service on its way out.
            let _ = ready_mark::clear(&self.opts.var_dir, &self.svc(i).name);
            match self.states[i] {
                State::Running { pid, .. } => self.stop_one(i, pid),
                _ => self.states[i] = State::Done,
            }
        }
    }

    fn stop_one(&mut self, i: usize, pid: i32) {
        let name = self.svc(i).name.clone();
        let timeout = self.svc(i).stop_timeout();
        log::say(&format!("stopping {name}"));
        kill_group(pid, libc::SIGTERM);
        let deadline = Instant::now() + timeout;
        while self.is_running(i) && Instant::now() < deadline && self.stop_signals < 2 {
            self.pump(Some(deadline));
        }
        if self.is_running(i) {
            log::say(&format!(
                "{name} did not stop within {}: killing it",
                seconds(timeout)
            ));
            kill_group(pid, libc::SIGKILL);
            let deadline = Instant::now() + KILL_GRACE;
            while self.is_running(i) && Instant::now() < deadline {
                self.pump(Some(deadline));
            }
        }
    }

    fn is_running(&self, i: usize) -> bool {
        matches!(self.states[i], State::Running { .. })
    }
}

fn backoff(crashes: u32) -> Duration {
    BACKOFF_FIRST
        .checked_mul(1u32.checked_shl(crashes).unwrap_or(u32::MAX))
        .map_or(BACKOFF_CAP, |d| d.min(BACKOFF_CAP))
}

/// `2 s`, `0.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn kill_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with plain integers; a group that is gone is fine (ESRCH).
    unsafe {
        libc::kill(-pgid, sig);
    }
}

fn describe_status(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let secs: Vec<f64> = (0..9).map(|n| backoff(n).as_secs_f64()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
        assert_eq!(backoff(40), BACKOFF_CAP);
    }
}
