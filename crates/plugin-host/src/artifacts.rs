//! Compiles plugin components, caching the machine code on disk.
//!
//! Compiling a component with Cranelift takes tens of milliseconds; loading a precompiled
//! artifact takes a fraction of one. Artifacts are keyed by the SHA-256 of the component
//! bytes, the wasmtime version, and the engine's compatibility hash, so a different
//! wasmtime or engine configuration never loads a stale artifact.
//!
//! A precompiled artifact is machine code that wasmtime runs without checking it, so the
//! cache is guarded three ways:
//! - the directory is created with mode 0700, and the host refuses to start if it is
//!   group- or world-writable or owned by another user ([`ArtifactCache::open`]);
//! - every artifact carries an HMAC-SHA256 tag over its file name and bytes, keyed by a
//!   per-installation secret (`plugin-cache.key` beside the cache, mode 0600, created on
//!   first start). An artifact whose tag does not verify (planted, damaged, or copied
//!   from another plugin's name) is discarded and the component recompiled; an artifact
//!   is read into memory once and verified before it is deserialised, so it cannot change
//!   between the check and the use;
//! - artifacts are written to a uniquely named temporary file (created exclusively) and
//!   renamed into place, so readers never see half a file and concurrent writers never
//!   share one.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC-SHA256 tag appended to every artifact.
const TAG_BYTES: usize = 32;

/// The key's file name, beside the cache directory.
const KEY_FILE: &str = "plugin-cache.key";

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
#[derive(Clone)]
pub struct ArtifactCache {
    disk: Option<DiskCache>,
    engine_key: String,
}

impl std::fmt::Debug for ArtifactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactCache")
            .field("dir", &self.disk.as_ref().map(|d| &d.dir))
            .finish_non_exhaustive()
    }
}

/// The cache directory and the key its artifacts are tagged with.
#[derive(Clone)]
struct DiskCache {
    dir: PathBuf,
    key: [u8; 32],
}

impl ArtifactCache {
    /// Opens (creating if needed) the cache in `dir`; `None` compiles in memory. Fails if
    /// the directory or its key is not private to this user: the host must not start
    /// executing machine code others could have written.
    pub fn open(engine: &Engine, dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let disk = match dir {
            None => None,
            Some(dir) => {
                private_dir(&dir)?;
                let key = installation_key(&key_path(&dir))?;
                Some(DiskCache { dir, key })
            }
        };
        Ok(Self {
            disk,
            engine_key: engine_key(engine),
        })
    }

    /// Returns the compiled component and how it was obtained. Cache trouble (an
    /// unreadable directory, a corrupt or unauthenticated artifact) falls back to
    /// compiling; only a component that does not compile is an error.
    pub fn compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        hash: &str,
    ) -> wasmtime::Result<(Component, CompileSource)> {
        let Some(disk) = &self.disk else {
            return Ok((Component::new(engine, bytes)?, CompileSource::Compiled));
        };
        let name = format!("{hash}-{}.cwasm", self.engine_key);
        let path = disk.dir.join(&name);
        if path.is_file() {
            match disk.load(engine, &name, &path) {
                Ok(component) => return Ok((component, CompileSource::Cached)),
                Err(error) => {
                    tracing::warn!(path = %path.display(), error = %format!("{error:#}"), "discarding unusable plugin artifact");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let artifact = engine.precompile_component(bytes)?;
        match disk.write(&name, &path, &artifact) {
            // The bytes just compiled are the ones in the file: no need to read it back.
            Ok(()) => match deserialize(engine, &artifact) {
                Ok(component) => Ok((component, CompileSource::CompiledAndCached)),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "fresh plugin artifact did not load; compiling in memory");
                    Ok((Component::new(engine, bytes)?, CompileSource::Compiled))
                }
            },
            Err(error) => {
                tracing::warn!(dir = %disk.dir.display(), %error, "cannot write the plugin cache; compiling in memory");
                Ok((Component::new(engine, bytes)?, CompileSource::Compiled))
            }
        }
    }
}

impl DiskCache {
    /// The tag of artifact `bytes` stored under `name`: binding the name means a genuine
    /// artifact copied over another plugin's name does not verify.
    fn tag(&self, name: &str, bytes: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&(name.len() as u64).to_le_bytes());
        mac.update(name.as_bytes());
        mac.update(bytes);
        mac
    }

    /// Reads, authenticates and deserialises one artifact.
    fn load(&self, engine: &Engine, name: &str, path: &Path) -> anyhow::Result<Component> {
        let file = std::fs::read(path).context("cannot read it")?;
        let Some(split) = file.len().checked_sub(TAG_BYTES) else {
            bail!("too short to carry a tag");
        };
        let (artifact, tag) = file.split_at(split);
        self.tag(name, artifact).verify_slice(tag).map_err(|_| {
            anyhow::anyhow!("its tag does not verify: not written by this installation")
        })?;
        deserialize(engine, artifact).map_err(|e| anyhow::anyhow!("{e:#}"))
    }

    /// Writes `artifact` and its tag through a fresh temporary file renamed into place.
    fn write(&self, name: &str, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
        let temporary = self.dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options.open(&temporary).and_then(|mut file| {
            file.write_all(artifact)?;
            file.write_all(&self.tag(name, artifact).finalize().into_bytes())?;
            file.sync_all()
        });
        let renamed = written.and_then(|()| std::fs::rename(&temporary, path));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        renamed
    }
}

#[expect(
    unsafe_code,
    reason = "wasmtime cannot verify precompiled machine code; see the SAFETY note"
)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `artifact` is either what `Engine::precompile_component` just produced, or
    // the bytes of a cache file whose HMAC tag, keyed by this installation's private key
    // and binding the file's name (content hash, wasmtime version, engine configuration),
    // verified: only this host could have written it, for this very component. The bytes
    // are in memory, so the file cannot change between the check and this call. wasmtime
    // also checks the header against the engine and rejects a mismatched configuration.
    unsafe { Component::deserialize(engine, artifact) }
}

/// Where the key of the cache in `dir` lives: beside it, in the data directory.
fn key_path(dir: &Path) -> PathBuf {
    dir.with_file_name(KEY_FILE)
}

/// Creates `dir` (mode 0700) if needed, then checks it is private to this user.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create the plugin cache {}", dir.display()))?;
    private_to_us(dir, 0o022, "group- or world-writable")
        .with_context(|| format!("refusing the plugin cache {}", dir.display()))
}

/// The installation's key: read from `path`, or created there (mode 0600) on first use.
fn installation_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    if !path.exists() {
        let key = hex::encode(rand::random::<[u8; 32]>());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        // `create_new`: if another process created it meanwhile, read theirs below.
        if let Ok(mut file) = options.open(path) {
            file.write_all(key.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    private_to_us(path, 0o077, "readable or writable by others")
        .with_context(|| format!("refusing the plugin cache key {}", path.display()))?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plugin cache key {}", path.display()))?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut key).with_context(|| {
        format!(
            "the plugin cache key {} is not 64 hex digits",
            path.display()
        )
    })?;
    Ok(key)
}

/// Checks that `path` (not followed if a symlink) is owned by this process's user and has
/// none of the `forbidden` permission bits.
#[cfg(unix)]
fn private_to_us(path: &Path, forbidden: u32, what: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        bail!("it is a symbolic link");
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & forbidden != 0 {
        bail!("it is {what} (mode {mode:o}); make it private to the server's user (chmod go-rwx)");
    }
    let ours = our_uid(path)?;
    if meta.uid() != ours {
        bail!(
            "it is owned by uid {}, not by the server's uid {ours}",
            meta.uid()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_to_us(_path: &Path, _forbidden: u32, _what: &str) -> anyhow::Result<()> {
    Ok(())
}

/// This process's effective uid, read off a file it creates beside `path` (std has no
/// `geteuid`, and this needs no unsafe code).
#[cfg(unix)]
fn our_uid(path: &Path) -> anyhow::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let probe = dir.unwrap_or(Path::new(".")).join(format!(
        ".uid-probe.{}.{}",
        std::process::id(),
        hex::encode(rand::random::<[u8; 8]>())
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("cannot create {}", probe.display()))?;
    let uid = file.metadata().map(|m| m.uid());
    drop(file);
    let _ = std::fs::remove_file(&probe);
    Ok(uid?)
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
