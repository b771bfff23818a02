//! The shutdown signal background tasks share: a `watch` of `bool` that turns true once.
//! Waiting on it goes through [`stopped`], which holds no borrow of the channel across an
//! await, so tasks that `select!` on it stay `Send`.

use tokio::sync::watch;

/// Resolves once `signal` is true (or its sender is gone).
pub async fn stopped(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}
