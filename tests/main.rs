//! Integration tests: the warden against local servers it starts itself.

mod alerts;
mod client;
mod events;
mod helpers;
mod jobs;
mod reliability;
mod secrets;
