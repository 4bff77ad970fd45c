//! Integration tests: the warden against local servers it starts itself.

mod check;
mod client;
mod events;
mod iam;
mod scripted;
mod settings;
