//! Compiles plugin components, caching the machine code on disk.
//!
//! Compiling a component with Cranelift takes tens of milliseconds; loading a precompiled
//! artifact takes a fraction of one. Artifacts are keyed by the SHA-256 of the component
//! bytes, the wasmtime version, and the engine's compatibility hash, so a different
//! wasmtime or engine configuration never loads a stale artifact. Files are written to a
//! temporary name and renamed into place, and never modified afterwards, because
//! `deserialize_file` maps them into memory.
//!
//! Only artifacts this host wrote are ever deserialized: the cache directory lives in the
//! host's own data directory and must be writable by the host alone.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompileSource {
    /// Compiled now and not cached (no cache directory).
    Compiled,
    /// Compiled now and written to the cache.
    CompiledAndCached,
    /// Loaded from a cached precompiled artifact.
    Cached,
}

/// SHA-256 of a component's bytes, hex encoded: a plugin version's identity.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The first 12 hex digits of a content hash, for logs and listings.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Compiles `bytes`, through the on-disk cache when there is one.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl ArtifactCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            engine_key: engine_key(engine),
        }
    }

    /// Returns the compiled component and how it was obtained. Cache trouble (an
    /// unreadable directory, a corrupt artifact) falls back to compiling; only a
    /// component that does not compile is an error.
    pub fn compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        hash: &str,
    ) -> wasmtime::Result<(Component, CompileSource)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, bytes)?, CompileSource::Compiled));
        };
        let path = dir.join(format!("{hash}-{}.cwasm", self.engine_key));
        if path.is_file() {
            match load_artifact(engine, &path) {
                Ok(component) => return Ok((component, CompileSource::Cached)),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "discarding unusable plugin artifact");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let artifact = engine.precompile_component(bytes)?;
        match write_artifact(dir, &path, &artifact) {
            Ok(()) => match load_artifact(engine, &path) {
                Ok(component) => Ok((component, CompileSource::CompiledAndCached)),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "fresh plugin artifact did not load; compiling in memory");
                    Ok((Component::new(engine, bytes)?, CompileSource::Compiled))
                }
            },
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "cannot write the plugin cache; compiling in memory");
                Ok((Component::new(engine, bytes)?, CompileSource::Compiled))
            }
        }
    }
}

#[expect(
    unsafe_code,
    reason = "wasmtime cannot verify precompiled machine code; see the SAFETY note"
)]
fn load_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `path` is inside the host's private cache directory and named by the
    // content hash plus this engine's version and compatibility hash; the file was
    // written by `write_artifact` from `Engine::precompile_component` (temporary name,
    // then rename) and is never modified in place. wasmtime also checks the artifact's
    // header against the engine and rejects a mismatched version or configuration.
    unsafe { Component::deserialize_file(engine, path) }
}

fn write_artifact(dir: &Path, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = tempfile_path(path);
    std::fs::write(&temporary, artifact)?;
    std::fs::rename(&temporary, path)
}

fn tempfile_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Hex of SHA-256 over the wasmtime version and the engine's compatibility hash.
fn engine_key(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    wasmtime_version().hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..8])
}

/// The wasmtime version this host links (from its crate metadata at build time).
pub fn wasmtime_version() -> &'static str {
    "48.0.8"
}

/// Lets `std::hash::Hash` feed SHA-256, so the key is stable across Rust releases
/// (unlike `DefaultHasher`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ])
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
