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
        time_left_ms =
            deadline.map(|d| d.saturating_duration_since(Instant::now()).as_millis() as u64),
        "invocation"
    );
    let payload = serde_json::to_vec(&event.payload).unwrap_or_default();
    let ctx = ctx.with_deadline(deadline);
    let result = match run_event(&ctx, &payload).await {
        Ok((reply, outcome)) => {
            // The EMF lines of the invocation (the run, then each target), on stdout, where Lambda's log capture reads it.
            let now_ms = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
            for line in crate::logs::emf(&outcome.report, &function, now_ms) {
                println!("{line}");
            }
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

/// The extension's port: `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, else 2773.
pub fn extension_port() -> u16 {
    std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
        .ok()
        .and_then(|p| p.trim().parse::<u16>().ok())
        .unwrap_or(2773)
}

/// How a key of the Secrets Manager secret maps to a setting.
const SECRET_KEYS: &[(&str, &str)] = &[
    ("ak", "HUAWEICLOUD_SDK_AK"),
    ("sk", "HUAWEICLOUD_SDK_SK"),
    ("security_token", "HUAWEICLOUD_SDK_SECURITY_TOKEN"),
    ("auth_token", "WARDEN_AUTH_TOKEN"),
    ("iam_password", "WARDEN_IAM_PASSWORD"),
    ("webhook_secret", "WARDEN_WEBHOOK_SECRET"),
    ("alert_webhook_url", "WARDEN_ALERT_WEBHOOK_URL"),
];

/// How long the extension may take to get ready at a cold start.
const EXTENSION_WAIT: Duration = Duration::from_secs(10);

/// The start of an answer's text, at most `limit` bytes of it.
async fn bounded_text(mut answer: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = answer.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The settings held by the Secrets Manager secret `secret_id`, read at start
/// through the AWS Parameters and Secrets Lambda Extension on localhost
/// (`GET http://localhost:{PARAMETERS_SECRETS_EXTENSION_HTTP_PORT or
/// 2773}/secretsmanager/get?secretId=…`, authenticated by the function's
/// `AWS_SESSION_TOKEN` in `X-Aws-Parameters-Secrets-Token`; redirects are
/// never followed; while the extension answers 4xx "not ready" at a cold
/// start it is asked again, for at most [`EXTENSION_WAIT`]). The secret is a
/// JSON object; the keys of [`SECRET_KEYS`] become their settings, others
/// are ignored. Errors never hold a secret's value.
pub async fn secrets_from_extension(
    secret_id: &str,
    port: u16,
    token: &str,
) -> Result<Vec<(String, crate::config::Secret)>, String> {
    let mut url = url::Url::parse(&format!("http://localhost:{port}/secretsmanager/get"))
        .map_err(|e| e.to_string())?;
    url.query_pairs_mut().append_pair("secretId", secret_id);
    let http = crate::tls::client_builder()
        .timeout(Duration::from_secs(5))
        // The token is the function's AWS session: it goes to the extension
        // on localhost and nowhere else, whatever the answer says.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    // The extension starts beside the function: until it listens the
    // connection fails, and until it is ready it answers 4xx "not ready to
    // serve traffic". Both are tried again, for at most EXTENSION_WAIT.
    let started = Instant::now();
    let mut attempt: u32 = 0;
    let answer = loop {
        attempt += 1;
        let waited = started.elapsed() >= EXTENSION_WAIT;
        let pause = Duration::from_millis(200 * u64::from(attempt)).min(Duration::from_secs(1));
        match http
            .get(url.clone())
            .header("X-Aws-Parameters-Secrets-Token", token)
            .send()
            .await
        {
            Ok(a) if a.status().is_client_error() && !waited => {
                let status = a.status();
                let text = bounded_text(a, 4096).await;
                if !text.to_ascii_lowercase().contains("not ready") {
                    break Err(status);
                }
                tracing::debug!(%status, attempt, "the Secrets Manager extension is not ready yet");
                tokio::time::sleep(pause).await;
            }
            Ok(a) if a.status().is_success() => break Ok(a),
            Ok(a) => break Err(a.status()),
            Err(e) if !waited && e.is_connect() => tokio::time::sleep(pause).await,
            Err(e) => {
                return Err(format!(
                    "the Parameters and Secrets Lambda Extension on port {port} did not answer ({}): add its layer to the function, or unset WARDEN_SECRETS_ARN",
                    if e.is_timeout() { "timed out" } else { "no connection" }
                ))
            }
        }
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(status) if status.is_redirection() => {
            return Err(format!(
                "the Parameters and Secrets Lambda Extension on port {port} answered HTTP {status}, a redirect: not followed (the session token goes nowhere else)"
            ))
        }
        Err(status) => {
            return Err(format!(
                "the secret {secret_id} could not be read through the Parameters and Secrets Lambda Extension: HTTP {status} (does the function's role allow secretsmanager:GetSecretValue on it?)"
            ))
        }
    };
    // A secret holds at most 64 KB: an answer over 1 MiB is not one.
    let body: serde_json::Value = serde_json::from_str(&bounded_text(answer, 1 << 20).await)
        .map_err(|_| "the extension's answer is not JSON (or over 1 MiB)".to_owned())?;
    let text = body["SecretString"].as_str().ok_or_else(|| {
        format!("the secret {secret_id} has no SecretString (a binary secret is not supported)")
    })?;
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| {
            format!("the secret {secret_id} must be a JSON object such as {{\"ak\": …, \"sk\": …}} (its value is not shown)")
        })?;
    Ok(SECRET_KEYS
        .iter()
        .filter_map(|(key, setting)| {
            let value = fields.get(*key)?.as_str()?.trim();
            (!value.is_empty()).then(|| ((*setting).to_owned(), crate::config::Secret::new(value)))
        })
        .collect())
}

/// Deadlines below this many ms since the epoch (2001) are not wall-clock times.
const EPOCH_2001_MS: u64 = 978_307_200_000;

/// The invocation deadline (`Lambda-Runtime-Deadline-Ms`) as a monotonic instant.
///
/// Lambda sends milliseconds since the epoch. Local runtime emulators
/// (`cargo lambda watch`) send the function timeout in milliseconds instead;
/// such a small value is read as that long from now. A deadline beyond what
/// the clock can hold is none (`None`), never a panic.
fn deadline_of(deadline_ms: u64, now: SystemTime) -> Option<Instant> {
    let left = if deadline_ms < EPOCH_2001_MS {
        Duration::from_millis(deadline_ms)
    } else {
        SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_millis(deadline_ms))?
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    };
    Instant::now().checked_add(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_clock_deadline_counts_from_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_000);
        let left = deadline_of(1_795_000_030_000, now)
            .unwrap()
            .saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(29) && left <= Duration::from_secs(30));
        let past = deadline_of(1_794_999_000_000, now)
            .unwrap()
            .saturating_duration_since(Instant::now());
        assert_eq!(past, Duration::ZERO);
    }

    #[test]
    fn a_local_emulators_timeout_is_read_as_time_left() {
        let left = deadline_of(600_000, SystemTime::now())
            .unwrap()
            .saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(599) && left <= Duration::from_secs(600));
    }
}
