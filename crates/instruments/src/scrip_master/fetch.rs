//! Loading the scrip master from a local copy that is refreshed from Dhan once it is
//! older than a given age.
//!
//! Contracts roll daily, so the copy must be refreshed; but a failed download (Dhan's
//! CDN down, no network at start-up) must not stop the server while yesterday's copy is
//! on disk, so a stale copy is used, and the result says so. A download is written to a
//! temporary file beside the copy, checked to parse, and only then renamed over it: a
//! crash, a truncated body or an error page never replaces a good copy.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use super::{Filter, ParsedMaster, ScripMasterError, parse};

/// The whole download, connect to last byte; the detailed master is tens of megabytes.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a loaded master came from.
#[derive(Debug)]
pub enum MasterSource {
    /// Downloaded just now.
    Fresh,
    /// The local copy, younger than the maximum age.
    Cached,
    /// The local copy, older than the maximum age, because the download failed.
    StaleFallback { error: ScripMasterError },
}

/// A parsed master and its provenance.
#[derive(Debug)]
pub struct LoadedMaster {
    pub master: ParsedMaster,
    pub source: MasterSource,
    /// When the data was downloaded (the local copy's modification time if cached).
    pub fetched_at: OffsetDateTime,
}

/// Parses the copy at `cache_file` if it is younger than `max_age`; otherwise downloads
/// `url` into it first. If the download fails and a copy exists, parses that copy and
/// reports [`MasterSource::StaleFallback`]; with no usable copy, the download's error.
pub async fn load_or_fetch(
    url: &str,
    cache_file: &Path,
    max_age: Duration,
    filter: &Filter,
) -> Result<LoadedMaster, ScripMasterError> {
    let cached_at = modified_at(cache_file).await;
    if let Some(modified) = cached_at.filter(|&modified| is_younger(modified, max_age)) {
        match parse_file(cache_file.to_owned(), filter.clone()).await {
            Ok(master) => {
                return Ok(LoadedMaster {
                    master,
                    source: MasterSource::Cached,
                    fetched_at: modified.into(),
                });
            }
            Err(error) => {
                tracing::warn!(path = %cache_file.display(), %error, "local scrip master unreadable; downloading");
            }
        }
    }
    let fetch_error = match download(url, cache_file, filter).await {
        Ok(master) => {
            tracing::info!(
                url,
                instruments = master.instruments.len(),
                "scrip master downloaded"
            );
            return Ok(LoadedMaster {
                master,
                source: MasterSource::Fresh,
                fetched_at: OffsetDateTime::now_utc(),
            });
        }
        Err(error) => error,
    };
    let Some(modified) = cached_at else {
        return Err(fetch_error);
    };
    match parse_file(cache_file.to_owned(), filter.clone()).await {
        Ok(master) => {
            tracing::warn!(url, error = %fetch_error, path = %cache_file.display(), "scrip master download failed; using the stale local copy");
            Ok(LoadedMaster {
                master,
                source: MasterSource::StaleFallback { error: fetch_error },
                fetched_at: modified.into(),
            })
        }
        Err(cache_error) => {
            tracing::warn!(path = %cache_file.display(), error = %cache_error, "stale scrip master unreadable too");
            Err(fetch_error)
        }
    }
}

/// The copy's modification time, if it exists.
async fn modified_at(path: &Path) -> Option<SystemTime> {
    tokio::fs::metadata(path).await.ok()?.modified().ok()
}

/// Whether a file modified at `modified` is younger than `max_age`. A modification
/// time in the future (clock trouble) counts as old, so the copy gets replaced rather
/// than trusted indefinitely.
fn is_younger(modified: SystemTime, max_age: Duration) -> bool {
    SystemTime::now()
        .duration_since(modified)
        .is_ok_and(|age| age < max_age)
}

async fn parse_file(path: PathBuf, filter: Filter) -> Result<ParsedMaster, ScripMasterError> {
    // ~200k rows take a noticeable while: keep them off the async workers.
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|source| ScripMasterError::File {
            action: "opening",
            path: path.clone(),
            source,
        })?;
        parse(std::io::BufReader::new(file), &filter)
    })
    .await?
}

/// Downloads `url` to a temporary file beside `cache_file`, parses it, and only then
/// renames it over `cache_file`.
async fn download(
    url: &str,
    cache_file: &Path,
    filter: &Filter,
) -> Result<ParsedMaster, ScripMasterError> {
    let partial = partial_path(cache_file);
    let result = download_to(url, &partial).await;
    let result = match result {
        Ok(()) => parse_file(partial.clone(), filter.clone()).await,
        Err(error) => Err(error),
    };
    let master = match result {
        Ok(master) => master,
        Err(error) => {
            // Best effort: a leftover partial file is harmless and overwritten next time.
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
    };
    tokio::fs::rename(&partial, cache_file)
        .await
        .map_err(|source| ScripMasterError::File {
            action: "renaming the download onto",
            path: cache_file.to_owned(),
            source,
        })?;
    Ok(master)
}

/// `<cache_file>.partial`, in the same directory so the rename is atomic.
fn partial_path(cache_file: &Path) -> PathBuf {
    let mut name = cache_file.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    cache_file.with_file_name(name)
}

async fn download_to(url: &str, partial: &Path) -> Result<(), ScripMasterError> {
    let request_error = |source| ScripMasterError::Request {
        url: url.to_owned(),
        source,
    };
    let file_error = |action| {
        move |source| ScripMasterError::File {
            action,
            path: partial.to_owned(),
            source,
        }
    };
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(request_error)?;
    let mut response = client.get(url).send().await.map_err(request_error)?;
    let status = response.status();
    if !status.is_success() {
        return Err(ScripMasterError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    if let Some(directory) = partial.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(directory)
            .await
            .map_err(|source| ScripMasterError::File {
                action: "creating the directory of",
                path: partial.to_owned(),
                source,
            })?;
    }
    let mut file = tokio::fs::File::create(partial)
        .await
        .map_err(file_error("creating"))?;
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        file.write_all(&chunk)
            .await
            .map_err(file_error("writing"))?;
    }
    file.sync_all().await.map_err(file_error("syncing"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;

    use super::*;
    use crate::scrip_master::fixtures::fixture;

    /// A stand-in for Dhan's CDN: serves `body` (or a 500 while `failing`) and counts
    /// requests.
    struct Cdn {
        body: Vec<u8>,
        failing: AtomicBool,
        hits: AtomicUsize,
    }

    async fn serve(cdn: State<Arc<Cdn>>) -> (StatusCode, Vec<u8>) {
        cdn.hits.fetch_add(1, Ordering::SeqCst);
        if cdn.failing.load(Ordering::SeqCst) {
            (StatusCode::INTERNAL_SERVER_ERROR, b"upstream down".to_vec())
        } else {
            (StatusCode::OK, cdn.body.clone())
        }
    }

    async fn start_cdn(body: Vec<u8>, failing: bool) -> (String, Arc<Cdn>) {
        let cdn = Arc::new(Cdn {
            body,
            failing: AtomicBool::new(failing),
            hits: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/master.csv", get(serve))
            .with_state(Arc::clone(&cdn));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/master.csv", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, cdn)
    }

    fn nifty() -> Filter {
        Filter::new(["NIFTY"])
    }

    /// A local copy holding only the SENSEX rows of the fixture, so a test can tell it
    /// from the served file; aged by `age`.
    fn write_copy(path: &Path, age: Duration) {
        let full = String::from_utf8(fixture("detailed.csv")).unwrap();
        let copy: String = full
            .lines()
            .filter(|line| line.starts_with("EXCH_ID") || line.contains("SENSEX"))
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(path, copy).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[tokio::test]
    async fn downloads_when_there_is_no_copy() {
        let (url, cdn) = start_cdn(fixture("detailed.csv"), false).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("masters").join("detailed.csv");
        let loaded = load_or_fetch(&url, &cache, DAY, &nifty()).await.unwrap();
        assert!(matches!(loaded.source, MasterSource::Fresh));
        assert_eq!(loaded.master.instruments.len(), 31);
        assert_eq!(cdn.hits.load(Ordering::SeqCst), 1);
        assert_eq!(std::fs::read(&cache).unwrap(), fixture("detailed.csv"));
        assert!(!partial_path(&cache).exists());
        assert!((OffsetDateTime::now_utc() - loaded.fetched_at).whole_seconds() < 60);
    }

    #[tokio::test]
    async fn a_young_copy_is_used_without_contacting_the_server() {
        let (url, cdn) = start_cdn(fixture("detailed.csv"), false).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("detailed.csv");
        write_copy(&cache, Duration::from_secs(3600));
        let loaded = load_or_fetch(&url, &cache, DAY, &Filter::new(["SENSEX"]))
            .await
            .unwrap();
        assert!(matches!(loaded.source, MasterSource::Cached));
        assert_eq!(loaded.master.instruments.len(), 7);
        assert_eq!(cdn.hits.load(Ordering::SeqCst), 0);
        let age = OffsetDateTime::now_utc() - loaded.fetched_at;
        assert!((3590..3610).contains(&age.whole_seconds()), "{age}");
    }

    #[tokio::test]
    async fn an_old_copy_is_replaced() {
        let (url, cdn) = start_cdn(fixture("detailed.csv"), false).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("detailed.csv");
        write_copy(&cache, 2 * DAY);
        let loaded = load_or_fetch(&url, &cache, DAY, &nifty()).await.unwrap();
        assert!(matches!(loaded.source, MasterSource::Fresh));
        assert_eq!(loaded.master.instruments.len(), 31);
        assert_eq!(cdn.hits.load(Ordering::SeqCst), 1);
        assert_eq!(std::fs::read(&cache).unwrap(), fixture("detailed.csv"));
    }

    #[tokio::test]
    async fn a_failed_download_falls_back_to_the_stale_copy() {
        let (url, cdn) = start_cdn(fixture("detailed.csv"), true).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("detailed.csv");
        write_copy(&cache, 2 * DAY);
        let before = std::fs::read(&cache).unwrap();
        let loaded = load_or_fetch(&url, &cache, DAY, &Filter::new(["SENSEX"]))
            .await
            .unwrap();
        let MasterSource::StaleFallback { error } = &loaded.source else {
            panic!("expected a stale fallback, got {:?}", loaded.source);
        };
        assert!(
            matches!(error, ScripMasterError::Status { status: 500, .. }),
            "{error}"
        );
        assert_eq!(loaded.master.instruments.len(), 7);
        assert_eq!(cdn.hits.load(Ordering::SeqCst), 1);
        assert_eq!(std::fs::read(&cache).unwrap(), before);
        assert!((OffsetDateTime::now_utc() - loaded.fetched_at).whole_hours() >= 47);
    }

    #[tokio::test]
    async fn a_failed_download_without_a_copy_is_an_error() {
        let (url, _cdn) = start_cdn(Vec::new(), true).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("detailed.csv");
        let error = load_or_fetch(&url, &cache, DAY, &nifty())
            .await
            .unwrap_err();
        assert!(
            matches!(error, ScripMasterError::Status { status: 500, .. }),
            "{error}"
        );
        assert!(!cache.exists());
    }

    #[tokio::test]
    async fn an_error_page_never_replaces_the_copy() {
        let (url, _cdn) = start_cdn(b"<html>maintenance</html>".to_vec(), false).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("detailed.csv");
        write_copy(&cache, 2 * DAY);
        let before = std::fs::read(&cache).unwrap();
        let loaded = load_or_fetch(&url, &cache, DAY, &Filter::new(["SENSEX"]))
            .await
            .unwrap();
        assert!(matches!(
            loaded.source,
            MasterSource::StaleFallback {
                error: ScripMasterError::MissingColumns { .. }
            }
        ));
        assert_eq!(std::fs::read(&cache).unwrap(), before);
        assert!(!partial_path(&cache).exists());
    }
}
