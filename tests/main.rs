//! Integration tests: the warden against local servers it starts itself.

mod client;
mod events;
mod helpers;
mod jobs;
mod reliability;
mod secrets;
