//! Integration tests: the emulator over HTTP, with signed requests.

mod admin;
mod api;
mod auth;
mod binary;
mod connection_description;
mod cross_account;
mod faults;
mod iam;
mod organizations;
mod paging;
mod support;
mod temporary;
mod transitions;
