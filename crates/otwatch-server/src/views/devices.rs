//! The device inventory grid and the device details page (properties, alerts, connections, events).
//!
//! The grid reads the API's device parameters (`api::inventory::device_query`)
//! plus `page`, `facet` and `group_by`; device details come from
//! `service::device_view`, the same function as `GET /api/v1/devices/{id}`.
//! Analysts edit a device (name, type, authorized, programming device,
//! scanner, importance) through `service::update_device`, which calls
//! `Store::update_device` as `PATCH /api/v1/devices/{id}` does; audited.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};

use otwatch_model::{Device, DeviceType, Disposition, Importance};
use otwatch_store::{DeviceGroup, DeviceQuery, GroupCount};

use crate::api::inventory::device_query;
use crate::error::{ApiError, ApiResult};
use crate::service;
use crate::state::AppState;
use crate::views::alerts::{EventRow, FacetValue, Pill, Tab, event_rows, tabs};
use crate::views::map::{self, MapEdge, MapNode};
use crate::views::{
    Chrome, CsrfForm, Ctx, Link, Opt, WebResult, When, count, href, options, redirect_flash,
    severity_class, status_class,
};

/// Rows per page.
pub const PAGE_ROWS: usize = 50;

const FILTERS: &[(&str, &str, DeviceGroup)] = &[
    ("type", "Type", DeviceGroup::DeviceType),
    ("vendor", "Vendor", DeviceGroup::Vendor),
    ("site", "Site", DeviceGroup::Site),
    ("zone", "Zone", DeviceGroup::Zone),
    ("is_ot", "OT / IT", DeviceGroup::IsOt),
];

/// A grid row.
#[derive(Clone, Debug)]
pub struct DevRow {
    href: String,
    name: String,
    ip: String,
    mac: String,
    kind: String,
    vendor: String,
    model: String,
    firmware: String,
    protocols: String,
    site: String,
    zone: String,
    alerts: u64,
    last: When,
}

/// A group of the grouped inventory.
#[derive(Clone, Debug)]
pub struct DevGroup {
    label: String,
    count: String,
    href: String,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    chrome: Chrome,
    error: String,
    total: String,
    rows: Vec<DevRow>,
    q: String,
    hidden: Vec<(String, String)>,
    pills: Vec<Pill>,
    clear_href: String,
    facet_opts: Vec<Opt>,
    facet_key: String,
    facet_label: String,
    facet_values: Vec<FacetValue>,
    facet_hidden: Vec<(String, String)>,
    facet_base: Vec<(String, String)>,
    group_opts: Vec<Opt>,
    groups: Vec<DevGroup>,
    grouped: bool,
    range: String,
    prev_href: String,
    next_href: String,
}

fn label_of(group: DeviceGroup, value: &str) -> String {
    match (group, value) {
        (DeviceGroup::IsOt, "true" | "1") => "OT".into(),
        (DeviceGroup::IsOt, "false" | "0") => "IT".into(),
        (_, "") => "(none)".into(),
        _ => value.to_string(),
    }
}

/// GET /devices
pub async fn grid(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Vec<(String, String)>>,
) -> WebResult {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut page = 1u64;
    for (k, v) in &p {
        let v = v.trim();
        if v.is_empty() || matches!(k.as_str(), "limit" | "offset" | "total") {
            continue;
        }
        if k == "page" {
            page = v.parse::<u64>().unwrap_or(1).max(1);
            continue;
        }
        pairs.push((k.clone(), v.to_string()));
    }
    let get = |name: &str| {
        pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let facet = FILTERS.iter().find(|(k, _, _)| *k == get("facet")).copied();
    let group = FILTERS.iter().find(|(k, _, _)| *k == get("group_by")).copied();
    let mut api: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "facet" | "group_by"))
        .cloned()
        .collect();
    api.push(("limit".into(), PAGE_ROWS.to_string()));
    api.push(("offset".into(), ((page - 1) * PAGE_ROWS as u64).to_string()));
    let (q, error) = match device_query(&api) {
        Ok(q) => (q, String::new()),
        Err(e) => (DeviceQuery { limit: PAGE_ROWS, ..Default::default() }, e.to_string()),
    };
    let facet_q = facet.map(|(k, _, g)| {
        let rest: Vec<(String, String)> = api.iter().filter(|(n, _)| n != k).cloned().collect();
        (device_query(&rest).unwrap_or_default(), g)
    });
    let group_by = group.map(|(_, _, g)| g);
    let loaded: ApiResult<_> = st
        .blocking(move |s| {
            let devices = s.list_devices(&q)?;
            let total = s.count_devices(&q)?;
            let groups = match group_by {
                Some(g) => s.group_devices(&q, g)?,
                None => vec![],
            };
            let facet = match facet_q {
                Some((fq, g)) => s.group_devices(&fq, g)?,
                None => vec![],
            };
            let ips: Vec<&str> = devices.iter().filter_map(|d| d.ip.as_deref()).collect();
            let alerts = map::open_alerts_by_ip(s, &ips)?;
            Ok((devices, total, groups, facet, alerts))
        })
        .await;
    let (devices, total, groups, facet_counts, alerts): (
        Vec<Device>,
        u64,
        Vec<GroupCount>,
        Vec<GroupCount>,
        _,
    ) = loaded?;
    let rows = devices
        .iter()
        .map(|d| DevRow {
            href: format!("/devices/{}", d.id),
            name: d.label(),
            ip: d.ip.clone().unwrap_or_default(),
            mac: d.mac.clone().unwrap_or_default(),
            kind: d.device_type.to_string(),
            vendor: d.vendor.clone().unwrap_or_default(),
            model: d.model.clone().unwrap_or_default(),
            firmware: d.firmware.clone().unwrap_or_default(),
            protocols: d.protocols.join(", "),
            site: d.site.clone().unwrap_or_default(),
            zone: d.zone.clone().unwrap_or_default(),
            alerts: d.ip.as_deref().and_then(|ip| alerts.get(ip)).copied().unwrap_or(0),
            last: When::of(d.last_seen),
        })
        .collect();
    let without = |drop: &dyn Fn(&str, &str) -> bool| -> Vec<(String, String)> {
        pairs.iter().filter(|(k, v)| !drop(k, v)).cloned().collect()
    };
    let pills = pairs
        .iter()
        .filter_map(|(k, v)| {
            let label = match k.as_str() {
                "protocol" => "Protocol",
                other => FILTERS.iter().find(|(n, _, _)| *n == other).map(|(_, l, _)| *l)?,
            };
            let shown =
                if k == "is_ot" { label_of(DeviceGroup::IsOt, v) } else { v.replace(',', ", ") };
            let rest = without(&|k2, v2| (k2 == k && v2 == v) || k2 == "facet");
            Some(Pill { label: format!("{label} is {shown}"), remove: href("/devices", &rest) })
        })
        .collect();
    let (facet_key, facet_label, facet_values, facet_hidden) = match facet {
        Some((k, l, g)) => {
            let chosen: BTreeSet<String> = pairs
                .iter()
                .filter(|(n, _)| n == k)
                .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
                .collect();
            let values = facet_counts
                .iter()
                .filter(|c| !c.value.is_empty())
                .take(200)
                .map(|c| FacetValue {
                    value: c.value.clone(),
                    label: label_of(g, &c.value),
                    count: count(c.count),
                    checked: chosen.contains(&c.value),
                })
                .collect();
            (k.to_string(), l.to_string(), values, without(&|n, _| n == k || n == "facet"))
        }
        None => (String::new(), String::new(), vec![], vec![]),
    };
    let groups = match group {
        Some((k, _, g)) => groups
            .iter()
            .map(|c| {
                let mut rest = without(&|n, _| n == "group_by" || n == "facet");
                if !c.value.is_empty() {
                    rest.push((k.to_string(), c.value.clone()));
                }
                DevGroup {
                    label: label_of(g, &c.value),
                    count: count(c.count),
                    href: if c.value.is_empty() { String::new() } else { href("/devices", &rest) },
                }
            })
            .collect(),
        None => vec![],
    };
    let base = without(&|k, _| k == "facet");
    let start = (page - 1) * PAGE_ROWS as u64;
    let shown = devices.len() as u64;
    let page_href = |n: u64| {
        let mut v = base.clone();
        if n > 1 {
            v.push(("page".into(), n.to_string()));
        }
        href("/devices", &v)
    };
    let page_view = DevicesPage {
        chrome: ctx.chrome("devices", "Devices"),
        error,
        total: count(total),
        rows,
        q: get("q"),
        hidden: without(&|k, _| matches!(k, "q" | "group_by")),
        pills,
        clear_href: href("/devices", &without(&|k, _| k != "group_by")),
        facet_opts: FILTERS
            .iter()
            .map(|(k, l, _)| Opt {
                value: k.to_string(),
                label: l.to_string(),
                selected: facet.map(|f| f.0) == Some(*k),
            })
            .collect(),
        facet_key,
        facet_label,
        facet_values,
        facet_hidden,
        facet_base: without(&|k, _| k == "facet"),
        group_opts: {
            let mut o = vec![Opt {
                value: String::new(),
                label: "No grouping".into(),
                selected: group.is_none(),
            }];
            o.extend(FILTERS.iter().map(|(k, l, _)| Opt {
                value: k.to_string(),
                label: l.to_string(),
                selected: group.map(|g| g.0) == Some(*k),
            }));
            o
        },
        grouped: group.is_some(),
        groups,
        range: if shown == 0 {
            String::new()
        } else {
            format!("{}–{} of {}", count(start + 1), count(start + shown), count(total))
        },
        prev_href: if page > 1 { page_href(page - 1) } else { String::new() },
        next_href: if start + shown < total { page_href(page + 1) } else { String::new() },
    };
    Ok(ctx.render(&page_view))
}

/// An alert row of the device's Alerts tab.
#[derive(Clone, Debug)]
pub struct DevAlert {
    href: String,
    name: String,
    severity: String,
    sev_class: &'static str,
    status: String,
    st_class: &'static str,
    role: &'static str,
    last: When,
}

/// A connection row.
#[derive(Clone, Debug)]
pub struct ConnRow {
    peer: Link,
    direction: &'static str,
    service: String,
    protocol: String,
    packets: String,
    bytes: String,
    last: When,
}

/// The values of the device edit form.
#[derive(Clone, Debug)]
pub struct DeviceForm {
    name: String,
    types: Vec<Opt>,
    importances: Vec<Opt>,
    authorized: bool,
    programming_device: bool,
    scanner: bool,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    chrome: Chrome,
    id: i64,
    edit: DeviceForm,
    name: String,
    kind: String,
    props: Vec<(String, String)>,
    first: When,
    last: When,
    tab: String,
    tabs: Vec<Tab>,
    alerts: Vec<DevAlert>,
    open_alerts: usize,
    grid_href: String,
    conns: Vec<ConnRow>,
    events: Vec<EventRow>,
    map_html: String,
}

fn yes_no(b: bool) -> String {
    if b { "Yes".into() } else { "No".into() }
}

/// GET /devices/{id}
pub async fn details(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Query<Vec<(String, String)>>,
) -> WebResult {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field("id", format!("{id:?} is not a device id")))?;
    let v = service::device_view(&st, id, 200).await?;
    let d = &v.device;
    let peers: Vec<i64> = v
        .connections
        .iter()
        .flat_map(|c| [c.src_device_id, c.dst_device_id])
        .flatten()
        .filter(|x| *x != id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(60)
        .collect();
    let peer_devices = st
        .blocking(move |s| Ok(peers.iter().filter_map(|p| s.device(*p).ok()).collect::<Vec<_>>()))
        .await?;
    let mut nodes = vec![{
        let open = v.alerts.iter().filter(|a| a.status.is_open()).count() as u64;
        let mut n = MapNode::of_device(d, open);
        n.highlight = true;
        n
    }];
    nodes.extend(peer_devices.iter().map(|pd| MapNode::of_device(pd, 0)));
    let edges: Vec<MapEdge> = v.connections.iter().map(MapEdge::of_connection).collect();
    let map_html = map::svg(&map::layout(nodes, edges), "Map of the device and its peers");
    let label_of_peer = |pid: Option<i64>, addr: &str| -> Link {
        match pid.and_then(|p| peer_devices.iter().find(|x| x.id == p)) {
            Some(pd) => Link { text: pd.label(), href: format!("/devices/{}", pd.id) },
            None => Link { text: addr.to_string(), href: String::new() },
        }
    };
    let conns = v
        .connections
        .iter()
        .map(|c| {
            let outbound = c.src_device_id == Some(id);
            let (pid, addr) =
                if outbound { (c.dst_device_id, &c.dst) } else { (c.src_device_id, &c.src) };
            ConnRow {
                peer: label_of_peer(pid, addr),
                direction: if outbound { "to" } else { "from" },
                service: format!(
                    "{}{}",
                    c.transport,
                    c.dst_port.map(|p| format!("/{p}")).unwrap_or_default()
                ),
                protocol: c.protocol.clone().unwrap_or_default(),
                packets: count(c.packets),
                bytes: count(c.bytes),
                last: When::of(c.last_seen),
            }
        })
        .collect();
    let ip = d.ip.clone().unwrap_or_default();
    let alerts: Vec<DevAlert> = v
        .alerts
        .iter()
        .map(|a| DevAlert {
            href: format!("/alerts/{}", a.id),
            name: a.name.clone(),
            severity: a.severity.to_string(),
            sev_class: severity_class(a.severity),
            status: if a.disposition == Disposition::None {
                a.status.to_string()
            } else {
                format!("{} · {}", a.status, a.disposition)
            },
            st_class: status_class(a.status),
            role: if a.source.ip.as_deref() == Some(ip.as_str()) {
                "source"
            } else {
                "destination"
            },
            last: When::of(a.last_detection),
        })
        .collect();
    let open_alerts = v.alerts.iter().filter(|a| a.status.is_open()).count();
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut props: Vec<(String, String)> = vec![
        ("Name".into(), opt(&d.name)),
        ("IP address".into(), opt(&d.ip)),
        ("MAC address".into(), opt(&d.mac)),
        ("Type".into(), d.device_type.to_string()),
        ("OT / IT".into(), if d.is_ot { "OT".into() } else { "IT".into() }),
        ("Vendor".into(), opt(&d.vendor)),
        ("Model".into(), opt(&d.model)),
        ("Firmware version".into(), opt(&d.firmware)),
        ("Serial number".into(), opt(&d.serial)),
        ("Protocols".into(), d.protocols.join(", ")),
        ("VLAN".into(), d.vlan.map(|v| v.to_string()).unwrap_or_default()),
        ("Sensor".into(), opt(&d.sensor)),
        ("Site".into(), opt(&d.site)),
        ("Zone".into(), opt(&d.zone)),
        ("Authorized".into(), yes_no(d.authorized)),
        ("Programming device".into(), yes_no(d.programming_device)),
        ("Scanner".into(), yes_no(d.scanner)),
        ("Importance".into(), d.importance.to_string()),
    ];
    props.extend(d.details.iter().map(|(k, v)| (k.clone(), v.clone())));
    for (_, v) in props.iter_mut() {
        if v.trim().is_empty() {
            *v = "—".into();
        }
    }
    let tab = p
        .iter()
        .find(|(k, _)| k == "tab")
        .map(|(_, v)| v.as_str())
        .filter(|t| matches!(*t, "properties" | "alerts" | "connections" | "events" | "map"))
        .unwrap_or("properties")
        .to_string();
    let type_names: Vec<(&str, &str)> =
        DeviceType::ALL.iter().map(|t| (t.as_str(), t.as_str())).collect();
    let importance_names: Vec<(&str, &str)> =
        Importance::ALL.iter().map(|i| (i.as_str(), i.as_str())).collect();
    let page = DevicePage {
        chrome: ctx.chrome("devices", format!("Device {}", d.label())),
        id,
        edit: DeviceForm {
            name: d.name.clone().unwrap_or_default(),
            types: options(&type_names, d.device_type.as_str()),
            importances: options(&importance_names, d.importance.as_str()),
            authorized: d.authorized,
            programming_device: d.programming_device,
            scanner: d.scanner,
        },
        name: d.label(),
        kind: d.device_type.to_string(),
        props,
        first: When::of(d.first_seen),
        last: When::of(d.last_seen),
        tabs: tabs(
            &[
                ("properties", "Properties"),
                ("alerts", "Alerts"),
                ("connections", "Connections"),
                ("events", "Event timeline"),
                ("map", "Map view"),
            ],
            &tab,
        ),
        tab,
        alerts,
        open_alerts,
        grid_href: if ip.is_empty() {
            String::new()
        } else {
            href("/alerts", &[("q", ip.as_str())])
        },
        conns,
        events: event_rows(&v.events),
        map_html,
    };
    Ok(ctx.render(&page))
}

/// POST /devices/{id}/edit — name, type, importance and the three flags (Analyst and up).
pub async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    f: CsrfForm,
) -> WebResult {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field("id", format!("{id:?} is not a device id")))?;
    // Unticked boxes are not sent: the hidden `flags` field says the form had them.
    let flags = f.get("flags").is_some();
    let flag = |name: &str| flags.then(|| f.get(name).is_some());
    let edit = service::DeviceEdit {
        name: f.get("name").map(String::from),
        device_type: f.nonblank("device_type").map(String::from),
        authorized: flag("authorized"),
        programming_device: flag("programming_device"),
        scanner: flag("scanner"),
        importance: f.nonblank("importance").map(String::from),
    };
    let back = format!("/devices/{id}?tab=properties");
    match service::update_device(&st, ctx.who.actor(), id, edit).await {
        Ok((_, true)) => Ok(redirect_flash(&back, "Device updated.", false)),
        Ok((_, false)) => Ok(redirect_flash(&back, "Nothing to change.", false)),
        Err(e @ ApiError::BadRequest { .. }) => Ok(redirect_flash(&back, &e.to_string(), true)),
        Err(e @ ApiError::NotFound(_)) => Ok(redirect_flash("/devices", &e.to_string(), true)),
        Err(e) => Err(e.into()),
    }
}
