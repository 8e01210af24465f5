//! The device map: devices and their connections as an SVG graph, laid out on the server.
//!
//! The layout is by Purdue level, as analysts expect from the sensor's map:
//! control devices (PLC, RTU, controllers) at the bottom, supervisory ones
//! (HMI, SCADA, engineering stations) above them, operations and IT on top,
//! network gear and unknown devices in their own band. It is deterministic
//! (sorted by label), needs no script, and the page's script only adds zoom
//! and pan by changing the `viewBox`. Nodes are links to the device page.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Query, State};

use otwatch_model::{AlertField, Connection, Device, DeviceType};
use otwatch_store::{AlertQuery, ConnectionQuery, DeviceGroup, DeviceQuery, Filter};

use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::{Chrome, Ctx, Opt, WebResult, count, render_str};

/// Most devices the map draws.
pub const MAX_MAP_DEVICES: usize = 600;
/// Most connections the map reads.
pub const MAX_MAP_CONNECTIONS: usize = 5000;

const COL_W: i64 = 150;
const ROW_H: i64 = 96;
const BAND_HEAD: i64 = 30;
const MARGIN: i64 = 24;

/// A node before layout.
#[derive(Clone, Debug)]
pub struct MapNode {
    /// Unique key (`d<id>` for devices, `a<address>` otherwise).
    pub key: String,
    /// Main label.
    pub label: String,
    /// Second line (address).
    pub sub: String,
    /// Device type.
    pub kind: DeviceType,
    /// Link target.
    pub href: String,
    /// Open alerts.
    pub alerts: u64,
    /// Drawn with an outline (the devices of an alert).
    pub highlight: bool,
}

impl MapNode {
    /// A node for an inventory device with `alerts` open alerts.
    pub fn of_device(d: &Device, alerts: u64) -> MapNode {
        MapNode {
            key: format!("d{}", d.id),
            label: d.label(),
            sub: d.ip.clone().or_else(|| d.mac.clone()).unwrap_or_default(),
            kind: d.device_type,
            href: format!("/devices/{}", d.id),
            alerts,
            highlight: false,
        }
    }

    /// A node for an address that is not in the inventory.
    pub fn address(addr: &str) -> MapNode {
        MapNode {
            key: format!("a{addr}"),
            label: addr.to_string(),
            sub: "not in the inventory".into(),
            kind: DeviceType::Unknown,
            href: String::new(),
            alerts: 0,
            highlight: true,
        }
    }
}

/// An edge before layout.
#[derive(Clone, Debug)]
pub struct MapEdge {
    /// Key of one end.
    pub a: String,
    /// Key of the other end.
    pub b: String,
    /// Hover text.
    pub label: String,
    /// Drawn emphasised (the alert's traffic).
    pub hot: bool,
}

impl MapEdge {
    /// An edge for a stored connection (both ends must be devices).
    pub fn of_connection(c: &Connection) -> MapEdge {
        let proto = c.protocol.clone().unwrap_or_else(|| c.transport.clone());
        let port = c.dst_port.map(|p| format!(":{p}")).unwrap_or_default();
        MapEdge {
            a: c.src_device_id.map(|i| format!("d{i}")).unwrap_or_else(|| format!("a{}", c.src)),
            b: c.dst_device_id.map(|i| format!("d{i}")).unwrap_or_else(|| format!("a{}", c.dst)),
            label: format!("{} → {}{port} {proto}, {} packets", c.src, c.dst, count(c.packets)),
            hot: false,
        }
    }
}

/// A placed node.
#[derive(Clone, Debug)]
pub struct PNode {
    x: i64,
    y: i64,
    label: String,
    sub: String,
    abbr: &'static str,
    class: String,
    href: String,
    alerts: u64,
    title: String,
}

/// A placed edge.
#[derive(Clone, Debug)]
pub struct PEdge {
    x1: i64,
    y1: i64,
    x2: i64,
    y2: i64,
    class: &'static str,
    title: String,
}

/// A Purdue band.
#[derive(Clone, Debug)]
pub struct Band {
    y: i64,
    h: i64,
    label: &'static str,
}

/// A laid-out map.
#[derive(Clone, Debug)]
pub struct Layout {
    w: i64,
    h: i64,
    bands: Vec<Band>,
    nodes: Vec<PNode>,
    edges: Vec<PEdge>,
}

fn band_of(t: DeviceType) -> usize {
    match t {
        DeviceType::Historian | DeviceType::Server | DeviceType::Workstation => 0,
        DeviceType::Hmi | DeviceType::ScadaServer | DeviceType::EngineeringStation => 1,
        DeviceType::Plc | DeviceType::Rtu | DeviceType::Controller => 2,
        _ => 3,
    }
}

const BANDS: [&str; 4] = [
    "Level 3 · Operations and IT",
    "Level 2 · Supervisory control",
    "Level 1 · Basic control",
    "Network devices and unclassified",
];

fn abbr(t: DeviceType) -> &'static str {
    match t {
        DeviceType::Plc => "PLC",
        DeviceType::Rtu => "RTU",
        DeviceType::Controller => "CTL",
        DeviceType::Hmi => "HMI",
        DeviceType::ScadaServer => "SCA",
        DeviceType::EngineeringStation => "ENG",
        DeviceType::Historian => "HIS",
        DeviceType::Server => "SRV",
        DeviceType::Workstation => "WS",
        DeviceType::NetworkDevice => "NET",
        DeviceType::Scanner => "SCN",
        DeviceType::Unknown => "?",
    }
}

fn kind_class(t: DeviceType) -> &'static str {
    match band_of(t) {
        0 => "n-it",
        1 => "n-sup",
        2 => "n-ctl",
        _ => "n-oth",
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Places nodes in their Purdue bands, in rows, sorted by label.
pub fn layout(nodes: Vec<MapNode>, edges: Vec<MapEdge>) -> Layout {
    let mut by_band: [Vec<MapNode>; 4] = Default::default();
    for n in nodes {
        if let Some(b) = by_band.get_mut(band_of(n.kind)) {
            b.push(n);
        }
    }
    let widest = by_band.iter().map(Vec::len).max().unwrap_or(0);
    let per_row = ((widest as f64 * 2.0).sqrt().ceil() as usize).clamp(6, 24).min(widest.max(1));
    let per_row = per_row.max(1);
    let mut placed: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut out_nodes = Vec::new();
    let mut bands = Vec::new();
    let mut y = MARGIN;
    for (i, band) in by_band.iter_mut().enumerate() {
        if band.is_empty() {
            continue;
        }
        band.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
        let rows = band.len().div_ceil(per_row) as i64;
        let h = BAND_HEAD + rows * ROW_H;
        bands.push(Band { y, h, label: BANDS.get(i).copied().unwrap_or("") });
        for (j, n) in band.iter().enumerate() {
            let col = (j % per_row) as i64;
            let row = (j / per_row) as i64;
            let x = MARGIN + COL_W / 2 + col * COL_W;
            let ny = y + BAND_HEAD + 26 + row * ROW_H;
            placed.insert(n.key.clone(), (x, ny));
            let mut class = format!("node {}", kind_class(n.kind));
            if n.alerts > 0 {
                class.push_str(" n-alert");
            }
            if n.highlight {
                class.push_str(" n-hl");
            }
            let title = format!(
                "{} ({}){}{}",
                n.label,
                n.kind,
                if n.sub.is_empty() { String::new() } else { format!(", {}", n.sub) },
                if n.alerts > 0 { format!(", {} open alerts", n.alerts) } else { String::new() }
            );
            out_nodes.push(PNode {
                x,
                y: ny,
                label: short(&n.label, 18),
                sub: short(&n.sub, 20),
                abbr: abbr(n.kind),
                class,
                href: n.href.clone(),
                alerts: n.alerts,
                title,
            });
        }
        y += h + 12;
    }
    // Connection ends the store did not link to a device are matched by address.
    let by_addr: BTreeMap<String, (i64, i64)> = by_band
        .iter()
        .flatten()
        .filter(|n| !n.sub.is_empty())
        .filter_map(|n| placed.get(&n.key).map(|p| (format!("a{}", n.sub), *p)))
        .collect();
    let find = |k: &str| placed.get(k).or_else(|| by_addr.get(k)).copied();
    let mut seen = BTreeSet::new();
    let mut out_edges = Vec::new();
    for e in edges {
        let (Some((x1, y1)), Some((x2, y2))) = (find(&e.a), find(&e.b)) else {
            continue;
        };
        let pair = if e.a < e.b { (e.a.clone(), e.b.clone()) } else { (e.b.clone(), e.a.clone()) };
        if !seen.insert((pair, e.hot)) {
            continue;
        }
        out_edges.push(PEdge {
            x1,
            y1,
            x2,
            y2,
            class: if e.hot { "edge edge-hot" } else { "edge" },
            title: e.label,
        });
    }
    // Hot edges last, so they are drawn on top.
    out_edges.sort_by_key(|e| e.class == "edge edge-hot");
    // Small maps keep a minimum canvas so a pair of devices is not blown up to the page width.
    let w = (MARGIN * 2 + per_row as i64 * COL_W).max(1000);
    Layout { w, h: y.max(420), bands, nodes: out_nodes, edges: out_edges }
}

#[derive(Template)]
#[template(path = "map_svg_partial.html")]
struct MapSvg<'a> {
    m: &'a Layout,
    label: &'a str,
}

/// The SVG of a layout.
pub fn svg(m: &Layout, label: &str) -> String {
    render_str(&MapSvg { m, label })
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    chrome: Chrome,
    svg: String,
    sites: Vec<Opt>,
    zones: Vec<Opt>,
    protocols: Vec<Opt>,
    shown: String,
    total: String,
    truncated: bool,
    empty: bool,
}

fn opts(values: Vec<String>, current: &str, any: &str) -> Vec<Opt> {
    let mut v = vec![Opt { value: String::new(), label: any.into(), selected: current.is_empty() }];
    v.extend(values.into_iter().filter(|s| !s.is_empty()).map(|s| Opt {
        selected: s == current,
        label: s.clone(),
        value: s,
    }));
    v
}

/// Open alerts per address among `ips` (as source or destination).
pub fn open_alerts_by_ip(
    s: &dyn otwatch_store::Store,
    ips: &[&str],
) -> otwatch_store::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    if ips.is_empty() {
        return Ok(out);
    }
    for chunk in ips.chunks(otwatch_store::query::MAX_FILTER_VALUES) {
        for f in [AlertField::SourceIp, AlertField::DestinationIp] {
            let q = AlertQuery {
                filters: vec![
                    Filter::any_of(f, chunk)?,
                    Filter::any_of(AlertField::Status, &["New", "Active"])?,
                ],
                ..AlertQuery::default()
            };
            for g in s.group_alerts(&q, f)? {
                *out.entry(g.value).or_default() += g.count;
            }
        }
    }
    Ok(out)
}

/// GET /map — the device map with site, zone and protocol filters.
pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Vec<(String, String)>>,
) -> WebResult {
    let get = |k: &str| {
        p.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
    };
    let (site, zone, protocol) = (get("site"), get("zone"), get("protocol"));
    let (s2, z2, p2) = (site.clone(), zone.clone(), protocol.clone());
    let loaded: ApiResult<_> = st
        .blocking(move |s| {
            let q = DeviceQuery {
                sites: if s2.is_empty() { vec![] } else { vec![s2.clone()] },
                zones: if z2.is_empty() { vec![] } else { vec![z2.clone()] },
                protocol: if p2.is_empty() { None } else { Some(p2.clone()) },
                limit: MAX_MAP_DEVICES,
                ..Default::default()
            };
            let devices = s.list_devices(&q)?;
            let total = s.count_devices(&q)?;
            let conns = s.list_connections(&ConnectionQuery {
                protocols: if p2.is_empty() { vec![] } else { vec![p2] },
                limit: MAX_MAP_CONNECTIONS,
                ..Default::default()
            })?;
            let all = DeviceQuery::default();
            let sites = s.group_devices(&all, DeviceGroup::Site)?;
            let zones = s.group_devices(&all, DeviceGroup::Zone)?;
            let mut protos: BTreeSet<String> = BTreeSet::new();
            for d in
                s.list_devices(&DeviceQuery { limit: MAX_MAP_DEVICES, ..Default::default() })?
            {
                protos.extend(d.protocols);
            }
            let ips: Vec<&str> = devices.iter().filter_map(|d| d.ip.as_deref()).collect();
            let alerts = open_alerts_by_ip(s, &ips)?;
            Ok((devices, total, conns, sites, zones, protos, alerts))
        })
        .await;
    let (devices, total, conns, sites, zones, protos, alerts) = loaded?;
    let nodes: Vec<MapNode> = devices
        .iter()
        .map(|d| {
            let n = d.ip.as_deref().and_then(|ip| alerts.get(ip)).copied().unwrap_or(0);
            MapNode::of_device(d, n)
        })
        .collect();
    let edges = conns.iter().map(MapEdge::of_connection).collect();
    let m = layout(nodes, edges);
    let page = MapPage {
        chrome: ctx.chrome("map", "Device map"),
        svg: svg(&m, "Device map"),
        sites: opts(sites.into_iter().map(|g| g.value).collect(), &site, "All sites"),
        zones: opts(zones.into_iter().map(|g| g.value).collect(), &zone, "All zones"),
        protocols: opts(protos.into_iter().collect(), &protocol, "All protocols"),
        shown: count(devices.len() as u64),
        total: count(total),
        truncated: total > devices.len() as u64,
        empty: devices.is_empty(),
    };
    Ok(ctx.render(&page))
}
