//! CPU-bound work (decoding answers, rebuilding blocks) moved off the
//! async workers, so that a batch being decoded does not hold up the
//! requests in flight.

use crate::error::UpstreamError;

/// Runs `work` on tokio's blocking pool and returns what it returned. A
/// panic in it is resumed here (the SDK's guard reports it); a runtime
/// shutting down is [`UpstreamError::Shutdown`].
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, UpstreamError> + Send + 'static,
) -> Result<T, UpstreamError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(UpstreamError::Shutdown),
    }
}
