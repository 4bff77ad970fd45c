//! The Lambda runtime: the only file that knows `lambda_runtime`. Each
//! invocation also prints one CloudWatch Embedded Metric Format line.

use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

use super::{answer, refusal, run_event, Answer};
use crate::jobs::Ctx;

/// Serves Lambda invocations until the runtime stops. `ctx` (settings, client,
/// cached IAM token) lives as long as the warm process.
pub async fn serve(ctx: Ctx) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let ctx = ctx.clone();
        async move { handle(&ctx, event).await }
    }))
    .await
}

async fn handle(ctx: &Ctx, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let deadline = deadline_of(event.context.deadline, SystemTime::now());
    tracing::debug!(
        time_left_ms = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as u64,
        "invocation"
    );
    let payload = serde_json::to_vec(&event.payload).unwrap_or_default();
    let ctx = ctx.with_deadline(Some(deadline));
    let result = match run_event(&ctx, &payload).await {
        Ok((reply, outcome)) => {
            // One EMF line per invocation, on stdout, where Lambda's log capture reads it.
            let now_ms = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
            println!("{}", crate::logs::emf(&outcome.report, &function, now_ms));
            answer(reply, &outcome)
        }
        Err(e) => refusal(&e),
    };
    match result {
        Answer::Value(v) => Ok(v),
        Answer::Failed(message) => Err(Diagnostic {
            error_type: "WardenError".to_owned(),
            error_message: message,
        }),
    }
}

/// Deadlines below this many ms since the epoch (2001) are not wall-clock times.
const EPOCH_2001_MS: u64 = 978_307_200_000;

/// The invocation deadline (`Lambda-Runtime-Deadline-Ms`) as a monotonic instant.
///
/// Lambda sends milliseconds since the epoch. Local runtime emulators
/// (`cargo lambda watch`) send the function timeout in milliseconds instead;
/// such a small value is read as that long from now.
fn deadline_of(deadline_ms: u64, now: SystemTime) -> Instant {
    let left = if deadline_ms < EPOCH_2001_MS {
        Duration::from_millis(deadline_ms)
    } else {
        (SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms))
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    };
    Instant::now() + left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_clock_deadline_counts_from_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_000);
        let left = deadline_of(1_795_000_030_000, now).saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(29) && left <= Duration::from_secs(30));
        let past = deadline_of(1_794_999_000_000, now).saturating_duration_since(Instant::now());
        assert_eq!(past, Duration::ZERO);
    }

    #[test]
    fn a_local_emulators_timeout_is_read_as_time_left() {
        let left =
            deadline_of(600_000, SystemTime::now()).saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(599) && left <= Duration::from_secs(600));
    }
}
