//! The direct invocation: `{"warden": "tick" | "fanout" | "connection", ...}`,
//! as written by hand, by a Step Functions state machine or by a FunctionGraph
//! timer's `user_event`.

use serde_json::{Map, Value};

use super::error::EventError;
use super::fields::{jobs, targets};
use super::notice::{notice_from_value, NOTICE_SHAPE};
use super::{Decoded, Record, Reply, Trigger};
use crate::config::Settings;

pub(crate) fn direct(
    event: &Map<String, Value>,
    settings: &Settings,
) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "direct";
    let decoded = |trigger| Decoded {
        source: ORIGIN,
        trigger,
        reply: Reply::Report,
    };
    match event.get("warden").and_then(Value::as_str) {
        Some("tick") => {
            let reply = match event.get("answer").and_then(Value::as_str) {
                None | Some("report") => Reply::Report,
                Some("summary") => Reply::Summary,
                Some(_) => {
                    return Err(EventError::malformed(
                        ORIGIN,
                        Reply::Report,
                        "\"answer\": \"report\" (the default) or \"summary\"",
                        None,
                    ))
                }
            };
            Ok(Decoded {
                reply,
                ..decoded(Trigger::Tick {
                    jobs: jobs(event.get("jobs"), ORIGIN)?,
                    targets: targets(event.get("targets"), settings, ORIGIN)?,
                })
            })
        }
        Some("fanout") => Ok(decoded(Trigger::FanOut {
            jobs: jobs(event.get("jobs"), ORIGIN)?,
            targets: targets(event.get("targets"), settings, ORIGIN)?,
        })),
        Some("connection") => {
            let notice = notice_from_value(&Value::Object(event.clone())).map_err(|cause| {
                EventError::malformed(
                    ORIGIN,
                    Reply::Report,
                    format!("{NOTICE_SHAPE} beside \"warden\": \"connection\""),
                    cause,
                )
            })?;
            Ok(decoded(Trigger::Connections(vec![Record {
                id: None,
                notice: Ok(notice),
            }])))
        }
        _ => Err(EventError::malformed(
            ORIGIN,
            Reply::Report,
            "\"warden\": \"tick\" (with optional \"jobs\"), \"warden\": \"fanout\" (the same, one invocation per target) or \"warden\": \"connection\" (with a notice's service_id and endpoint_id)",
            None,
        )),
    }
}
