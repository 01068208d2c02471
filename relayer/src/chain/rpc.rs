//! RPC error classification and retries with exponential back-off.
//!
//! Transport failures (connection refused or reset, timeouts, 429/503, truncated responses) are
//! *transient*: retried until they succeed, however long the node is away. A JSON-RPC error
//! carrying revert data is a *revert* (never retried); any other JSON-RPC error is *rejected*
//! (the node refused the request; callers decide).

use std::future::Future;
use std::time::Duration;

use alloy::rpc::json_rpc::ErrorPayload;
use alloy::transports::{RpcError, TransportErrorKind};

use crate::metrics::Metrics;

/// A classified RPC failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcFailure {
    /// The call reverted; the payload is the revert data (maybe empty).
    Revert(Vec<u8>),
    /// The node answered with an error that is not a revert.
    Rejected(String),
}

impl std::fmt::Display for RpcFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcFailure::Revert(data) => write!(f, "reverted: {}", super::revert::decode_revert(data)),
            RpcFailure::Rejected(m) => write!(f, "rejected by the node: {m}"),
        }
    }
}

impl std::error::Error for RpcFailure {}

/// A transient RPC failure: worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum TransientRpcError {
    /// The node is rate limiting (JSON-RPC `-32005`, or a message saying so); shows its message.
    #[error("{}", .0.message)]
    RateLimited(ErrorPayload),
    /// The transport failed (connection refused or reset, timeout, HTTP 429/503, a truncated
    /// response, ...).
    #[error(transparent)]
    Transport(RpcError<TransportErrorKind>),
}

/// `Ok(failure)` for a final answer of the node, `Err` for a transient error.
pub fn classify(err: RpcError<TransportErrorKind>) -> Result<RpcFailure, TransientRpcError> {
    match err {
        RpcError::ErrorResp(payload) => {
            if let Some(data) = payload.as_revert_data() {
                return Ok(RpcFailure::Revert(data.to_vec()));
            }
            let message = payload.message.to_string();
            if message.to_ascii_lowercase().contains("revert") {
                return Ok(RpcFailure::Revert(vec![]));
            }
            if payload.code == -32005 || message.contains("rate limit") {
                return Err(TransientRpcError::RateLimited(payload));
            }
            Ok(RpcFailure::Rejected(message))
        }
        other => Err(TransientRpcError::Transport(other)),
    }
}

/// Exponential back-off: 100 ms doubling up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at 100 ms.
    pub fn new(max: Duration) -> Self {
        Self { next: Duration::from_millis(100).min(max), max }
    }

    /// The next delay.
    pub fn step(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

/// Runs `f` until it succeeds or fails for good, sleeping with back-off between transient errors.
pub async fn with_retry<T, F, Fut>(
    what: &str,
    max_backoff: Duration,
    metrics: &Metrics,
    mut f: F,
) -> Result<T, RpcFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RpcError<TransportErrorKind>>>,
{
    let mut backoff = Backoff::new(max_backoff);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => match classify(e) {
                Ok(failure) => return Err(failure),
                Err(transient) => {
                    let delay = backoff.step();
                    metrics.rpc_retry();
                    tracing::warn!(what, error = %transient, retry_in_ms = delay.as_millis() as u64, "transient RPC error");
                    tokio::time::sleep(delay).await;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(500));
        let steps: Vec<u64> = (0..5).map(|_| b.step().as_millis() as u64).collect();
        assert_eq!(steps, [100, 200, 400, 500, 500]);
    }

    #[test]
    fn transport_errors_are_transient_and_reverts_final() {
        let transport: RpcError<TransportErrorKind> = TransportErrorKind::BackendGone.into();
        let text = transport.to_string();
        let transient = classify(transport).unwrap_err();
        assert!(matches!(transient, TransientRpcError::Transport(_)), "{transient:?}");
        assert_eq!(transient.to_string(), text, "shown as the transport error");
        let payload: alloy::rpc::json_rpc::ErrorPayload = serde_json::from_str(
            r#"{"code":3,"message":"execution reverted","data":"0x0b82df2e0000000000000000000000000000000000000000000000000000000000000001"}"#,
        )
        .unwrap();
        let revert = classify(RpcError::ErrorResp(payload)).unwrap();
        assert!(matches!(revert, RpcFailure::Revert(ref d) if d.len() == 36), "{revert:?}");
        let payload: alloy::rpc::json_rpc::ErrorPayload =
            serde_json::from_str(r#"{"code":-32000,"message":"nonce too low"}"#).unwrap();
        assert_eq!(classify(RpcError::ErrorResp(payload)).unwrap(), RpcFailure::Rejected("nonce too low".into()));
        for limited in
            [r#"{"code":-32005,"message":"slow down"}"#, r#"{"code":-32000,"message":"rate limit exceeded"}"#]
        {
            let payload: alloy::rpc::json_rpc::ErrorPayload = serde_json::from_str(limited).unwrap();
            let message = payload.message.to_string();
            let transient = classify(RpcError::ErrorResp(payload)).unwrap_err();
            assert!(matches!(transient, TransientRpcError::RateLimited(_)), "{transient:?}");
            assert_eq!(transient.to_string(), message, "shown as the node's message");
        }
    }
}
