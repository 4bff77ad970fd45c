//! Integration tests: the warden against local servers it starts itself.

mod alerts;
mod check;
mod cli;
mod client;
mod conformance;
mod events;
mod functiongraph;
mod helpers;
mod hostile;
mod iam;
mod jobs;
mod judgement;
mod logs;
mod organizations;
mod packaging;
mod reliability;
mod routing;
mod safety;
mod scripted;
mod secrets;
mod serve;
mod settings;
mod settings_hardening;
mod smn;
mod state;
mod targets;
