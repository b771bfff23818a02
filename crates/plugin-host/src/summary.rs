//! What the API and the CLI show about plugins: serialisable views of loaded versions.

use std::sync::Arc;

use super::artifacts::CompileSource;
use super::contract::World;
use super::plugin::{LoadedPlugin, LogEntry, PluginSource};
use super::registry::SlotView;
use super::stats::StatsSnapshot;
use crate::config::SandboxLimits;

/// One plugin version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginSummary {
    pub name: String,
    pub version: String,
    pub description: String,
    pub world: World,
    /// SHA-256 of the component bytes.
    pub hash: String,
    pub source: PluginSource,
    #[serde(with = "time::serde::rfc3339")]
    pub loaded_at: time::OffsetDateTime,
    pub compile: CompileSource,
    pub load_ms: f64,
    pub calls: u64,
    pub errors: u64,
    pub stats: StatsSnapshot,
}

impl PluginSummary {
    pub fn of(plugin: &LoadedPlugin) -> Self {
        let stats = plugin.stats().snapshot();
        Self {
            name: plugin.name().to_string(),
            version: plugin.info.version.clone(),
            description: plugin.info.description.clone(),
            world: plugin.world(),
            hash: plugin.hash.clone(),
            source: plugin.source.clone(),
            loaded_at: plugin.loaded_at,
            compile: plugin.compile,
            load_ms: plugin.load_time.as_secs_f64() * 1e3,
            calls: stats.calls,
            errors: stats.errors,
            stats,
        }
    }
}

/// Limits as shown to operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LimitsView {
    pub memory_mib: usize,
    pub deadline_ms: u128,
    pub max_result_bytes: usize,
    pub max_log_bytes: usize,
}

impl From<&SandboxLimits> for LimitsView {
    fn from(l: &SandboxLimits) -> Self {
        Self {
            memory_mib: l.memory_bytes >> 20,
            deadline_ms: l.deadline.as_millis(),
            max_result_bytes: l.max_result_bytes,
            max_log_bytes: l.max_log_bytes,
        }
    }
}

/// Everything about one plugin name: the serving version, the rollback history, the
/// quarantined versions, limits and recent output and failures of the active version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginDetail {
    pub name: String,
    pub state: &'static str,
    pub active: Option<PluginSummary>,
    pub previous: Vec<PluginSummary>,
    pub quarantined: Vec<PluginSummary>,
    pub limits: LimitsView,
    pub recent_log: Vec<LogEntry>,
}

impl PluginDetail {
    pub fn of(name: &str, slot: &SlotView, limits: &SandboxLimits) -> Self {
        let summaries =
            |list: &[Arc<LoadedPlugin>]| list.iter().rev().map(|p| PluginSummary::of(p)).collect();
        let state = match &slot.active {
            None => "unloaded",
            Some(active) if active.stats().consecutive_failures() > 0 => "failing",
            Some(_) => "active",
        };
        Self {
            name: name.to_string(),
            state,
            active: slot.active.as_deref().map(PluginSummary::of),
            previous: summaries(&slot.previous),
            quarantined: summaries(&slot.quarantined),
            limits: limits.into(),
            recent_log: slot
                .active
                .as_ref()
                .map(|a| a.recent_log())
                .unwrap_or_default(),
        }
    }
}
