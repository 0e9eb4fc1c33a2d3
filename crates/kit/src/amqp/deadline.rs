//! Every wait on the broker is bounded: a link that stalls without closing (a slow or half-dead
//! proxy, a broker that stops answering) must not hold a relay or a consumer forever. On a
//! timeout the caller drops its channel and the connection ([`super::Broker::reset`]) and starts
//! again on a fresh one.

use std::time::Duration;

/// The longest anything waits for one answer from the broker (a channel, a declaration, a
/// publish, a batch's confirms, a queue's depth).
pub const BROKER_WAIT: Duration = Duration::from_secs(10);

/// `fut` within [`BROKER_WAIT`], or a [`TimedOut`] naming `what`.
pub(crate) async fn bounded<T, E>(
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(BROKER_WAIT, fut).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(TimedOut(what.to_string()).into()),
    }
}

/// The broker did not answer in time; the connection is suspect.
#[derive(Debug, thiserror::Error)]
#[error("the broker did not answer within {BROKER_WAIT:?} ({0})")]
pub(crate) struct TimedOut(pub(crate) String);

/// Whether `e` (or what it wraps) is a broker timeout.
pub(crate) fn timed_out(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<TimedOut>())
}
