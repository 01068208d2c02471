//! Bearer-token authentication: `Authorization: Bearer <token>`, compared in constant time with
//! the configured token. The token is never logged.

use axum::http::{HeaderMap, StatusCode};

use super::error::ApiError;
use crate::secret::Secret;

/// Checks the request's bearer token.
pub fn check(headers: &HeaderMap, token: &Secret) -> Result<(), ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer token"))?;
    let value = value.to_str().map_err(|_| unauthorized("malformed Authorization header"))?;
    let presented = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    if token.matches(presented.trim()) {
        Ok(())
    } else {
        Err(unauthorized("invalid token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_bearer_token() {
        let token = Secret::new("0123456789abcdef");
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("authorization", v.parse().unwrap());
            h
        };
        assert!(check(&with("Bearer 0123456789abcdef"), &token).is_ok());
        for bad in ["Bearer 0123456789abcdeX", "Basic 0123456789abcdef", "Bearer ", "0123456789abcdef"] {
            assert_eq!(check(&with(bad), &token).unwrap_err().status, StatusCode::UNAUTHORIZED, "{bad}");
        }
        assert!(check(&HeaderMap::new(), &token).is_err());
    }
}
