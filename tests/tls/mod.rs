//! Every HTTPS client of the warden verifies the server against the roots
//! built in (src/tls.rs): a server whose certificate no public authority
//! signed is refused, whatever it answers.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use vpcep_emulator::Options;
use vpcep_warden::config::Settings;

use crate::helpers::*;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The HTTPS server of tests/tls/server.py (Python's `cryptography`, which
/// .ci/requirements.txt brings with moto), or `None` outside CI without it.
fn self_signed() -> Option<Server> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls/server.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("a piped stdout");
    let _ = BufReader::new(stdout).read_line(&mut line);
    let Some(port) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        let mut why = String::new();
        if let Some(stderr) = child.stderr.take() {
            let _ = BufReader::new(stderr).read_line(&mut why);
        }
        let _ = child.wait();
        if std::env::var_os("CI").is_none() {
            eprintln!("SKIPPED: the HTTPS test server did not start: {why}");
            return None;
        }
        panic!("the HTTPS test server did not start in CI: {why}");
    };
    Some(Server {
        port: port.parse().expect("a port"),
        child,
    })
}

#[tokio::test]
async fn a_server_no_built_in_authority_vouches_for_is_refused() {
    let Some(server) = self_signed() else { return };
    let url = format!("https://127.0.0.1:{}/", server.port);
    let refused = vpcep_warden::tls::client_builder()
        .build()
        .expect("a client")
        .get(&url)
        .send()
        .await
        .expect_err("an untrusted certificate is refused");
    let mut chain = refused.to_string();
    let mut source = std::error::Error::source(&refused);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(
        chain.to_lowercase().contains("certificate"),
        "refused for its certificate: {chain}"
    );

    // The VPCEP client as a deployment builds it: the call fails, and no
    // answer of that server is taken.
    let emu = emulator(serde_json::json!({}), Options::default()).await;
    let mut s: Settings = settings(&emu);
    s.vpcep_endpoint = url;
    s.max_retries = 0;
    let failed = ctx(s).client.quotas().await;
    assert!(failed.is_err(), "{failed:?}");
}
