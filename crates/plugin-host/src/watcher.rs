//! Hot reload from a directory: a `*.wasm` file renamed into the plugin directory is
//! loaded, and replaces the active version of its plugin if every load gate passes.
//!
//! Only renames count. A file copied straight into the directory is seen while it is
//! still being written, so operators copy to a temporary name (one not ending in
//! `.wasm`) and then `mv` it into place; the rename is atomic, so a half-written file is
//! never loaded. Events are debounced: a burst of renames is handled once, after the
//! directory has been quiet for [`SETTLE`]. Loading runs on the watcher's own thread, off
//! the request path. Deleting a file does not unload its plugin; unloading is an explicit
//! operator action. A file over [`super::MAX_COMPONENT_BYTES`] is refused from its size,
//! never read whole (see [`PluginHost::load_file`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::host::{PluginHost, is_plugin_file};

/// Quiet time after the last event before loading.
const SETTLE: Duration = Duration::from_millis(50);

/// Keeps the directory watched; dropping it stops watching.
pub struct DirectoryWatcher {
    _watcher: RecommendedWatcher,
}

impl std::fmt::Debug for DirectoryWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryWatcher").finish_non_exhaustive()
    }
}

/// Starts watching `dir` (which must exist) and loading what is renamed into it.
pub fn watch(host: Arc<PluginHost>, dir: &Path) -> notify::Result<DirectoryWatcher> {
    let (sender, receiver) = mpsc::channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                for path in renamed_into_place(&event) {
                    // The receiver only goes away with the loader thread, at shutdown.
                    let _ = sender.send(path);
                }
            }
            Err(error) => tracing::warn!(%error, "plugin directory watch error"),
        })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let dir_name = dir.display().to_string();
    thread::Builder::new()
        .name("plugin-watcher".into())
        .spawn(move || load_loop(&host, &receiver))
        .map_err(|e| {
            notify::Error::generic(&format!("cannot start the plugin loader thread: {e}"))
        })?;
    tracing::info!(dir = %dir_name, "watching plugin directory");
    Ok(DirectoryWatcher { _watcher: watcher })
}

/// The destination paths of renames in `event`.
fn renamed_into_place(event: &notify::Event) -> Vec<PathBuf> {
    match event.kind {
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => event.paths.clone(),
        // `Both` carries [from, to].
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            event.paths.get(1).cloned().into_iter().collect()
        }
        _ => Vec::new(),
    }
}

fn load_loop(host: &PluginHost, receiver: &Receiver<PathBuf>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = BTreeSet::from([first]);
        loop {
            match receiver.recv_timeout(SETTLE) {
                Ok(path) => {
                    batch.insert(path);
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        for path in batch.into_iter().filter(|p| is_plugin_file(p)) {
            // Success and refusal are both logged (and refusals recorded) by the host.
            let _ = host.load_file(&path);
        }
    }
}
