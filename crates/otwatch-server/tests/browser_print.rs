//! The printable alert page in headless Chromium: under the print media type every tab is
//! shown and the controls are hidden, MITRE links print their address, and the browser's
//! own print (what "Save as PDF" does) produces a PDF.
//!
//! The print media type is switched on through chromedriver's Chrome DevTools endpoint
//! (`Emulation.setEmulatedMedia`). Chromium missing is a loud failure:
//! `apt-get install chromium chromium-driver`.

mod support;

use std::io::{Read, Write};

use serde_json::{Value, json};

use support::{B, api, fixture};

/// One Chrome DevTools command through chromedriver (`POST /session/{id}/goog/cdp/execute`),
/// as a plain HTTP/1.1 request.
fn cdp(driver_url: &str, session: &str, cmd: &str, params: Value) {
    let addr = driver_url.trim_start_matches("http://");
    let body = json!({"cmd": cmd, "params": params}).to_string();
    let mut s = std::net::TcpStream::connect(addr).expect("connect to chromedriver");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /session/{session}/goog/cdp/execute HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // The status line is enough; chromedriver may keep the connection open.
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).expect("chromedriver answers");
    let resp = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(resp.starts_with("HTTP/1.1 200"), "{cmd}: {resp}");
}

/// The computed `display` of the first element matching `sel` ("" when there is none).
async fn display(b: &B, sel: &str) -> String {
    let v = b
        .c
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? getComputedStyle(e).display : '';",
            vec![json!(sel)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_pages_print_every_tab_without_controls() {
    let f = fixture();
    let (base, state) = support::serve(f.store.clone()).await;
    let driver = support::driver();
    let c = support::browser(&driver).await;
    let session = c.session_id().await.unwrap().expect("a session id");
    let b = B { c, base, shots: support::screenshot_dir() };
    let tok = f.tokens["analyst"].clone();
    b.sign_in("analyst").await;
    let (_, list) = api(&state, &tok, "GET", "/api/v1/alerts?limit=1", None).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    b.go(&format!("/alerts/{id}")).await;
    b.settle().await;

    // On screen: one tab at a time, with the tab bar and the triage forms.
    assert_eq!(display(&b, "#tab-action").await, "none");
    assert_ne!(display(&b, ".tabs").await, "none");
    assert_ne!(display(&b, ".top nav").await, "none");

    // Printed: every tab, no tab bar, navigation or forms; MITRE links show their address.
    cdp(&driver.url, &session, "Emulation.setEmulatedMedia", json!({"media": "print"}));
    for tab in ["#tab-overview", "#tab-action", "#tab-map", "#tab-timeline"] {
        assert_ne!(display(&b, tab).await, "none", "{tab} is printed");
    }
    for hidden in [".tabs", ".top nav", "[data-testid=status-form]", "form.comment-form"] {
        assert_eq!(display(&b, hidden).await, "none", "{hidden} is not printed");
    }
    let after = b
        .c
        .execute(
            "return getComputedStyle(document.querySelector('[data-testid=mitre] a'), '::after').content;",
            vec![],
        )
        .await
        .unwrap();
    assert!(after.as_str().unwrap_or_default().contains("attack.mitre.org"), "{after}");
    cdp(&driver.url, &session, "Emulation.setEmulatedMedia", json!({"media": ""}));
    assert_eq!(display(&b, "#tab-action").await, "none");

    // The browser's print of the page is a PDF.
    let pdf = b.c.print(Default::default()).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "{:?}", &pdf[..pdf.len().min(8)]);
    assert!(pdf.len() > 1000);
    let _ = b.c.clone().close().await;
    drop(driver);
}
