//! The grids' remaining mechanics in headless Chromium, checked against the API.
//!
//! Alerts: the default sort (last detection, newest first) and sorting by a
//! column header, paging past the first 50 rows, the search box, a bulk
//! status change on ticked rows and a bulk severity change on "All N
//! matching"; on the details page a comment, Mute and Unmute. Devices: the
//! search box and group-by counts; a device's Connections and Event timeline
//! tabs. A time-range preset. The event timeline's type filter and the map's
//! zone and protocol filters. Settings: an Admin adds a user, an exclusion rule and
//! a maintenance window. From the keyboard: the side pane closes with Esc,
//! the map zooms, pans and fits with + / arrows / 0. On every page: each
//! form control has an accessible
//! name and sortable headers carry `aria-sort`. Screenshots at 1366×768 and
//! 1920×1080 go to `test-artifacts/screenshots/`.

mod support;

use fantoccini::key::Key;
use serde_json::Value;

use otwatch_model::{Detection, Severity, Timestamp};
use otwatch_server::AppState;
use otwatch_store::{IngestOptions, Store};

use support::{B, NOW, api, fixture};

/// Alerts added to the fixture's 48 so that the grid has a second page.
const EXTRA: usize = 20;

/// The alert ids of the grid's rows, top to bottom.
async fn row_ids(b: &B) -> Vec<i64> {
    let mut ids = Vec::new();
    for r in b.all("#alert-rows tr[data-id]").await {
        ids.push(r.attr("data-id").await.unwrap().unwrap().parse().unwrap());
    }
    ids
}

/// The ids of an API alert list.
fn api_ids(v: &Value) -> Vec<i64> {
    v["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

/// Form controls without an accessible name (label, aria-label, aria-labelledby or title).
async fn unlabelled_controls(b: &B) -> Vec<String> {
    let script = r#"
        const bad = [];
        for (const el of document.querySelectorAll("input, select, textarea")) {
            if (el.type === "hidden") continue;
            const named = (el.labels && el.labels.length > 0)
                || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.title;
            if (!named) bad.push(location.pathname + ": " + el.outerHTML.slice(0, 160));
        }
        for (const el of document.querySelectorAll("button, a[href]")) {
            const name = (el.textContent || "").trim() || el.getAttribute("aria-label") || el.title;
            if (!name) bad.push(location.pathname + ": " + el.outerHTML.slice(0, 160));
        }
        return bad;
    "#;
    let v = b.c.execute(script, vec![]).await.unwrap();
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_mechanics_in_chromium() {
    let f = fixture();
    // More alerts than one page holds (50 rows).
    let mut batch = Vec::new();
    for i in 0..EXTRA {
        let mut d = Detection::new(
            "policy_modbus_function_code",
            Timestamp(NOW - 90_000_000_000 - i as i64 * 1_000_000),
        );
        d.source.ip = Some(format!("10.1.0.{}", 100 + i));
        d.destination.ip = Some("10.1.0.13".into());
        d.site = Some("Plant A".into());
        d.severity = Some(Severity::Major);
        d.key.insert("n".into(), format!("extra-{i}"));
        batch.push(d);
    }
    f.store
        .ingest(
            &batch,
            &IngestOptions {
                catalog: otwatch_model::catalog::builtin(),
                now: Timestamp(NOW),
                auto_close_after: i64::MAX,
            },
        )
        .unwrap();
    let (base, state) = support::serve(f.store.clone()).await;
    let driver = support::driver();
    let c = support::browser(&driver).await;
    let b = B { c, base, shots: support::screenshot_dir() };
    let tok = f.tokens["analyst"].clone();
    alerts_grid(&b, &state, &tok).await;
    alert_details(&b, &state, &tok).await;
    other_grids(&b, &f, &state, &tok).await;
    more_views(&b, &f, &state, &tok).await;
    keyboard(&b).await;
    settings(&b, &f, &state).await;
    let _ = b.c.clone().close().await;
    drop(driver);
}

async fn alerts_grid(b: &B, state: &AppState, tok: &str) {
    b.sign_in("analyst").await;
    let mut bad = unlabelled_controls(b).await;

    // Default sort: last detection, newest first, marked on its header.
    let (_, all) = api(state, tok, "GET", "/api/v1/alerts?limit=200&total=true", None).await;
    let total = all["total"].as_u64().unwrap();
    assert_eq!(total, 48 + EXTRA as u64);
    assert_eq!(
        b.css("th.col-last_detection").await.attr("aria-sort").await.unwrap().as_deref(),
        Some("descending")
    );
    assert_eq!(
        b.css("th.col-severity").await.attr("aria-sort").await.unwrap().as_deref(),
        Some("none")
    );

    // Paging: 50 rows, then the rest on the next page, in the API's order.
    let first = row_ids(b).await;
    assert_eq!(first.len(), 50);
    b.css("[data-testid=next]").await.click().await.unwrap();
    b.wait_path("/alerts?").await;
    b.settle().await;
    let second = row_ids(b).await;
    assert_eq!(second.len() as u64, total - 50);
    b.shot("50-alerts-page-2").await;
    let shown: Vec<i64> = first.iter().chain(&second).copied().collect();
    assert_eq!(shown, api_ids(&all));

    // Sort by clicking a header: the order is the API's for the same sort.
    b.go("/alerts").await;
    b.settle().await;
    b.css("th.col-severity a").await.click().await.unwrap();
    b.wait_path("/alerts?sort=").await;
    b.settle().await;
    let url = b.c.current_url().await.unwrap();
    let sort = url.query_pairs().find(|(k, _)| k == "sort").map(|(_, v)| v.into_owned()).unwrap();
    assert!(sort.ends_with("severity"), "{sort}");
    let sort_attr = b.css("th.col-severity").await.attr("aria-sort").await.unwrap();
    assert_eq!(
        sort_attr.as_deref(),
        Some(if sort.starts_with('-') { "descending" } else { "ascending" })
    );
    let (_, sorted) =
        api(state, tok, "GET", &format!("/api/v1/alerts?limit=50&sort={sort}"), None).await;
    assert_eq!(row_ids(b).await, api_ids(&sorted));
    b.css("th.col-severity a").await.click().await.unwrap();
    b.settle().await;
    let reversed =
        if let Some(s) = sort.strip_prefix('-') { s.to_string() } else { format!("-{sort}") };
    b.wait_path(&format!("/alerts?sort={}", reversed.replace(' ', "+"))).await;
    let (_, sorted) =
        api(state, tok, "GET", &format!("/api/v1/alerts?limit=50&sort={reversed}"), None).await;
    assert_eq!(row_ids(b).await, api_ids(&sorted));

    // The search box.
    b.go("/alerts").await;
    b.settle().await;
    b.css("form.filterbar input[name=q]").await.send_keys("b-eng").await.unwrap();
    b.css("form.filterbar button[type=submit]").await.click().await.unwrap();
    b.wait_path("/alerts?q=b-eng").await;
    b.settle().await;
    let (_, found) =
        api(state, tok, "GET", "/api/v1/alerts?q=b-eng&limit=200&total=true", None).await;
    assert!(found["total"].as_u64().unwrap() > 0);
    assert!(found["total"].as_u64().unwrap() < total);
    assert_eq!(b.text("[data-testid=total]").await, found["total"].to_string());
    let mut want = api_ids(&found);
    want.sort_unstable();
    let mut got = row_ids(b).await;
    got.sort_unstable();
    assert_eq!(got, want);

    // Bulk: tick two rows, set their status.
    b.go("/alerts").await;
    b.settle().await;
    let ids = row_ids(b).await;
    let picked = [ids[0], ids[3]];
    for id in picked {
        b.css(&format!("#alert-rows tr[data-id='{id}'] input.js-row")).await.click().await.unwrap();
    }
    b.css("#bulk-status").await.select_by_value("Active").await.unwrap();
    b.shot("51-alerts-bulk").await;
    b.css("#bulk button[name=action][value='']").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, active) = api(state, tok, "GET", "/api/v1/alerts?status=Active&limit=200", None).await;
    let mut got = api_ids(&active);
    got.sort_unstable();
    let mut want = picked.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "only the ticked alerts changed");

    // Bulk on "All N matching" of a filtered view: every match changes, nothing else.
    let (_, minor) = api(state, tok, "GET", "/api/v1/alerts?severity=Minor&limit=200", None).await;
    let minor = api_ids(&minor);
    assert!(!minor.is_empty());
    b.go("/alerts?severity=Minor").await;
    b.settle().await;
    b.css("#allmatch").await.click().await.unwrap();
    b.css("#bulk-severity").await.select_by_value("Warning").await.unwrap();
    b.css("#bulk button[name=action][value='']").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, warn) = api(state, tok, "GET", "/api/v1/alerts?severity=Warning&limit=200", None).await;
    let mut got = api_ids(&warn);
    got.sort_unstable();
    let mut want = minor.clone();
    want.sort_unstable();
    assert_eq!(got, want);
    let (_, left) =
        api(state, tok, "GET", "/api/v1/alerts?severity=Minor&limit=1&total=true", None).await;
    assert_eq!(left["total"], 0);
    bad.extend(unlabelled_controls(b).await);
    assert!(bad.is_empty(), "controls without an accessible name:\n{}", bad.join("\n"));
}

async fn alert_details(b: &B, state: &AppState, tok: &str) {
    let (_, mutable) =
        api(state, tok, "GET", "/api/v1/alerts?mutable=true&status=New&limit=1", None).await;
    let id = mutable["items"][0]["id"].as_i64().expect("a mutable alert in the fixture");
    b.go(&format!("/alerts/{id}?tab=action")).await;
    b.settle().await;
    let bad = unlabelled_controls(b).await;
    assert!(bad.is_empty(), "controls without an accessible name:\n{}", bad.join("\n"));

    // A comment.
    let text = "Checked with the night shift: maintenance laptop.";
    b.css("#comment-text").await.send_keys(text).await.unwrap();
    b.css("form.comment-form button[type=submit]").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, one) = api(state, tok, "GET", &format!("/api/v1/alerts/{id}"), None).await;
    let comments = one["comments"].as_array().unwrap();
    assert_eq!(comments.last().unwrap()["text"], text);
    assert_eq!(comments.last().unwrap()["author"], "analyst");
    assert!(b.text("[data-testid=comments]").await.contains(text));

    // Mute, then Unmute.
    b.go(&format!("/alerts/{id}?tab=action")).await;
    b.css("[data-testid=mute]").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, one) = api(state, tok, "GET", &format!("/api/v1/alerts/{id}"), None).await;
    assert_eq!(one["alert"]["disposition"], "muted");
    assert_eq!(one["alert"]["status"], "Closed");
    assert_eq!(b.text("[data-testid=alert-disposition]").await, "muted");
    b.shot("52-alert-muted").await;
    b.go(&format!("/alerts/{id}?tab=action")).await;
    b.css("[data-testid=unmute]").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, one) = api(state, tok, "GET", &format!("/api/v1/alerts/{id}"), None).await;
    assert_eq!(one["alert"]["disposition"], "none");
}

async fn other_grids(b: &B, f: &support::Fixture, state: &AppState, tok: &str) {
    let mut bad = Vec::new();

    // Devices: search, then group by type with the API's counts.
    b.go("/devices").await;
    b.settle().await;
    bad.extend(unlabelled_controls(b).await);
    b.css("form.filterbar input[name=q]").await.send_keys("plc").await.unwrap();
    b.css("form.filterbar button[type=submit]").await.click().await.unwrap();
    b.wait_path("/devices?").await;
    b.settle().await;
    let (_, plcs) = api(state, tok, "GET", "/api/v1/devices?q=plc", None).await;
    assert_eq!(plcs["total"], 6);
    assert_eq!(b.text("[data-testid=device-total]").await, plcs["total"].to_string());
    assert_eq!(b.all("[data-testid=devices] tbody tr").await.len(), 6);
    b.go("/devices?group_by=type").await;
    b.settle().await;
    let (_, groups) = api(state, tok, "GET", "/api/v1/devices?group_by=type", None).await;
    let mut want: Vec<String> =
        groups["groups"].as_array().unwrap().iter().map(|g| g["count"].to_string()).collect();
    let mut shown = Vec::new();
    for e in b.all("section.groups .group .count").await {
        shown.push(e.text().await.unwrap());
    }
    want.sort();
    shown.sort();
    assert!(!shown.is_empty());
    assert_eq!(shown, want);
    b.shot("53-devices-grouped").await;

    // Event timeline: filter by event type.
    b.go("/events").await;
    b.settle().await;
    bad.extend(unlabelled_controls(b).await);
    b.css("input[name=type]").await.send_keys("PROGRAM_DEVICE").await.unwrap();
    b.css("form.filterbar button[type=submit]").await.click().await.unwrap();
    b.wait_path("/events?").await;
    b.settle().await;
    let (_, ev) = api(state, tok, "GET", "/api/v1/events?type=PROGRAM_DEVICE", None).await;
    let n = ev["items"].as_array().unwrap().len();
    assert_eq!(n, 1);
    let items = b.all("[data-testid=timeline] li").await;
    assert_eq!(items.len(), n);
    assert!(items[0].text().await.unwrap().contains("PLC Programming"));

    // Map: filter by zone; one node per device of the zone.
    b.go("/map").await;
    b.settle().await;
    bad.extend(unlabelled_controls(b).await);
    b.css("select[name=zone]").await.select_by_value("Line 1").await.unwrap();
    b.wait_path("/map?").await;
    b.settle().await;
    let (_, zone) = api(state, tok, "GET", "/api/v1/devices?zone=Line%201", None).await;
    assert_eq!(zone["total"], 8);
    let nodes = b.all("a[data-testid=map-node]").await;
    assert_eq!(nodes.len() as u64, zone["total"].as_u64().unwrap());
    let plc = f.devices["a-plc-1"];
    let b_plc = f.devices["b-plc-1"];
    let mut hrefs = Vec::new();
    for n in &nodes {
        hrefs.push(n.attr("href").await.unwrap().unwrap_or_default());
    }
    assert!(hrefs.iter().any(|h| h.ends_with(&format!("/devices/{plc}"))), "{hrefs:?}");
    assert!(!hrefs.iter().any(|h| h.ends_with(&format!("/devices/{b_plc}"))), "{hrefs:?}");
    b.shot("54-map-zone").await;

    // The other pages' controls.
    for page in ["/hunt", "/sensors"] {
        b.go(page).await;
        b.settle().await;
        bad.extend(unlabelled_controls(b).await);
    }
    assert!(bad.is_empty(), "controls without an accessible name:\n{}", bad.join("\n"));
}

async fn more_views(b: &B, f: &support::Fixture, state: &AppState, tok: &str) {
    // A time-range preset: the last 24 hours (the 20 extra alerts are 25 hours old).
    b.go("/alerts").await;
    b.settle().await;
    b.css("[data-testid=time-range]").await.select_by_value("24h").await.unwrap();
    b.wait_path("/alerts?from=24h").await;
    b.settle().await;
    let (_, day) = api(state, tok, "GET", "/api/v1/alerts?from=24h&limit=1&total=true", None).await;
    let (_, all) = api(state, tok, "GET", "/api/v1/alerts?limit=1&total=true", None).await;
    let n = day["total"].as_u64().unwrap();
    assert!(n > 0 && n < all["total"].as_u64().unwrap(), "{n}");
    assert_eq!(b.text("[data-testid=total]").await, n.to_string());

    // A device's Connections and Event timeline tabs show what the API has for it.
    let plc = f.devices["a-plc-1"];
    let (_, dv) = api(state, tok, "GET", &format!("/api/v1/devices/{plc}"), None).await;
    let conns = dv["connections"].as_array().unwrap().len();
    let events = dv["events"].as_array().unwrap().len();
    assert!(conns > 0 && events > 0, "{dv}");
    b.go(&format!("/devices/{plc}?tab=connections")).await;
    b.settle().await;
    assert_eq!(b.all("#tab-connections tbody tr:not(.none)").await.len(), conns);
    b.shot("57-device-connections").await;
    b.css("[data-testid=tab-events]").await.click().await.unwrap();
    assert_eq!(b.all("#tab-events [data-testid=timeline] li:not(.muted)").await.len(), events);

    // The map's protocol filter: the devices that speak it.
    b.go("/map").await;
    b.settle().await;
    b.css("select[name=protocol]").await.select_by_value("SNMP").await.unwrap();
    b.wait_path("/map?").await;
    b.settle().await;
    let (_, snmp) = api(state, tok, "GET", "/api/v1/devices?protocol=SNMP", None).await;
    let want: Vec<String> =
        snmp["items"].as_array().unwrap().iter().map(|d| format!("/devices/{}", d["id"])).collect();
    assert_eq!(want.len(), 2, "{snmp}");
    let mut shown = Vec::new();
    for n in b.all("a[data-testid=map-node]").await {
        shown.push(n.attr("href").await.unwrap().unwrap_or_default());
    }
    assert_eq!(shown.len(), want.len(), "{shown:?}");
    for h in &shown {
        assert!(want.iter().any(|w| h.ends_with(w.as_str())), "{h} not in {want:?}");
    }
}

/// The map's viewBox as numbers: x, y, width, height.
async fn view_box(b: &B) -> Vec<f64> {
    let v = b.css("svg.map").await.attr("viewBox").await.unwrap().unwrap();
    v.split_whitespace().map(|n| n.parse().unwrap()).collect()
}

async fn keyboard(b: &B) {
    // The side pane opens from the grid and Esc closes it.
    b.go("/alerts").await;
    b.settle().await;
    b.css("#alert-rows a.js-pane").await.click().await.unwrap();
    b.css("[data-testid=pane]").await;
    assert!(b.css("#pane").await.is_displayed().await.unwrap());
    b.css("body").await.send_keys(&Key::Escape.to_string()).await.unwrap();
    let mut closed = false;
    for _ in 0..50 {
        if !b.css("#pane").await.is_displayed().await.unwrap() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "Esc closes the side pane");

    // The map from the keyboard: + zooms in, an arrow pans, 0 fits again.
    b.go("/map").await;
    b.settle().await;
    let wrap = b.css(".map-wrap").await;
    let start = view_box(b).await;
    wrap.send_keys("+").await.unwrap();
    let zoomed = view_box(b).await;
    assert!(zoomed[2] < start[2] && zoomed[3] < start[3], "{start:?} -> {zoomed:?}");
    wrap.send_keys(&Key::Right.to_string()).await.unwrap();
    let panned = view_box(b).await;
    assert!(panned[0] > zoomed[0] && panned[2] == zoomed[2], "{zoomed:?} -> {panned:?}");
    wrap.send_keys("0").await.unwrap();
    assert_eq!(view_box(b).await, start);
}

async fn settings(b: &B, f: &support::Fixture, state: &AppState) {
    let tok = f.tokens["admin"].clone();
    b.sign_out().await;
    b.sign_in("admin").await;
    b.go("/settings").await;
    b.settle().await;
    let mut bad = unlabelled_controls(b).await;

    // Add a user: the API lists it with its role.
    let form = "form[action='/settings/users']";
    b.css(&format!("{form} input[name=name]")).await.send_keys("night-shift").await.unwrap();
    b.css(&format!("{form} select[name=role]")).await.select_by_value("Viewer").await.unwrap();
    b.css(&format!("{form} input[name=password]"))
        .await
        .send_keys("a long enough password")
        .await
        .unwrap();
    b.css(&format!("{form} button[type=submit]")).await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, users) = api(state, &tok, "GET", "/api/v1/users", None).await;
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "night-shift")
        .unwrap_or_else(|| panic!("no new user in {users}"));
    assert_eq!(user["role"], "viewer", "{user}");

    // An exclusion rule and a maintenance window (times typed in UTC).
    let form = "form[action='/settings/exclusions']";
    b.go("/settings?tab=rules").await;
    b.settle().await;
    bad.extend(unlabelled_controls(b).await);
    b.css(&format!("{form} input[name=name]"))
        .await
        .send_keys("Scanner of the OT team")
        .await
        .unwrap();
    b.css(&format!("{form} input[name=alert_types]"))
        .await
        .send_keys("anomaly_port_scan")
        .await
        .unwrap();
    b.css(&format!("{form} input[name=addresses]")).await.send_keys("10.2.0.12").await.unwrap();
    b.css(&format!("{form} button[type=submit]")).await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    b.go("/settings?tab=rules").await;
    b.settle().await;
    b.css(&format!("{form} input[name=name]"))
        .await
        .send_keys("Firmware upgrade line 1")
        .await
        .unwrap();
    b.css(&format!("{form} select[name=kind]")).await.select_by_value("maintenance").await.unwrap();
    b.css(&format!("{form} input[name=ticket_id]")).await.send_keys("CHG-1234").await.unwrap();
    b.c.execute(
        "document.querySelector(\"form[action='/settings/exclusions'] input[name=window_start]\").value = '2024-03-03T01:00';\
         document.querySelector(\"form[action='/settings/exclusions'] input[name=window_end]\").value = '2024-03-03T05:00';",
        vec![],
    )
    .await
    .unwrap();
    b.css(&format!("{form} button[type=submit]")).await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    b.shot("55-settings-rules-added").await;
    let (_, rules) = api(state, &tok, "GET", "/api/v1/exclusions", None).await;
    let text = |needle: &str| {
        rules["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r.to_string().contains(needle))
            .map(|r| r.to_string())
            .unwrap_or_else(|| panic!("no rule {needle} in {rules}"))
    };
    let rule = text("Scanner of the OT team");
    assert!(rule.contains("anomaly_port_scan") && rule.contains("10.2.0.12"), "{rule}");
    let window = text("Firmware upgrade line 1");
    assert!(window.contains("CHG-1234") && window.contains("aintenance"), "{window}");
    assert!(window.contains("2024-03-03T01:00:00") || window.contains("1709427600"), "{window}");
    assert!(bad.is_empty(), "controls without an accessible name:\n{}", bad.join("\n"));
}
