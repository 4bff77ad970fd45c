//! State that outlives the process (`WARDEN_STATE`): its settings, and two
//! separate processes sharing a file or S3 API store.

mod file;
mod processes;
mod resolved;
mod revoke;
mod s3;
mod settings;
