//! One tracing set-up for every zkguard binary (`zkguard`, `zkguard-relayer`, the benchmarks):
//! the filter is the one given (`--log`), else the `ZKGUARD_LOG` environment variable, else the
//! binary's default; logs go to stderr, coloured only on a terminal, so a redirected log stays
//! plain text.

use tracing_subscriber::EnvFilter;

/// The one environment variable that sets the log filter (tracing env-filter syntax).
pub const LOG_ENV: &str = "ZKGUARD_LOG";

/// The filter `init` uses: `explicit`, else `$ZKGUARD_LOG`, else `default`. A filter that does not
/// parse is reported on stderr (naming it) and replaced by `default`.
pub fn filter(explicit: Option<&str>, default: &str) -> EnvFilter {
    let from_env = std::env::var(LOG_ENV).ok();
    let chosen = explicit.or(from_env.as_deref()).unwrap_or(default);
    EnvFilter::try_new(chosen).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter {chosen:?} ({e}); using {default:?}");
        EnvFilter::new(default)
    })
}

/// Installs the global subscriber (once per process; later calls are no-ops).
pub fn init(explicit: Option<&str>, default: &str) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(explicit, default))
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_filter_wins_and_a_bad_one_falls_back_to_the_default() {
        assert_eq!(filter(Some("debug"), "info").to_string(), "debug");
        assert_eq!(filter(Some("zkguard=[bad"), "warn").to_string(), "warn");
    }
}
