//! Times in a browser that is not in UTC: headless Chromium in Europe/Berlin (UTC+1 in March).
//!
//! Times are stored and sent in UTC; the console shows them in the browser's
//! time zone and names the zone, and a custom range typed in local time
//! travels as UTC. The other browser tests run Chromium in UTC, where the
//! conversion is the identity; here every shown time must be an hour later
//! than its stored value. Chromium missing is a loud failure:
//! `apt-get install chromium chromium-driver`.

mod support;

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use otwatch_model::Timestamp;

use support::{B, api, fixture};

/// Kills chromedriver when the test ends, however it ends.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver (and so the Chromium it starts) in the Europe/Berlin time zone.
fn berlin_driver() -> (Kill, String) {
    let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
        .expect("chromedriver is missing: apt-get install chromium chromium-driver");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .env("TZ", "Europe/Berlin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let kill = Kill(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (kill, format!("http://127.0.0.1:{port}"))
}

/// A stored UTC time as the console should show it in Berlin in March (UTC+1), to the second.
fn berlin(datetime: &str) -> String {
    let t = Timestamp::parse(datetime).unwrap_or_else(|e| panic!("{datetime}: {e}"));
    let local = Timestamp(t.0 + 3_600_000_000).to_rfc3339();
    local[..19].replace('T', " ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_follow_the_browsers_time_zone() {
    let f = fixture();
    let (base, state) = support::serve(f.store.clone()).await;
    let (_driver, url) = berlin_driver();
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": support::chromium(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--window-size=1366,768", "--lang=en-US",
                format!("--user-data-dir={}", profile.path().display())],
        }),
    );
    let c =
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session with headless Chromium");
    let b = B { c, base, shots: support::screenshot_dir() };
    let tok = f.tokens["analyst"].clone();

    // The zone is named, and every time on the grid is shown an hour after its stored UTC value.
    b.sign_in("analyst").await;
    assert_eq!(b.text("#tz").await, "Times in Europe/Berlin");
    let times = b.all("#alert-rows time[datetime]").await;
    assert!(!times.is_empty());
    for t in &times {
        let stored = t.attr("datetime").await.unwrap().unwrap();
        // textContent: times in hidden tabs count too.
        let shown = t.prop("textContent").await.unwrap().unwrap_or_default();
        assert!(shown.starts_with(&berlin(&stored)), "{stored} shown as {shown}");
        let title = t.attr("title").await.unwrap().unwrap_or_default();
        assert!(title.contains("UTC"), "the stored UTC value on hover: {title}");
    }
    b.shot("56-alerts-berlin").await;

    // A custom range typed in local time travels as UTC (midnight in Berlin is 23:00 UTC).
    b.css("[data-testid=time-range]").await.select_by_value("custom").await.unwrap();
    b.c.execute(
        "document.querySelector('[data-testid=from-at]').value = '2024-03-02T00:00'; document.querySelector('[data-testid=to-at]').value = '2024-03-02T12:00';",
        vec![],
    )
    .await
    .unwrap();
    b.css("form.filterbar button[type=submit]").await.click().await.unwrap();
    b.wait_path("/alerts?").await;
    b.settle().await;
    let u = b.c.current_url().await.unwrap();
    let get = |k: &str| {
        u.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.to_string()).unwrap_or_default()
    };
    let (from, to) = (get("from"), get("to"));
    assert_eq!(Timestamp::parse(&from).unwrap(), Timestamp::parse("2024-03-01T23:00:00Z").unwrap());
    assert_eq!(Timestamp::parse(&to).unwrap(), Timestamp::parse("2024-03-02T11:00:00Z").unwrap());
    let uri = format!(
        "/api/v1/alerts?total=true&limit=1&{}",
        support::qs(&[("from", from.as_str()), ("to", to.as_str())])
    );
    let (_, want) = api(&state, &tok, "GET", &uri, None).await;
    assert!(want["total"].as_u64().unwrap() > 0);
    assert_eq!(b.text("[data-testid=total]").await.replace(',', ""), want["total"].to_string());
    // The fields show the local time again.
    assert_eq!(
        b.css("[data-testid=from-at]").await.prop("value").await.unwrap().as_deref(),
        Some("2024-03-02T00:00")
    );

    // An alert's page: first and last detection in local time too.
    let id = want["items"][0]["id"].as_i64().unwrap();
    b.go(&format!("/alerts/{id}")).await;
    b.settle().await;
    let mut checked = 0;
    for t in b.all("time[datetime]").await {
        let stored = t.attr("datetime").await.unwrap().unwrap_or_default();
        if stored.is_empty() {
            continue;
        }
        // textContent: times in hidden tabs count too.
        let shown = t.prop("textContent").await.unwrap().unwrap_or_default();
        assert!(shown.starts_with(&berlin(&stored)), "{stored} shown as {shown}");
        checked += 1;
    }
    assert!(checked >= 2, "first and last detection at least");

    // A maintenance window typed in local time is stored in UTC and listed in local time.
    b.sign_out().await;
    b.sign_in("admin").await;
    let form = "form[action='/settings/exclusions']";
    b.go("/settings?tab=rules").await;
    b.settle().await;
    assert_eq!(b.text(&format!("{form} .js-zone")).await, "Europe/Berlin");
    b.css(&format!("{form} input[name=name]")).await.send_keys("Night work").await.unwrap();
    b.css(&format!("{form} select[name=kind]")).await.select_by_value("maintenance").await.unwrap();
    b.css(&format!("{form} input[name=ticket_id]")).await.send_keys("CHG-77").await.unwrap();
    b.c.execute(
        "document.querySelector(\"form[action='/settings/exclusions'] input[name=window_start]\").value = '2024-03-03T02:00';\
         document.querySelector(\"form[action='/settings/exclusions'] input[name=window_end]\").value = '2024-03-03T06:30';",
        vec![],
    )
    .await
    .unwrap();
    b.css(&format!("{form} button[type=submit]")).await.click().await.unwrap();
    let flash = b.text("[data-testid=flash]").await;
    let admin = f.tokens["admin"].clone();
    let (_, rules) = api(&state, &admin, "GET", "/api/v1/exclusions", None).await;
    let rule = rules["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Night work")
        .unwrap_or_else(|| panic!("no rule in {rules}; the page said {flash:?}"))
        .clone();
    let at = |k: &str| Timestamp::parse(rule[k].as_str().unwrap_or_default()).unwrap();
    assert_eq!(at("window_start"), Timestamp::parse("2024-03-03T01:00:00Z").unwrap(), "{rule}");
    assert_eq!(at("window_end"), Timestamp::parse("2024-03-03T05:30:00Z").unwrap(), "{rule}");
    b.go("/settings?tab=rules").await;
    b.settle().await;
    let row =
        b.all("[data-testid=rules] tbody tr").await.into_iter().next().expect("the rule is listed");
    let mut shown = Vec::new();
    for t in row.find_all(fantoccini::Locator::Css("time[datetime]")).await.unwrap() {
        shown.push(t.prop("textContent").await.unwrap().unwrap_or_default());
    }
    assert_eq!(shown.len(), 2, "start and end as times: {shown:?}");
    assert!(shown[0].starts_with("2024-03-03 02:00:00"), "{shown:?}");
    assert!(shown[1].starts_with("2024-03-03 06:30:00"), "{shown:?}");
    b.shot("58-maintenance-window-berlin").await;
    let _ = b.c.clone().close().await;
}
