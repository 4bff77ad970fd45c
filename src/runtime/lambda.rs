//! The Lambda runtime: the only file that knows `lambda_runtime`.

use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

use super::{invoke, Answer};
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
    let deadline = instant_of(event.context.deadline());
    let payload = serde_json::to_vec(&event.payload).unwrap_or_default();
    match invoke(&ctx.with_deadline(Some(deadline)), &payload).await {
        Answer::Value(v) => Ok(v),
        Answer::Failed(message) => Err(Diagnostic {
            error_type: "WardenError".to_owned(),
            error_message: message,
        }),
    }
}

/// The wall-clock deadline as a monotonic instant.
fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}
