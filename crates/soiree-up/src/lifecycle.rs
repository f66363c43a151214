//! A grain's life under `up`, as Sandstorm's supervisor decides it: started on first use,
//! stopped when an idle check finds it neither used since the last one nor held awake by a
//! `stayAwake` wake lock, started again by the next request. What the host keeps for it (saved
//! capabilities, wake locks) outlives its processes.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use soiree_schema::grain_capnp::ui_view;

use crate::grain::{Grain, GrainSpec, ViewInfo};
use crate::host::GrainState;
use crate::restorable::Registry;
use crate::Error;

/// One grain of the party, running or not.
pub struct Slot {
    pub spec: GrainSpec,
    /// What the bridge declared when the grain first started.
    pub view_info: ViewInfo,
    pub state: Rc<RefCell<GrainState>>,
    running: RefCell<Option<Grain>>,
    /// A request arrived since the last idle check (Sandstorm's keep-alive flag).
    used: Cell<bool>,
    /// Inbound calls under way (see [`Slot::busy`]).
    in_flight: Cell<u32>,
    /// Held while the grain starts, so that two requests start it once.
    starting: tokio::sync::Mutex<()>,
    bwrap: PathBuf,
    registry: Rc<Registry>,
    /// How many times the grain has started.
    pub starts: Cell<u32>,
}

impl Slot {
    /// Starts the grain a first time, to learn its view info, with the capabilities it saved in
    /// earlier runs of `up`.
    pub async fn start(spec: GrainSpec, bwrap: &Path, registry: Rc<Registry>) -> Result<Slot, Error> {
        let table = crate::persist::table_path(&spec.var);
        let state = GrainState::with_table(table).map_err(|message| Error::Rpc {
            grain: spec.name.clone(),
            what: "reading its saved capabilities".into(),
            message,
        })?;
        let state = Rc::new(RefCell::new(state));
        let grain = Grain::start(spec.clone(), bwrap, state.clone(), registry.clone()).await?;
        Ok(Slot {
            view_info: grain.view_info.clone(),
            spec,
            state,
            running: RefCell::new(Some(grain)),
            used: Cell::new(true),
            in_flight: Cell::new(0),
            starting: tokio::sync::Mutex::new(()),
            bwrap: bwrap.to_path_buf(),
            registry,
            starts: Cell::new(1),
        })
    }

    /// Marks an inbound call under way until the guard drops. Sandstorm sets the keep-alive
    /// flag as a call arrives and checks every 90 s, so no call outlives two checks; `up` allows
    /// checks a second apart (`--idle`), so a call that spans a start (its own, or the start of
    /// the grain it calls through a link) would see its grain stopped under it. A grain with a
    /// call under way is in use, and the call's end is a use too.
    pub fn busy(self: &Rc<Self>) -> Busy {
        self.used.set(true);
        self.in_flight.set(self.in_flight.get() + 1);
        Busy(self.clone())
    }

    pub fn is_running(&self) -> bool {
        self.running.borrow().is_some()
    }

    /// The bridge's `UiView`, starting the grain if it is stopped; counts as a use.
    pub async fn ui_view(&self) -> Result<ui_view::Client, capnp::Error> {
        self.used.set(true);
        let _guard = self.starting.lock().await;
        if let Some(g) = &*self.running.borrow() {
            return Ok(g.ui_view.clone());
        }
        let grain = Grain::start(
            self.spec.clone(),
            &self.bwrap,
            self.state.clone(),
            self.registry.clone(),
        )
        .await
        .map_err(|e| {
            capnp::Error::failed(format!("{}: cannot start the grain again: {e}", self.spec.name))
        })?;
        eprintln!("{}: started again", self.spec.name);
        self.starts.set(self.starts.get() + 1);
        let view = grain.ui_view.clone();
        *self.running.borrow_mut() = Some(grain);
        Ok(view)
    }

    /// Stops the grain's processes, if they run; returns whether they did.
    pub fn stop(&self) -> bool {
        let grain = self.running.borrow_mut().take();
        match grain {
            Some(g) => {
                g.stop();
                true
            }
            None => false,
        }
    }

    /// The grain's processes ended by themselves.
    pub fn has_ended(&self) -> bool {
        self.running.borrow_mut().as_mut().is_some_and(|g| g.has_ended())
    }

    /// Sandstorm's idle check: stop the grain unless it was used since the last check or holds
    /// a wake lock. Clears the use flag. Returns whether the grain was stopped.
    pub fn idle_check(&self) -> bool {
        if self.used.replace(false) || self.in_flight.get() > 0 || !self.is_running() {
            return false;
        }
        if self.state.borrow().wake_lock_count() > 0 {
            return false;
        }
        self.stop()
    }
}

/// An inbound call under way: see [`Slot::busy`].
pub struct Busy(Rc<Slot>);

impl Drop for Busy {
    fn drop(&mut self) {
        let slot = &self.0;
        slot.in_flight.set(slot.in_flight.get().saturating_sub(1));
        slot.used.set(true);
    }
}

/// Runs the idle check every `every` for as long as the task lives; `forget` drops what the
/// gateway keeps for a stopped grain (its sessions).
pub async fn idle_loop(slots: Vec<Rc<Slot>>, every: Duration, forget: impl Fn(&str)) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        for slot in &slots {
            if slot.idle_check() {
                eprintln!("{}: no longer in use; stopped", slot.spec.name);
                forget(&slot.spec.name);
            }
        }
    }
}
