//! The Hunting page and the console's later additions in headless Chromium: run a query and
//! check the grid against `POST /api/v1/hunt`, a `render timechart` chart, a caret error,
//! saved queries (save, reload, load, delete), CSV export, truncation, a Viewer hunting;
//! grid columns kept per user across sign-out and sign-in; detection engines switched by an
//! Admin (refused for an Analyst); a device edited by an Analyst (refused for a Viewer);
//! custom time ranges on Alerts and Events. Screenshots at 1366×768 and 1920×1080 go to
//! `test-artifacts/screenshots/`. Also the refusals without a browser.

mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fantoccini::key::Key;
use serde_json::{Value, json};

use otwatch_model::Timestamp;
use otwatch_server::{AppState, Settings};
use otwatch_store::{AuditQuery, Store};

use support::{B, NOW, api, csv_rows, fixture, post_form, sign_in};

/// The result row limit of the test console (small, so truncation shows).
const ROW_LIMIT: usize = 30;

/// An API value as the grid writes it.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Runs `action`, then waits until a new document has loaded.
async fn reloads(b: &B, action: impl std::future::Future<Output = ()>) {
    b.c.execute("document.documentElement.dataset.old = '1'", vec![]).await.unwrap();
    action.await;
    let t = Instant::now();
    loop {
        let v = b
            .c
            .execute(
                "return document.readyState === 'complete' && !document.documentElement.dataset.old",
                vec![],
            )
            .await
            .unwrap_or(Value::Bool(false));
        if v == Value::Bool(true) {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "the page did not load again");
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
}

/// Puts a query in the editor and runs it with Ctrl+Enter.
async fn run_query(b: &B, q: &str) {
    b.c.execute("document.getElementById('q').value = arguments[0]", vec![json!(q)]).await.unwrap();
    let ta = b.css("#q").await;
    reloads(b, async {
        ta.send_keys(&(Key::Control + &Key::Enter)).await.unwrap();
    })
    .await;
}

/// The grid's header names and cell texts (datetimes as sent, before the local-time rewrite).
async fn grid(b: &B) -> (Vec<String>, Vec<Vec<String>>) {
    let v = b
        .c
        .execute(
            r#"const g = document.querySelector("[data-testid=hunt-grid]");
               const heads = Array.from(g.querySelectorAll("thead th")).map(th => th.firstChild.textContent.trim());
               const rows = Array.from(g.querySelectorAll("tbody tr:not(.none)")).map(tr => Array.from(tr.cells).map(td => {
                   const t = td.querySelector("time"); return t ? t.dataset.raw : td.textContent; }));
               return [heads, rows];"#,
            vec![],
        )
        .await
        .unwrap();
    let heads = v[0].as_array().unwrap().iter().map(text_of).collect();
    let rows = v[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(text_of).collect())
        .collect();
    (heads, rows)
}

/// The signed-in user's saved queries, from `GET /api/v1/hunt/queries` with the page's session.
async fn my_saved(b: &B) -> Value {
    let (st, text) = b.fetch("/api/v1/hunt/queries", false).await;
    assert_eq!(st, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Runs a query through the API with a user's token.
async fn api_hunt(state: &AppState, tok: &str, q: &str) -> Value {
    let (st, v) = api(state, tok, "POST", "/api/v1/hunt", Some(json!({"query": q}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// Asserts the page's grid is the API's result.
async fn grid_is_api(b: &B, state: &AppState, tok: &str, q: &str) -> Value {
    let want = api_hunt(state, tok, q).await;
    let (heads, rows) = grid(b).await;
    let want_heads: Vec<String> = want["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(heads, want_heads);
    let want_rows: Vec<Vec<String>> = want["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(text_of).collect())
        .collect();
    assert!(!want_rows.is_empty(), "{q} gives rows");
    assert_eq!(rows, want_rows, "{q}");
    assert_eq!(
        b.text("[data-testid=row-count]").await.replace(',', ""),
        want["row_count"].to_string()
    );
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hunting_and_console_additions_in_chromium() {
    let f = fixture();
    let settings = Settings { hunt_row_limit: ROW_LIMIT, ..Settings::default() };
    let (base, state) = support::serve_with(f.store.clone(), settings).await;
    let driver = support::driver();
    let c = support::browser(&driver).await;
    let b = B { c, base, shots: support::screenshot_dir() };
    hunting(&b, &f, &state).await;
    columns_follow_the_user(&b, &f).await;
    engines(&b, &f).await;
    device_edit(&b, &f, &state).await;
    custom_ranges(&b, &f, &state).await;
    let _ = b.c.clone().close().await;
    drop(driver);
}

async fn hunting(b: &B, f: &support::Fixture, state: &AppState) {
    // A Viewer hunts.
    let tok = f.tokens["viewer"].clone();
    b.sign_in("viewer").await;
    b.css("nav a[href='/hunt']").await.click().await.unwrap();
    b.wait_path("/hunt").await;
    b.settle().await;
    assert!(b.all("[data-testid=results]").await.is_empty(), "nothing runs by itself");
    b.shot("30-hunt-start").await;

    // Type a query and run it with Ctrl+Enter: the grid is the API's result.
    let q = "Alerts\n| summarize Alerts = count(), Last = max(Timestamp) by Severity, Site\n| order by Severity asc, Site asc";
    let ta = b.css("#q").await;
    ta.clear().await.unwrap();
    ta.send_keys(q).await.unwrap();
    let typed = b.c.execute("return document.getElementById('q').value", vec![]).await.unwrap();
    assert_eq!(typed, q);
    reloads(b, async {
        ta.send_keys(&(Key::Control + &Key::Enter)).await.unwrap();
    })
    .await;
    let want = grid_is_api(b, state, &tok, q).await;
    assert_eq!(want["truncated"], false);
    assert!(b.text("[data-testid=elapsed]").await.ends_with("ms"));
    assert!(b.all("[data-testid=truncated]").await.is_empty());
    assert!(b.all("[data-testid=chart-box]").await.is_empty(), "no render, no chart");
    assert!(b.path().await.starts_with("/hunt?q="), "the address becomes a link to the query");
    assert_eq!(b.c.execute("return document.getElementById('q').value", vec![]).await.unwrap(), q);
    b.shot("31-hunt-results").await;

    // A link to the query runs it again.
    b.go(&b.path().await).await;
    b.settle().await;
    grid_is_api(b, state, &tok, q).await;

    // render timechart draws lines, one per severity, from the same result.
    let q =
        "Alerts\n| summarize Alerts = count() by bin(Timestamp, 1h), Severity\n| render timechart";
    run_query(b, q).await;
    let want = grid_is_api(b, state, &tok, q).await;
    assert_eq!(want["render"], "timechart");
    let chart = b.css("svg[data-testid=chart]").await;
    assert_eq!(chart.attr("data-kind").await.unwrap().as_deref(), Some("line"));
    let mut severities: Vec<String> =
        want["rows"].as_array().unwrap().iter().map(|r| text_of(&r[1])).collect();
    severities.sort();
    severities.dedup();
    assert_eq!(b.all("svg[data-testid=chart] polyline.series").await.len(), severities.len());
    let mut legend = Vec::new();
    for li in b.all("[data-testid=legend] li").await {
        legend.push(li.text().await.unwrap());
    }
    legend.sort();
    assert_eq!(legend, severities);
    b.shot("32-hunt-timechart").await;

    // The examples: a pie, columns and bars.
    for (title, kind, shot) in [
        ("Open alerts by severity", "pie", "33-hunt-piechart"),
        ("Traffic by protocol", "column", "34-hunt-columnchart"),
        ("Devices by vendor", "bar", "35-hunt-barchart"),
    ] {
        let link =
            b.c.find(fantoccini::Locator::LinkText(title))
                .await
                .unwrap_or_else(|e| panic!("example {title}: {e}"));
        reloads(b, async {
            link.click().await.unwrap();
        })
        .await;
        let kind_shown = b.css("[data-testid=chart]").await.attr("data-kind").await.unwrap();
        assert_eq!(kind_shown.as_deref(), Some(kind), "{title}");
        b.shot(shot).await;
    }

    // A bad query: the code, the position, the caret under the query line, and the hint.
    let bad = "Alerts\n| where Severityy == \"High\"";
    run_query(b, bad).await;
    let (st, e) = api(state, &tok, "POST", "/api/v1/hunt", Some(json!({"query": bad}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let e = &e["error"];
    assert_eq!(b.text("[data-testid=error-code]").await, e["code"].as_str().unwrap());
    assert_eq!(b.text("[data-testid=error-code]").await, "KQL0021");
    assert_eq!(b.text("[data-testid=error-line]").await, e["line"].to_string());
    assert_eq!(b.text("[data-testid=error-column]").await, e["column"].to_string());
    assert_eq!((e["line"].as_u64(), e["column"].as_u64()), (Some(2), Some(9)));
    let caret = b.text("[data-testid=error-caret]").await;
    assert!(caret.contains("2 | | where Severityy == \"High\""), "{caret}");
    let caret_line = caret.lines().last().unwrap();
    assert_eq!(caret_line.find('^'), caret.lines().nth(1).unwrap().find("Severityy"), "{caret}");
    assert_eq!(caret_line.matches('^').count(), "Severityy".len());
    assert!(b.text("[data-testid=error-hint]").await.contains("Severity"));
    assert!(b.all("[data-testid=results]").await.is_empty());
    // The editor keeps the text and selects the faulty word.
    let sel = b
        .c
        .execute(
            "const q = document.getElementById('q'); return [document.activeElement === q, q.value.substring(q.selectionStart, q.selectionEnd)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(sel, json!([true, "Severityy"]));
    b.shot("36-hunt-error").await;

    // Truncation: more rows than hunt.row_limit.
    let q = "Alerts | project AlertId, Title, Severity, Site | order by AlertId asc";
    run_query(b, q).await;
    let want = grid_is_api(b, state, &tok, q).await;
    assert_eq!(want["truncated"], true);
    assert_eq!(want["row_count"], ROW_LIMIT);
    assert!(b.text("[data-testid=truncated]").await.contains(&ROW_LIMIT.to_string()));

    // Export CSV: the file is the API's CSV of the editor's query.
    let q =
        "Alerts | summarize Alerts = count() by Severity, Site | order by Site asc, Severity asc";
    run_query(b, q).await;
    let export = r##"
        const [q, done] = arguments;
        const csrf = document.querySelector("#hunt-form input[name=csrf]").value;
        fetch("/hunt/export", {method: "POST", body: new URLSearchParams({csrf: csrf, q: q}), credentials: "same-origin"})
            .then(async r => done([r.status, r.headers.get("content-type"), r.headers.get("content-disposition"), await r.text()]))
            .catch(e => done([0, "", "", String(e)]));
    "##;
    let v = b.c.execute_async(export, vec![json!(q)]).await.unwrap();
    assert_eq!(v[0], 200);
    assert!(v[1].as_str().unwrap().starts_with("text/csv"));
    assert!(v[2].as_str().unwrap().contains("otwatch-hunt.csv"));
    let (st, api_csv) =
        api(state, &tok, "POST", "/api/v1/hunt", Some(json!({"query": q, "format": "csv"}))).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v[3].as_str().unwrap(), api_csv.as_str().unwrap());
    let rows = csv_rows(v[3].as_str().unwrap());
    assert_eq!(rows[0], ["Severity", "Site", "Alerts"]);
    let want = api_hunt(state, &tok, q).await;
    assert_eq!(rows.len() - 1, want["rows"].as_array().unwrap().len());
    // The button posts the editor's text to the same place.
    let action = b.css("[data-testid=export-csv]").await.attr("formaction").await.unwrap();
    assert_eq!(action.as_deref(), Some("/hunt/export"));

    // Save the query under a name: it is listed, after a reload too, and only for this user.
    b.css("[data-testid=save-name]").await.send_keys("Alerts per site").await.unwrap();
    let save = b.css("[data-testid=save]").await;
    reloads(b, async {
        save.click().await.unwrap();
    })
    .await;
    assert!(b.text("[data-testid=flash]").await.contains("saved"));
    assert!(b.path().await.starts_with("/hunt?saved="));
    let mine = my_saved(b).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Alerts per site");
    assert_eq!(items[0]["query"], q);
    assert!(f.store.saved_queries("analyst").unwrap().is_empty(), "saved queries are per user");
    b.go("/hunt").await;
    b.settle().await;
    let saved = b.all("[data-testid=saved-query]").await;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].text().await.unwrap(), "Alerts per site");
    // Load it: the editor holds it, it has run, and its name is ready for saving again.
    reloads(b, async {
        saved[0].click().await.unwrap();
    })
    .await;
    assert_eq!(b.c.execute("return document.getElementById('q').value", vec![]).await.unwrap(), q);
    grid_is_api(b, state, &tok, q).await;
    assert_eq!(
        b.css("[data-testid=save-name]").await.prop("value").await.unwrap().as_deref(),
        Some("Alerts per site")
    );
    b.shot("37-hunt-saved").await;
    // A bad query is not saved.
    b.c.execute("document.getElementById('q').value = 'Alerts | whre x'", vec![]).await.unwrap();
    let save = b.css("[data-testid=save]").await;
    reloads(b, async {
        save.click().await.unwrap();
    })
    .await;
    b.css("[data-testid=hunt-error]").await;
    assert_eq!(my_saved(b).await["items"][0]["query"], q);
    // Delete it.
    b.go("/hunt").await;
    b.c.execute("window.confirm = function () { return true; }", vec![]).await.unwrap();
    let del = b.css("[data-testid=delete-saved]").await;
    reloads(b, async {
        del.click().await.unwrap();
    })
    .await;
    assert!(b.text("[data-testid=flash]").await.contains("deleted"));
    assert!(b.all("[data-testid=saved-query]").await.is_empty());
    assert!(my_saved(b).await["items"].as_array().unwrap().is_empty());
    b.sign_out().await;
}

async fn columns_follow_the_user(b: &B, f: &support::Fixture) {
    b.sign_in("analyst").await;
    assert!(b.all("th.col-id").await.is_empty());
    b.css("details.columns summary").await.click().await.unwrap();
    b.css("details.columns input[name=col][value=id]").await.click().await.unwrap();
    b.css("details.columns input[name=col][value=zone]").await.click().await.unwrap();
    let save = b.css("details.columns button.primary").await;
    reloads(b, async {
        save.click().await.unwrap();
    })
    .await;
    assert!(b.text("[data-testid=flash]").await.contains("Columns saved"));
    let pref = f.store.user_pref("analyst", "alerts.columns").unwrap().unwrap();
    assert!(pref.split(',').any(|c| c == "id") && pref.split(',').any(|c| c == "zone"), "{pref}");
    b.sign_out().await;
    // A fresh sign-in (no URL columns, no cookie of the old kind) shows the saved columns.
    b.c.delete_all_cookies().await.unwrap();
    b.sign_in("analyst").await;
    assert_eq!(b.path().await, "/alerts");
    b.css("th.col-id").await;
    b.css("th.col-zone").await;
    // Another user keeps the defaults.
    assert!(f.store.user_pref("viewer", "alerts.columns").unwrap().is_none());
    // The URL's columns still win for one view.
    b.go("/alerts?cols=name,severity").await;
    assert!(b.all("th.col-id").await.is_empty());
    b.css("th.col-name").await;
    // "Default columns" forgets the choice.
    b.go("/alerts").await;
    b.css("details.columns summary").await.click().await.unwrap();
    let reset = b.css("details.columns button[name=reset]").await;
    reloads(b, async {
        reset.click().await.unwrap();
    })
    .await;
    assert!(f.store.user_pref("analyst", "alerts.columns").unwrap().is_none());
    b.go("/alerts").await;
    assert!(b.all("th.col-id").await.is_empty());
    b.sign_out().await;
}

async fn engines(b: &B, f: &support::Fixture) {
    // An Analyst sees no Settings and is refused the switch even when forced.
    b.sign_in("analyst").await;
    assert!(b.all("nav a[href='/settings']").await.is_empty());
    let forced = r#"
        const [done] = arguments;
        const csrf = document.querySelector("form[action='/logout'] input[name=csrf]").value;
        fetch("/settings/engines/anomaly", {method: "POST", body: new URLSearchParams({csrf: csrf, state: "off"}), credentials: "same-origin"})
            .then(r => done(r.status));
    "#;
    assert_eq!(b.c.execute_async(forced, vec![]).await.unwrap(), json!(403));
    assert!(!f.store.settings().unwrap().contains_key("detect.engines.anomaly"));
    b.sign_out().await;

    // An Admin switches the anomaly engine off, then back to the configuration file.
    b.sign_in("admin").await;
    b.go("/settings?tab=engines").await;
    let rows = b.all("[data-testid=engines] tbody tr").await;
    assert_eq!(rows.len(), 5, "the five sensor engines");
    assert_eq!(b.text("tr[data-engine=anomaly] [data-testid=engine-state]").await, "On");
    b.c.execute("window.confirm = function () { return true; }", vec![]).await.unwrap();
    let off = b.css("tr[data-engine=anomaly] [data-testid=engine-off]").await;
    reloads(b, async {
        off.click().await.unwrap();
    })
    .await;
    let flash = b.text("[data-testid=flash]").await;
    assert!(
        flash.contains("Anomaly engine switched off") && flash.contains("next start or refresh"),
        "{flash}"
    );
    assert_eq!(b.text("tr[data-engine=anomaly] [data-testid=engine-state]").await, "Off");
    assert_eq!(b.text("tr[data-engine=malware] [data-testid=engine-state]").await, "On");
    assert_eq!(
        f.store.settings().unwrap().get("detect.engines.anomaly").map(String::as_str),
        Some("false")
    );
    let audit = f
        .store
        .list_audit(&AuditQuery { actor: Some("admin".into()), limit: 10, ..Default::default() })
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "setting_change" && a.object_id == "detect.engines.anomaly"),
        "{audit:?}"
    );
    b.shot("38-settings-engines").await;
    let back = b.css("tr[data-engine=anomaly] [data-testid=engine-default]").await;
    reloads(b, async {
        back.click().await.unwrap();
    })
    .await;
    assert_eq!(b.text("tr[data-engine=anomaly] [data-testid=engine-state]").await, "On");
    assert_eq!(
        f.store.settings().unwrap().get("detect.engines.anomaly").map(String::as_str),
        Some("")
    );
    b.sign_out().await;
}

async fn device_edit(b: &B, f: &support::Fixture, state: &AppState) {
    let id = f.devices["a-hmi"];
    // A Viewer has no form and is refused when forced.
    b.sign_in("viewer").await;
    b.go(&format!("/devices/{id}")).await;
    b.css("[data-testid=device-name]").await;
    assert!(b.all("[data-testid=device-edit]").await.is_empty());
    let forced = r#"
        const [id, done] = arguments;
        const csrf = document.querySelector("form[action='/logout'] input[name=csrf]").value;
        fetch("/devices/" + id + "/edit", {method: "POST", body: new URLSearchParams({csrf: csrf, name: "owned", flags: "1"}), credentials: "same-origin"})
            .then(r => done(r.status));
    "#;
    assert_eq!(b.c.execute_async(forced, vec![json!(id)]).await.unwrap(), json!(403));
    assert_eq!(f.store.device(id).unwrap().name.as_deref(), Some("a-hmi"));
    b.sign_out().await;

    // An Analyst renames it, changes type and importance, and marks it a scanner.
    b.sign_in("analyst").await;
    b.go(&format!("/devices/{id}")).await;
    let name = b.css("[data-testid=edit-name]").await;
    name.clear().await.unwrap();
    name.send_keys("HMI line 1").await.unwrap();
    b.css("[data-testid=edit-type]").await.select_by_value("Engineering Station").await.unwrap();
    b.css("[data-testid=edit-importance]").await.select_by_value("High").await.unwrap();
    b.css("[data-testid=edit-scanner]").await.click().await.unwrap();
    b.css("[data-testid=edit-authorized]").await.click().await.unwrap();
    b.shot("39-device-edit").await;
    let save = b.css("[data-testid=edit-save]").await;
    reloads(b, async {
        save.click().await.unwrap();
    })
    .await;
    assert_eq!(b.text("[data-testid=flash]").await, "Device updated.");
    assert_eq!(b.text("[data-testid=device-name]").await, "HMI line 1");
    let (_, d) =
        api(state, &f.tokens["viewer"], "GET", &format!("/api/v1/devices/{id}"), None).await;
    let d = &d["device"];
    assert_eq!(d["name"], "HMI line 1");
    assert_eq!(d["device_type"], "Engineering Station");
    assert_eq!(d["importance"], "High");
    assert_eq!(d["scanner"], true);
    assert_eq!(d["authorized"], !f.store.device(f.devices["b-hmi"]).unwrap().authorized);
    assert_eq!(d["programming_device"], false);
    let audit = f
        .store
        .list_audit(&AuditQuery {
            object_type: Some("device".into()),
            object_id: Some(id.to_string()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].actor.name, "analyst");
    assert!(audit[0].summary.contains("HMI line 1"), "{}", audit[0].summary);
    // Saving again unchanged writes nothing.
    let save = b.css("[data-testid=edit-save]").await;
    reloads(b, async {
        save.click().await.unwrap();
    })
    .await;
    assert_eq!(b.text("[data-testid=flash]").await, "Nothing to change.");
    let again = f
        .store
        .list_audit(&AuditQuery {
            object_type: Some("device".into()),
            object_id: Some(id.to_string()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(again.len(), 1);
}

/// Reads `from` and `to` from the current address.
async fn range_of(b: &B) -> (String, String) {
    let u = b.c.current_url().await.unwrap();
    let get = |k: &str| {
        u.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.to_string()).unwrap_or_default()
    };
    (get("from"), get("to"))
}

async fn choose_custom(b: &B, from: &str, to: &str) {
    b.css("[data-testid=time-range]").await.select_by_value("custom").await.unwrap();
    assert!(b.css("[data-testid=from-at]").await.is_displayed().await.unwrap());
    b.c.execute(
        "document.querySelector('[data-testid=from-at]').value = arguments[0]; document.querySelector('[data-testid=to-at]').value = arguments[1];",
        vec![json!(from), json!(to)],
    )
    .await
    .unwrap();
    let apply = b.css("form.filterbar button[type=submit]").await;
    reloads(b, async {
        apply.click().await.unwrap();
    })
    .await;
}

async fn custom_ranges(b: &B, f: &support::Fixture, state: &AppState) {
    let tok = f.tokens["analyst"].clone();
    // Alerts: the browser's local from/to travel as UTC; the total is the API's for that range.
    b.go("/alerts").await;
    b.settle().await;
    assert!(!b.css("[data-testid=from-at]").await.is_displayed().await.unwrap());
    choose_custom(b, "2024-03-02T00:00", "2024-03-02T12:00").await;
    let (from, to) = range_of(b).await;
    assert!(from.ends_with('Z') && to.ends_with('Z'), "{from} {to}");
    let local = b
        .c
        .execute(
            "const f = (s) => { const d = new Date(s); return d.toISOString().slice(0, 16) + 'Z'; }; return [f('2024-03-02T00:00'), f('2024-03-02T12:00')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(from.replace(":00Z", "Z"), local[0].as_str().unwrap());
    assert_eq!(to.replace(":00Z", "Z"), local[1].as_str().unwrap());
    let uri = format!(
        "/api/v1/alerts?total=true&limit=1&{}",
        support::qs(&[("from", from.as_str()), ("to", to.as_str())])
    );
    let (_, want) = api(state, &tok, "GET", &uri, None).await;
    let total = want["total"].as_u64().unwrap();
    let (_, all) = api(state, &tok, "GET", "/api/v1/alerts?total=true&limit=1", None).await;
    assert!(total > 0 && total < all["total"].as_u64().unwrap(), "{total}");
    assert_eq!(b.text("[data-testid=total]").await.replace(',', ""), total.to_string());
    assert!(b.css("[data-testid=from-at]").await.is_displayed().await.unwrap());
    assert_eq!(
        b.css("[data-testid=from-at]").await.prop("value").await.unwrap().as_deref(),
        Some("2024-03-02T00:00"),
        "the field shows the local time again"
    );
    b.shot("40-alerts-custom-range").await;
    // A preset replaces the custom range.
    let sel = b.css("[data-testid=time-range]").await;
    reloads(b, async {
        sel.select_by_value("1h").await.unwrap();
    })
    .await;
    assert_eq!(range_of(b).await, ("1h".to_string(), String::new()));

    // Events: the same controls.
    b.go("/events").await;
    b.settle().await;
    choose_custom(b, "2024-03-01T17:00", "2024-03-01T18:00").await;
    let (from, to) = range_of(b).await;
    let uri = format!(
        "/api/v1/events?limit=100&{}",
        support::qs(&[("from", from.as_str()), ("to", to.as_str())])
    );
    let (_, want) = api(state, &tok, "GET", &uri, None).await;
    let n = want["items"].as_array().unwrap().len();
    assert!(n > 0);
    assert_eq!(b.all("[data-testid=timeline] li:not(.muted)").await.len(), n);
    b.shot("41-events-custom-range").await;
    b.sign_out().await;
}

/// Without a browser: engine switches are Admin-only, device edits Analyst-and-up, both need
/// the CSRF token; hunting pages serve every role.
#[tokio::test]
async fn new_forms_check_role_and_csrf() {
    let f = fixture();
    let state =
        AppState::new(f.store.clone(), Default::default(), std::sync::Arc::new(|| Timestamp(NOW)));
    let (acookie, acsrf) = sign_in(&state, "analyst").await;
    let st = post_form(
        &state,
        &acookie,
        "/settings/engines/anomaly",
        &format!("state=off&csrf={acsrf}"),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (dcookie, dcsrf) = sign_in(&state, "admin").await;
    let st = post_form(&state, &dcookie, "/settings/engines/anomaly", "state=off").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no CSRF token");
    assert!(f.store.settings().unwrap().is_empty());
    let st = post_form(
        &state,
        &dcookie,
        "/settings/engines/anomaly",
        &format!("state=off&csrf={dcsrf}"),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(f.store.settings().unwrap()["detect.engines.anomaly"], "false");
    let st = post_form(
        &state,
        &dcookie,
        "/settings/engines/micro_agent",
        &format!("state=off&csrf={dcsrf}"),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(!f.store.settings().unwrap().contains_key("detect.engines.micro_agent"));

    let id = f.devices["b-plc-2"];
    let (vcookie, vcsrf) = sign_in(&state, "viewer").await;
    let body = format!("name=x&flags=1&csrf={vcsrf}");
    assert_eq!(
        post_form(&state, &vcookie, &format!("/devices/{id}/edit"), &body).await,
        StatusCode::FORBIDDEN
    );
    let st = post_form(&state, &acookie, &format!("/devices/{id}/edit"), "name=x&flags=1").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no CSRF token");
    let st = post_form(
        &state,
        &acookie,
        &format!("/devices/{id}/edit"),
        &format!("importance=Critical&csrf={acsrf}"),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "a bad value is a message, not an error page");
    assert_eq!(f.store.device(id).unwrap().name.as_deref(), Some("b-plc-2"));
    let st = post_form(
        &state,
        &acookie,
        &format!("/devices/{id}/edit"),
        &format!("name=Filler+PLC&csrf={acsrf}"),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let d = f.store.device(id).unwrap();
    assert_eq!(d.name.as_deref(), Some("Filler PLC"));
    assert_eq!(d.device_type, otwatch_model::DeviceType::Plc, "fields not sent are kept");

    let st =
        post_form(&state, &vcookie, "/hunt", &format!("q=Alerts+%7C+count&csrf={vcsrf}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(post_form(&state, &vcookie, "/hunt", "q=Alerts").await, StatusCode::FORBIDDEN);
}
