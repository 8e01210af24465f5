//! The web console in a real browser: headless Chromium driven through WebDriver
//! against the console on a real socket, checking what pages show against the API,
//! taking screenshots at 1366×768 and 1920×1080 into `test-artifacts/screenshots/`.
//! Also the console's role matrix and CSRF checks, without a browser.
//! Chromium missing is a loud failure: `apt-get install chromium chromium-driver`.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt;

use otwatch_model::{AlertId, Detection, Role, Timestamp};
use otwatch_server::views::specs;
use otwatch_server::{AppState, router};
use otwatch_store::{IngestOptions, Store};

use support::{B, NOW, PCAP, api, csv_rows, fixture, post_form, sign_in};

/// Every console route as anonymous, Viewer, Analyst and Admin: anonymous GETs go to the
/// sign-in page, other anonymous calls get 401; a role too low gets 403; the rest are served.
#[tokio::test]
async fn every_page_checks_the_role() {
    let f = fixture();
    let state =
        AppState::new(f.store.clone(), Default::default(), std::sync::Arc::new(|| Timestamp(NOW)));
    let rank = |r: Role| match r {
        Role::Viewer => 1,
        Role::Analyst => 2,
        Role::Admin => 3,
    };
    let mut checked = 0;
    for s in specs() {
        let path = s
            .path
            .replace("{id}", "999999")
            .replace("{name}", "nobody")
            .replace("{file}", "app.css");
        let form = |b: axum::http::request::Builder| {
            if s.method == "POST" {
                b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::empty())
                    .unwrap()
            } else {
                b.body(Body::empty()).unwrap()
            }
        };
        let anon = router(state.clone())
            .oneshot(form(Request::builder().method(s.method).uri(&path)))
            .await
            .unwrap();
        match s.role {
            None => assert!(
                anon.status() != StatusCode::UNAUTHORIZED && anon.status() != StatusCode::FORBIDDEN,
                "{} {}",
                s.method,
                s.path
            ),
            Some(need) => {
                if s.method == "GET" {
                    assert_eq!(
                        anon.status(),
                        StatusCode::SEE_OTHER,
                        "{} {} signed out",
                        s.method,
                        s.path
                    );
                    let to = anon.headers().get(header::LOCATION).unwrap().to_str().unwrap();
                    assert!(to.starts_with("/login?next="), "{to}");
                } else {
                    assert_eq!(
                        anon.status(),
                        StatusCode::UNAUTHORIZED,
                        "{} {} signed out",
                        s.method,
                        s.path
                    );
                }
                for (who, role) in
                    [("viewer", Role::Viewer), ("analyst", Role::Analyst), ("admin", Role::Admin)]
                {
                    let r =
                        router(state.clone())
                            .oneshot(form(Request::builder().method(s.method).uri(&path).header(
                                header::AUTHORIZATION,
                                format!("Bearer {}", f.tokens[who]),
                            )))
                            .await
                            .unwrap();
                    let st = r.status();
                    if rank(role) < rank(need) {
                        assert_eq!(st, StatusCode::FORBIDDEN, "{} {} as {who}", s.method, s.path);
                    } else {
                        assert!(
                            st != StatusCode::FORBIDDEN
                                && st != StatusCode::UNAUTHORIZED
                                && st.as_u16() < 500,
                            "{} {} as {who}: {st}",
                            s.method,
                            s.path
                        );
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} routes");
    for (method, path) in [
        ("GET", "/hunt"),
        ("POST", "/hunt"),
        ("POST", "/hunt/export"),
        ("POST", "/hunt/queries"),
        ("POST", "/hunt/queries/{id}/delete"),
        ("POST", "/settings/engines/{name}"),
        ("POST", "/devices/{id}/edit"),
    ] {
        assert!(
            specs().iter().any(|s| s.method == method && s.path == path),
            "{method} {path} is in the console's route table (and so in this matrix)"
        );
    }
}

/// Forms that change state need the session's CSRF token; a Viewer is refused triage even with it.
#[tokio::test]
async fn forms_need_the_csrf_token_and_the_role() {
    let f = fixture();
    let state =
        AppState::new(f.store.clone(), Default::default(), std::sync::Arc::new(|| Timestamp(NOW)));
    let (cookie, csrf) = sign_in(&state, "analyst").await;
    assert_eq!(
        post_form(&state, &cookie, "/alerts/1/status", "status=Active").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(&state, &cookie, "/alerts/1/status", "status=Active&csrf=wrong").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(f.store.alert(AlertId(1)).unwrap().status, otwatch_model::Status::New);
    let ok =
        post_form(&state, &cookie, "/alerts/1/status", &format!("status=Active&csrf={csrf}")).await;
    assert_eq!(ok, StatusCode::SEE_OTHER);
    assert_eq!(f.store.alert(AlertId(1)).unwrap().status, otwatch_model::Status::Active);
    let (vcookie, vcsrf) = sign_in(&state, "viewer").await;
    let st =
        post_form(&state, &vcookie, "/alerts/1/status", &format!("status=Closed&csrf={vcsrf}"))
            .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let st =
        post_form(&state, &vcookie, "/alerts/bulk", &format!("all=1&action=learn&csrf={vcsrf}"))
            .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(f.store.alert(AlertId(1)).unwrap().status, otwatch_model::Status::Active);
}

// ---- the browser journey ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_and_viewer_journeys_in_chromium() {
    let f = fixture();
    let (base, state) = support::serve(f.store.clone()).await;
    let driver = support::driver();
    let c = support::browser(&driver).await;
    let b = B { c, base, shots: support::screenshot_dir() };
    let tok = f.tokens["analyst"].clone();
    let result = journey(&b, &f, &state, &tok).await;
    let _ = b.c.clone().close().await;
    drop(driver);
    result
}

async fn journey(b: &B, f: &support::Fixture, state: &AppState, tok: &str) {
    // Sign in: the user and role are shown.
    b.sign_in("analyst").await;
    assert_eq!(b.text("[data-testid=user]").await, "analyst");
    assert_eq!(b.text("[data-testid=role]").await, "Analyst");
    let (_, all) = api(state, tok, "GET", "/api/v1/alerts?limit=1&total=true", None).await;
    assert_eq!(b.text("[data-testid=total]").await.replace(',', ""), all["total"].to_string());
    assert!(b.text("#tz").await.starts_with("Times in"));
    b.shot("02-alerts").await;

    // New alerts appear without a reload.
    let mut d = Detection::new("anomaly_port_scan", Timestamp(NOW - 1_000_000));
    d.source.ip = Some("10.1.0.99".into());
    d.destination.ip = Some("10.1.0.13".into());
    d.site = Some("Plant A".into());
    d.severity = Some(otwatch_model::Severity::Warning);
    d.key.insert("n".into(), "fresh".into());
    let r = f
        .store
        .ingest(
            &[d],
            &IngestOptions {
                catalog: otwatch_model::catalog::builtin(),
                now: Timestamp(NOW),
                auto_close_after: i64::MAX,
            },
        )
        .unwrap();
    let fresh = r.new_alert_ids[0];
    b.c.execute("window.otwatchPoll()", vec![]).await.unwrap();
    b.css(&format!("#alert-rows tr[data-id='{}'].fresh", fresh.0)).await;
    let total_after = b.text("[data-testid=total]").await.replace(',', "");
    assert_eq!(total_after, (all["total"].as_u64().unwrap() + 1).to_string());

    // Filter by severity, then site, through "Add filter" with per-value counts.
    b.css("[data-testid=add-filter]").await.click().await.unwrap();
    b.css("[data-testid=facet]").await.select_by_value("severity").await.unwrap();
    b.wait_path("/alerts?facet=severity").await;
    b.settle().await;
    b.css("details.add-filter input[value=Critical]").await.click().await.unwrap();
    b.shot("03-add-filter").await;
    b.css("[data-testid=apply-filter]").await.click().await.unwrap();
    b.wait_path("/alerts?severity=Critical").await;
    b.settle().await;
    b.css("[data-testid=add-filter]").await.click().await.unwrap();
    b.css("[data-testid=facet]").await.select_by_value("site").await.unwrap();
    b.wait_path("/alerts?severity=Critical&facet=site").await;
    b.settle().await;
    b.css("details.add-filter input[value='Plant A']").await.click().await.unwrap();
    b.css("[data-testid=apply-filter]").await.click().await.unwrap();
    b.wait_path("/alerts?severity=Critical&site=Plant+A").await;
    b.settle().await;
    let filtered_url = b.path().await;
    let (_, want) = api(
        state,
        tok,
        "GET",
        "/api/v1/alerts?severity=Critical&site=Plant%20A&total=true&limit=1000",
        None,
    )
    .await;
    let want_total = want["total"].as_u64().unwrap();
    assert!(want_total > 0);
    assert_eq!(b.text("[data-testid=total]").await, want_total.to_string());
    let sevs = b.all("#alert-rows td span.sev").await;
    assert_eq!(sevs.len() as u64, want_total);
    for s in &sevs {
        assert_eq!(s.text().await.unwrap(), "Critical");
    }
    assert_eq!(b.all("[data-testid=pill]").await.len(), 2);
    b.shot("04-alerts-filtered").await;

    // Group by engine: the counts are the API's.
    b.css("[data-testid=group-by]").await.select_by_value("engine").await.unwrap();
    b.wait_path("/alerts?severity=Critical&site=Plant+A&group=engine").await;
    b.settle().await;
    let (_, groups) = api(
        state,
        tok,
        "GET",
        "/api/v1/alerts/groups?by=engine&severity=Critical&site=Plant%20A",
        None,
    )
    .await;
    let shown: Vec<String> = {
        let mut v = Vec::new();
        for e in b.all("[data-testid=group-count]").await {
            v.push(e.text().await.unwrap());
        }
        v
    };
    let api_counts: Vec<String> =
        groups["groups"].as_array().unwrap().iter().map(|g| g["count"].to_string()).collect();
    assert_eq!(shown, api_counts);
    b.css("details.group summary").await.click().await.unwrap();
    b.css("details.group .group-body table.grid tbody tr").await;
    b.shot("05-alerts-grouped").await;

    // Open an alert: side pane, then the full page.
    b.go(&filtered_url).await;
    b.settle().await;
    let first_id = want["items"][0]["id"].as_i64().unwrap();
    b.css(&format!("#alert-rows tr[data-id='{first_id}'] a.js-pane")).await.click().await.unwrap();
    b.css("[data-testid=pane]").await;
    assert_eq!(b.text("#pane-title").await, want["items"][0]["name"].as_str().unwrap());
    b.shot("06-alert-pane").await;
    b.css("[data-testid=full-details]").await.click().await.unwrap();
    b.wait_path(&format!("/alerts/{first_id}")).await;
    b.settle().await;
    let (_, one) = api(state, tok, "GET", &format!("/api/v1/alerts/{first_id}"), None).await;
    assert_eq!(b.text("[data-testid=alert-name]").await, one["alert"]["name"].as_str().unwrap());
    assert_eq!(
        b.text("[data-testid=description]").await,
        one["alert"]["description"].as_str().unwrap()
    );
    let mitre = b.all("[data-testid=mitre] a").await;
    assert_eq!(
        mitre.len(),
        one["mitre"]["tactics"].as_array().unwrap().len()
            + one["mitre"]["techniques"].as_array().unwrap().len()
    );
    for a in &mitre {
        assert!(
            a.attr("href")
                .await
                .unwrap()
                .unwrap_or_default()
                .starts_with("https://attack.mitre.org/")
        );
    }
    b.shot("07-alert-overview").await;
    b.css("a.js-tab[data-tab=map]").await.click().await.unwrap();
    b.css("#tab-map svg.map").await;
    b.shot("08-alert-map").await;
    b.css("a.js-tab[data-tab=timeline]").await.click().await.unwrap();
    b.shot("09-alert-timeline").await;

    // Change its status and severity, then learn a learnable one.
    b.css("a.js-tab[data-tab=action]").await.click().await.unwrap();
    b.css("[data-testid=status-select]").await.select_by_value("Active").await.unwrap();
    b.css("[data-testid=severity-select]").await.select_by_value("Major").await.unwrap();
    b.shot("10-alert-take-action").await;
    b.css("[data-testid=save-status]").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, one) = api(state, tok, "GET", &format!("/api/v1/alerts/{first_id}"), None).await;
    assert_eq!(one["alert"]["status"], "Active");
    assert_eq!(one["alert"]["severity"], "Major");
    assert_eq!(b.text("[data-testid=alert-status]").await, "Active");
    assert_eq!(b.text("[data-testid=alert-severity]").await, "Major");
    let (_, learnable) =
        api(state, tok, "GET", "/api/v1/alerts?learnable=true&status=New&limit=1", None).await;
    let lid = learnable["items"][0]["id"].as_i64().expect("a learnable alert in the fixture");
    b.go(&format!("/alerts/{lid}?tab=action")).await;
    b.css("[data-testid=learn]").await.click().await.unwrap();
    b.css("[data-testid=flash]").await;
    let (_, l) = api(state, tok, "GET", &format!("/api/v1/alerts/{lid}"), None).await;
    assert_eq!(l["alert"]["disposition"], "learned");
    assert_eq!(l["alert"]["status"], "Closed");
    assert_eq!(b.text("[data-testid=alert-disposition]").await, "learned");

    // Download the PCAP of the alert that has one.
    let pid = f
        .store
        .list_alerts(&otwatch_store::AlertQuery {
            sort: otwatch_store::Sort::parse("id").unwrap(),
            limit: 1,
            ..Default::default()
        })
        .unwrap()
        .items[0]
        .id
        .0;
    b.go(&format!("/alerts/{pid}")).await;
    let href = b.css("[data-testid=pcap]").await.attr("href").await.unwrap().unwrap();
    let (st, hex) = b.fetch(&href, true).await;
    assert_eq!(st, 200);
    assert_eq!(hex, PCAP.iter().map(|x| format!("{x:02x}")).collect::<String>());

    // Export the filtered view as CSV and check its rows.
    b.go(&filtered_url).await;
    b.settle().await;
    let href = b.css("[data-testid=export]").await.attr("href").await.unwrap().unwrap();
    let (st, csv) = b.fetch(&href, false).await;
    assert_eq!(st, 200);
    let rows = csv_rows(&csv);
    let headers = rows[0].clone();
    assert_eq!(
        headers,
        [
            "Severity",
            "Name",
            "Site",
            "Engine",
            "Last detection",
            "Status",
            "Source device",
            "Tactics"
        ]
    );
    let (_, now_want) =
        api(state, tok, "GET", "/api/v1/alerts?severity=Critical&site=Plant%20A&limit=1000", None)
            .await;
    let items = now_want["items"].as_array().unwrap();
    assert_eq!(rows.len() - 1, items.len());
    for (row, a) in rows[1..].iter().zip(items) {
        assert_eq!(row[0], "Critical");
        assert_eq!(row[1], a["name"].as_str().unwrap());
        assert_eq!(row[2], "Plant A");
    }

    // Open a device and its Alerts tab.
    b.go("/devices").await;
    b.settle().await;
    let (_, devs) = api(state, tok, "GET", "/api/v1/devices", None).await;
    assert_eq!(b.text("[data-testid=device-total]").await, devs["total"].to_string());
    b.shot("11-devices").await;
    let plc = f.devices["a-plc-1"];
    b.css(&format!("a[href='/devices/{plc}']")).await.click().await.unwrap();
    b.wait_path(&format!("/devices/{plc}")).await;
    assert_eq!(b.text("[data-testid=device-name]").await, "a-plc-1");
    b.shot("12-device").await;
    b.css("[data-testid=tab-alerts]").await.click().await.unwrap();
    let (_, dv) = api(state, tok, "GET", &format!("/api/v1/devices/{plc}"), None).await;
    let n_alerts = dv["alerts"].as_array().unwrap().len();
    assert!(n_alerts > 0);
    assert_eq!(b.all("[data-testid=device-alerts] tbody tr").await.len(), n_alerts);
    b.shot("13-device-alerts").await;

    // Open the map: one node per device, coloured by open alerts; click through to a device.
    b.go("/map").await;
    b.settle().await;
    let nodes = b.all("a[data-testid=map-node]").await;
    assert_eq!(nodes.len() as u64, devs["total"].as_u64().unwrap());
    assert!(!b.all("a.node.n-alert").await.is_empty(), "devices with open alerts are marked");
    b.css(".js-zoom[data-zoom=in]").await.click().await.unwrap();
    b.shot("14-map").await;
    b.css(".js-zoom[data-zoom=fit]").await.click().await.unwrap();
    b.go("/map?site=Plant+B").await;
    let b_nodes = b.all("a[data-testid=map-node]").await;
    assert_eq!(b_nodes.len(), 8);
    b.c.execute("document.querySelector('a[data-testid=map-node]').dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}))", vec![]).await.unwrap();
    b.wait_path("/devices/").await;

    // The other pages.
    b.go("/events").await;
    b.css("[data-testid=timeline] li").await;
    b.shot("15-events").await;
    b.go("/sensors").await;
    assert_eq!(b.all("[data-testid=sensors] tbody tr").await.len(), 2);
    b.shot("16-sensors").await;
    b.sign_out().await;

    // Admin: settings, a token whose secret is shown once.
    b.sign_in("admin").await;
    b.go("/settings").await;
    assert_eq!(b.all("[data-testid=users] tbody tr").await.len(), 3);
    b.shot("17-settings-users").await;
    b.go("/settings?tab=tokens").await;
    b.css("#tab-tokens input[name=name]").await.send_keys("siem export").await.unwrap();
    b.css("#tab-tokens form.stack-form button[type=submit]").await.click().await.unwrap();
    let secret = b.text("[data-testid=new-secret]").await;
    assert!(secret.starts_with("otw_"));
    let (st, _) = api(state, &secret, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(st, StatusCode::OK);
    b.shot("18-settings-token").await;
    b.go("/settings?tab=rules").await;
    b.shot("19-settings-rules").await;
    b.go("/settings?tab=engines").await;
    b.shot("20-settings-engines").await;
    b.sign_out().await;

    // Viewer: no triage controls, and the server refuses triage if forced.
    b.sign_in("viewer").await;
    assert_eq!(b.text("[data-testid=role]").await, "Viewer");
    assert!(b.all("#bulk").await.is_empty());
    assert!(b.all("input.js-row").await.is_empty());
    assert!(b.all("[data-testid=export]").await.is_empty());
    b.shot("21-alerts-viewer").await;
    let target = first_id;
    b.go(&format!("/alerts/{target}?tab=action")).await;
    b.css("[data-testid=read-only]").await;
    assert!(b.all("[data-testid=status-form]").await.is_empty());
    assert!(b.all("[data-testid=learn]").await.is_empty());
    assert!(b.all("[data-testid=pcap]").await.is_empty());
    b.shot("22-alert-viewer").await;
    let forced = r#"
        const [id, done] = arguments;
        const csrf = document.querySelector("form[action='/logout'] input[name=csrf]").value;
        const body = new URLSearchParams({csrf: csrf, status: "Closed"});
        Promise.all([
            fetch("/alerts/" + id + "/status", {method: "POST", body: body, credentials: "same-origin"}).then(r => r.status),
            fetch("/api/v1/alerts/" + id, {method: "PATCH", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify({status: "Closed"})}).then(r => r.status),
            fetch("/alerts/bulk", {method: "POST", body: new URLSearchParams({csrf: csrf, all: "1", action: "mute"}), credentials: "same-origin"}).then(r => r.status),
        ]).then(done);
    "#;
    let v = b.c.execute_async(forced, vec![json!(target)]).await.unwrap();
    assert_eq!(v, json!([403, 403, 403]));
    let (_, after) = api(state, tok, "GET", &format!("/api/v1/alerts/{target}"), None).await;
    assert_eq!(after["alert"]["status"], "Active");
}
