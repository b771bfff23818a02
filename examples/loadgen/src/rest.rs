//! Fixed-rate REST load, and the hot-swap-under-load run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::{Mutex, Semaphore};

use crate::report::Latencies;

#[derive(Debug, Clone, Args)]
pub(crate) struct RestArgs {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub url: String,
    /// Access token (`optionhub user token NAME`).
    #[arg(long, env = "LOADGEN_TOKEN")]
    pub token: String,
    /// Path and query to GET.
    #[arg(long, default_value = "/api/v2/market/underlyings")]
    pub path: String,
    /// Requests per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Most requests in flight at once (beyond it a request counts as failed: "overload").
    #[arg(long, default_value_t = 256)]
    pub in_flight: usize,
    /// Seconds of warm-up at the same rate, not recorded.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// `Accept-Encoding` to send (e.g. `gzip`, `br`, `zstd`); none asks for identity.
    /// Bodies are counted as received, not decoded.
    #[arg(long)]
    pub accept_encoding: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct SwapArgs {
    #[command(flatten)]
    pub rest: RestArgs,
    /// The component to upload halfway through.
    #[arg(long)]
    pub plugin: std::path::PathBuf,
    /// Uploads to make, evenly spread over the run.
    #[arg(long, default_value_t = 1)]
    pub uploads: u32,
}

pub(crate) async fn run(args: RestArgs) -> anyhow::Result<()> {
    let client = client()?;
    if args.warmup > 0 {
        drive(&client, &args, Duration::from_secs(args.warmup)).await?;
    }
    let started = Instant::now();
    let latencies = drive(&client, &args, Duration::from_secs(args.duration)).await?;
    latencies.print(
        &format!("GET {} at {}/s", args.path, args.rate),
        started.elapsed(),
    );
    Ok(())
}

pub(crate) async fn swap(args: SwapArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.plugin)?;
    let client = client()?;
    let rest = args.rest.clone();
    let gap = Duration::from_secs(rest.duration) / (args.uploads + 1);
    let uploads = args.uploads;
    let uploader = spawn_uploads(&client, &rest, vec![bytes], gap, move |done| done < uploads);
    let started = Instant::now();
    let latencies = drive(&client, &rest, Duration::from_secs(rest.duration)).await?;
    let elapsed = started.elapsed();
    for (status, took) in uploader.await? {
        println!("upload: {status:?} in {:.1} ms", took.as_secs_f64() * 1e3);
    }
    latencies.print(
        &format!("GET {} at {}/s during plugin upload", rest.path, rest.rate),
        elapsed,
    );
    if latencies.failed() > 0 {
        anyhow::bail!("{} requests failed during the swap", latencies.failed());
    }
    Ok(())
}

/// An upload's HTTP status (or why it was not sent) and how long it took.
pub(crate) type Upload = (Result<u16, String>, Duration);

/// Uploads the `components` in turn through `POST /admin/plugins`, one every `gap`,
/// for as long as `go_on(uploads done so far)` says (asked before each wait and after).
pub(crate) fn spawn_uploads(
    client: &reqwest::Client,
    args: &RestArgs,
    components: Vec<Vec<u8>>,
    gap: Duration,
    go_on: impl Fn(u32) -> bool + Send + 'static,
) -> tokio::task::JoinHandle<Vec<Upload>> {
    let client = client.clone();
    let url = format!("{}/admin/plugins", args.url);
    let token = args.token.clone();
    tokio::spawn(async move {
        let mut outcomes = Vec::new();
        for (done, bytes) in (0..).zip(components.iter().cycle()) {
            if !go_on(done) {
                break;
            }
            tokio::time::sleep(gap).await;
            if !go_on(done) {
                break;
            }
            let started = Instant::now();
            let status = client
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/wasm")
                .body(bytes.clone())
                .send()
                .await
                .map(|r| r.status().as_u16());
            outcomes.push((status.map_err(|e| e.to_string()), started.elapsed()));
        }
        outcomes
    })
}

pub(crate) fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()?)
}

/// Sends at `args.rate` for `duration`; latency counts from each request's due time.
async fn drive(
    client: &reqwest::Client,
    args: &RestArgs,
    duration: Duration,
) -> anyhow::Result<Latencies> {
    let paths = [args.path.clone()];
    let mut by_path = drive_paths(client, args, &paths, duration).await?;
    Ok(by_path.remove(&args.path).unwrap_or(Latencies::new()?))
}

/// Sends at `args.rate` for `duration`, cycling through `paths` (`args.path` is not
/// used); latencies and failures are kept per path.
pub(crate) async fn drive_paths(
    client: &reqwest::Client,
    args: &RestArgs,
    paths: &[String],
    duration: Duration,
) -> anyhow::Result<BTreeMap<String, Latencies>> {
    let mut results = BTreeMap::new();
    for path in paths {
        results.insert(path.clone(), Latencies::new()?);
    }
    let results = Arc::new(Mutex::new(results));
    let total = u64::from(args.rate) * duration.as_secs();
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let slots = Arc::new(Semaphore::new(args.in_flight.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for (i, path) in (0..total).zip(paths.iter().cycle()) {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            if let Some(latencies) = results.lock().await.get_mut(path) {
                latencies.fail("overload (too many in flight)");
            }
            continue;
        };
        let mut request = client
            .get(format!("{}{path}", args.url))
            .bearer_auth(&args.token);
        if let Some(coding) = &args.accept_encoding {
            request = request.header("accept-encoding", coding);
        }
        let results = results.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let body = response.bytes().await;
                    match (status.is_success(), body) {
                        (true, Ok(body)) => Ok(body.len()),
                        (false, _) => Err(format!("HTTP {}", status.as_u16())),
                        (true, Err(e)) => Err(format!("body: {e}")),
                    }
                }
                Err(e) => Err(format!("send: {e}")),
            };
            let latency = due.elapsed();
            drop(permit);
            let mut results = results.lock().await;
            let Some(latencies) = results.get_mut(&path) else {
                return;
            };
            match outcome {
                Ok(received) => {
                    latencies.record(latency);
                    latencies.add_body_bytes(received);
                }
                Err(why) => latencies.fail(why),
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let results = results.lock().await.clone();
    Ok(results)
}
