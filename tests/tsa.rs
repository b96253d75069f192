//! govseal's RFC 3161 time-stamping authority, checked with OpenSSL.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{interop, spawn_app};

#[tokio::test]
async fn openssl_ts_accepts_govseal_tsa_replies() {
    if !interop::available("TSA", &["openssl"]) {
        return;
    }
    let app = spawn_app().await;
    let dir = app.dir.path();
    let data = dir.join("data.txt");
    std::fs::write(&data, "福州市行政审批局 2026").unwrap();
    let query = dir.join("req.tsq");
    let out = Command::new("openssl")
        .args(["ts", "-query", "-sha256", "-cert", "-data"])
        .arg(&data)
        .arg("-out")
        .arg(&query)
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = app
        .http
        .post(format!("{}/v1/tsa", app.url))
        .header("content-type", "application/timestamp-query")
        .body(std::fs::read(&query).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/timestamp-reply");
    let reply = dir.join("resp.tsr");
    std::fs::write(&reply, r.bytes().await.unwrap()).unwrap();
    let chain = dir.join("chain.pem");
    let mut pem = std::fs::read_to_string(app.certs().join("issuing-ca.pem")).unwrap();
    pem.push_str(&std::fs::read_to_string(app.certs().join("tsa.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let verify = |file: &Path| {
        Command::new("openssl")
            .args(["ts", "-verify", "-data"])
            .arg(file)
            .arg("-in")
            .arg(&reply)
            .arg("-CAfile")
            .arg(app.certs().join("root.pem"))
            .arg("-untrusted")
            .arg(&chain)
            .output()
            .unwrap()
    };
    let ok = verify(&data);
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("Verification: OK"),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let other = dir.join("other.txt");
    std::fs::write(&other, "something else").unwrap();
    assert!(
        !verify(&other).status.success(),
        "a different document must not verify"
    );

    // A malformed query is answered with a rejection, not an error page; a wrong content type is 415.
    let r = app
        .http
        .post(format!("{}/v1/tsa", app.url))
        .header("content-type", "application/timestamp-query")
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .post(format!("{}/v1/tsa", app.url))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}
