//! A client of the relayer's HTTP API (used by `zkguard-relayer submit` and `status`, the
//! benchmark and the tests).

use std::time::Duration;

use crate::intake::{JobResponse, SubmitProofRequest, SubmitRequest};
use crate::secret::Secret;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Transport.
    #[error("request to the relayer failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The relayer refused the request.
    #[error("the relayer answered {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Its JSON error body.
        body: String,
    },
}

/// A client of one relayer.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Secret,
    http: reqwest::Client,
}

impl Client {
    /// A client of the relayer at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: impl Into<String>, token: Secret) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default();
        Self { base: base.into().trim_end_matches('/').to_string(), token, http }
    }

    async fn decode(resp: reqwest::Response) -> Result<JobResponse, ClientError> {
        let status = resp.status();
        if status.is_success() {
            Ok(resp.json().await?)
        } else {
            Err(ClientError::Refused { status: status.as_u16(), body: resp.text().await.unwrap_or_default() })
        }
    }

    /// `POST /v1/requests`.
    pub async fn submit(&self, req: &SubmitRequest) -> Result<JobResponse, ClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/requests", self.base))
            .bearer_auth(self.token.expose())
            .json(req)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `POST /v1/proofs`: a ready proof artifact with the Guard context it is bound to.
    pub async fn submit_proof(&self, req: &SubmitProofRequest) -> Result<JobResponse, ClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/proofs", self.base))
            .bearer_auth(self.token.expose())
            .json(req)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: &str) -> Result<JobResponse, ClientError> {
        let resp = self.http.get(format!("{}/v1/jobs/{id}", self.base)).bearer_auth(self.token.expose()).send().await?;
        Self::decode(resp).await
    }

    /// `GET /metrics` text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        Ok(self.http.get(format!("{}/metrics", self.base)).send().await?.text().await?)
    }

    /// Polls a job until it is `confirmed` or `failed`, or `timeout` passes.
    pub async fn wait_final(&self, id: &str, timeout: Duration) -> Result<JobResponse, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let job = self.job(id).await?;
            if job.state == "confirmed" || job.state == "failed" || tokio::time::Instant::now() >= deadline {
                return Ok(job);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
