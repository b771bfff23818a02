//! Which version of each plugin serves, which earlier versions can be rolled back to,
//! and which were quarantined.
//!
//! Swaps are atomic: a call clones the active `Arc<LoadedPlugin>` under a read lock held
//! for nanoseconds and runs on that version to the end, so a call that started on the old
//! version finishes on it while new calls get the new one. Nothing here compiles or runs
//! plugins; the registry only ever receives versions that passed every load gate.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use time::OffsetDateTime;

use super::contract::World;
use super::plugin::LoadedPlugin;

/// What activating a version did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// The first version of this plugin.
    Added,
    /// Replaced `previous` (kept for rollback).
    Replaced { previous: String },
    /// The same content was already active; nothing changed.
    AlreadyActive,
}

/// Why a registry operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("no plugin named {0} is loaded")]
    NotFound(String),
    #[error("plugin {0} has no earlier version to roll back to")]
    NothingToRollBackTo(String),
}

/// A load that was refused, kept for operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadFailure {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub source: String,
    pub code: String,
    pub error: String,
}

const KEPT_LOAD_FAILURES: usize = 50;

/// The versions of one plugin name.
#[derive(Debug, Default)]
struct Slot {
    active: Option<Arc<LoadedPlugin>>,
    /// Previous good versions, oldest first; the last one is the rollback target.
    previous: Vec<Arc<LoadedPlugin>>,
    /// Versions taken out of service after repeated failures, newest last.
    quarantined: Vec<Arc<LoadedPlugin>>,
}

/// A plugin name's versions, as a snapshot.
#[derive(Debug, Clone)]
pub struct SlotView {
    pub active: Option<Arc<LoadedPlugin>>,
    pub previous: Vec<Arc<LoadedPlugin>>,
    pub quarantined: Vec<Arc<LoadedPlugin>>,
}

#[derive(Debug)]
pub struct Registry {
    slots: RwLock<BTreeMap<String, Slot>>,
    failures: Mutex<VecDeque<LoadFailure>>,
    keep_versions: usize,
}

impl Registry {
    pub fn new(keep_versions: usize) -> Self {
        Self {
            slots: RwLock::new(BTreeMap::new()),
            failures: Mutex::new(VecDeque::new()),
            keep_versions,
        }
    }

    /// Makes `plugin` the active version of its name.
    pub fn activate(&self, plugin: Arc<LoadedPlugin>) -> Activation {
        let mut slots = self.slots.write();
        let slot = slots.entry(plugin.name().to_string()).or_default();
        // A version that comes back is no longer in quarantine or history under its old entry.
        slot.quarantined.retain(|q| q.hash != plugin.hash);
        slot.previous.retain(|p| p.hash != plugin.hash);
        let outcome = match slot.active.take() {
            None => Activation::Added,
            Some(current) if current.hash == plugin.hash => {
                slot.active = Some(current);
                return Activation::AlreadyActive;
            }
            Some(current) => {
                let previous = current.info.version.clone();
                slot.previous.push(current);
                if slot.previous.len() > self.keep_versions {
                    slot.previous.remove(0);
                }
                Activation::Replaced { previous }
            }
        };
        slot.active = Some(plugin);
        outcome
    }

    /// The active version of `name`.
    pub fn active(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.slots
            .read()
            .get(name)
            .and_then(|slot| slot.active.clone())
    }

    /// The active plugin serving `world`: the first by name when several do, so the
    /// choice is stable.
    pub fn active_for_world(&self, world: World) -> Option<Arc<LoadedPlugin>> {
        self.slots
            .read()
            .values()
            .filter_map(|slot| slot.active.clone())
            .find(|plugin| plugin.world() == world)
    }

    /// Every active version, by name.
    pub fn active_plugins(&self) -> Vec<Arc<LoadedPlugin>> {
        self.slots
            .read()
            .values()
            .filter_map(|slot| slot.active.clone())
            .collect()
    }

    pub fn slot(&self, name: &str) -> Option<SlotView> {
        self.slots.read().get(name).map(|slot| SlotView {
            active: slot.active.clone(),
            previous: slot.previous.clone(),
            quarantined: slot.quarantined.clone(),
        })
    }

    /// Reactivates the most recent previous version; the version it replaces is dropped
    /// from the history (it can be loaded again).
    pub fn rollback(&self, name: &str) -> Result<Arc<LoadedPlugin>, RegistryError> {
        let mut slots = self.slots.write();
        let slot = slots
            .get_mut(name)
            .ok_or_else(|| RegistryError::NotFound(name.to_string()))?;
        let target = slot
            .previous
            .pop()
            .ok_or_else(|| RegistryError::NothingToRollBackTo(name.to_string()))?;
        slot.active = Some(Arc::clone(&target));
        Ok(target)
    }

    /// Takes `plugin` out of service if it is still the active version and an earlier
    /// good version exists; returns the version now serving. Without an earlier version
    /// the failing one keeps serving: an answer that sometimes fails beats none.
    pub fn quarantine(&self, plugin: &Arc<LoadedPlugin>) -> Option<Arc<LoadedPlugin>> {
        let mut slots = self.slots.write();
        let slot = slots.get_mut(plugin.name())?;
        let is_active = slot
            .active
            .as_ref()
            .is_some_and(|active| Arc::ptr_eq(active, plugin));
        if !is_active || slot.previous.is_empty() {
            return None;
        }
        let fallback = slot.previous.pop()?;
        slot.quarantined.push(Arc::clone(plugin));
        slot.active = Some(Arc::clone(&fallback));
        Some(fallback)
    }

    /// Removes every version of `name`.
    pub fn unload(&self, name: &str) -> Result<(), RegistryError> {
        self.slots
            .write()
            .remove(name)
            .map(drop)
            .ok_or_else(|| RegistryError::NotFound(name.to_string()))
    }

    pub fn record_failure(&self, failure: LoadFailure) {
        let mut failures = self.failures.lock();
        if failures.len() == KEPT_LOAD_FAILURES {
            failures.pop_front();
        }
        failures.push_back(failure);
    }

    /// Recent refused loads, oldest first.
    pub fn load_failures(&self) -> Vec<LoadFailure> {
        self.failures.lock().iter().cloned().collect()
    }
}
