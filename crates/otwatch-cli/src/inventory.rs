//! `otwatch devices list` and `otwatch connections list`: the inventory as tables, JSON or CSV.

use std::io::Write;

use anyhow::Result;

use otwatch_model::{Connection, Device, DeviceType};
use otwatch_store::{ConnectionQuery, DeviceGroup, DeviceQuery, query::MAX_PAGE};

use crate::context::Ctx;
use crate::output::{Format, SafeCsv, table};

/// `otwatch devices …`
#[derive(Debug, clap::Subcommand)]
pub enum DevicesCmd {
    /// List devices (most recently seen first), or count them per value with --group-by.
    List(DeviceArgs),
}

/// `otwatch connections …`
#[derive(Debug, clap::Subcommand)]
pub enum ConnectionsCmd {
    /// List connections between devices (most recently seen first).
    List(ConnectionArgs),
}

/// Filters and output of `devices list`.
#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// Device type, e.g. PLC, HMI, "Engineering Station" (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    pub device_type: Vec<String>,
    /// Vendor (exact; repeatable).
    #[arg(long)]
    pub vendor: Vec<String>,
    /// Site (repeatable).
    #[arg(long)]
    pub site: Vec<String>,
    /// Zone (repeatable).
    #[arg(long)]
    pub zone: Vec<String>,
    /// Only OT devices.
    #[arg(long, conflicts_with = "it")]
    pub ot: bool,
    /// Only IT devices.
    #[arg(long)]
    pub it: bool,
    /// Speaks this protocol (e.g. Modbus, S7comm, EtherNet/IP, DNP3, IEC-104, BACnet).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Free text over name, addresses, vendor, model, firmware, type and protocols.
    #[arg(long)]
    pub search: Option<String>,
    /// Count devices per type, vendor, site, zone or ot.
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Most rows printed.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// table, json or csv.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Filters and output of `connections list`.
#[derive(Debug, clap::Args)]
pub struct ConnectionArgs {
    /// Either end has this address (IP or MAC).
    #[arg(long)]
    pub address: Option<String>,
    /// Either end is this device id.
    #[arg(long)]
    pub device: Option<i64>,
    /// Application protocol (repeatable).
    #[arg(long)]
    pub protocol: Vec<String>,
    /// Transport: tcp, udp, icmp, or a link-layer name.
    #[arg(long)]
    pub transport: Option<String>,
    /// Most rows printed.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// table, json or csv.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn types(names: &[String]) -> Result<Vec<String>> {
    names.iter().map(|n| Ok(DeviceType::parse(n)?.as_str().to_string())).collect::<Result<Vec<_>>>()
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn time(t: otwatch_model::Timestamp) -> String {
    let s = t.to_string();
    // Seconds are enough in a table: 2024-03-02T10:00:00Z.
    match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s,
    }
}

fn device_json(d: &Device) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "name": d.name,
        "ip": d.ip,
        "mac": d.mac,
        "vendor": d.vendor,
        "model": d.model,
        "firmware": d.firmware,
        "serial": d.serial,
        "type": d.device_type.as_str(),
        "ot": d.is_ot,
        "protocols": d.protocols,
        "vlan": d.vlan,
        "sensor": d.sensor,
        "site": d.site,
        "zone": d.zone,
        "first_seen": d.first_seen.to_string(),
        "last_seen": d.last_seen.to_string(),
        "authorized": d.authorized,
        "programming_device": d.programming_device,
        "scanner": d.scanner,
        "details": d.details,
    })
}

/// `devices list`.
pub fn devices(ctx: &Ctx, a: &DeviceArgs, out: &mut dyn Write) -> Result<()> {
    let q = DeviceQuery {
        search: a.search.clone(),
        device_types: types(&a.device_type)?,
        vendors: a.vendor.clone(),
        sites: a.site.clone(),
        zones: a.zone.clone(),
        is_ot: if a.ot {
            Some(true)
        } else if a.it {
            Some(false)
        } else {
            None
        },
        protocol: a.protocol.clone(),
        limit: a.limit.clamp(1, MAX_PAGE),
        offset: 0,
    };
    if let Some(g) = &a.group_by {
        let by = DeviceGroup::parse(g)?;
        let groups = ctx.store.group_devices(&q, by)?;
        match a.format {
            Format::Json => {
                let v: Vec<_> = groups
                    .iter()
                    .map(|g| serde_json::json!({"value": g.value, "count": g.count}))
                    .collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"group_by": g, "groups": v}))?
                )?;
            }
            Format::Csv => {
                let mut w = SafeCsv::new(out);
                w.row(&[g.as_str(), "count"])?;
                for x in &groups {
                    w.row(&[x.value.clone(), x.count.to_string()])?;
                }
                w.finish()?;
            }
            Format::Table => {
                let rows: Vec<Vec<String>> = groups
                    .iter()
                    .map(|x| {
                        let v =
                            if x.value.is_empty() { "(none)".to_string() } else { x.value.clone() };
                        vec![v, x.count.to_string()]
                    })
                    .collect();
                table(out, &[g.as_str(), "devices"], &rows)?;
            }
        }
        return Ok(());
    }
    let mut list = ctx.store.list_devices(&q)?;
    let total = ctx.store.count_devices(&q)?;
    // OT first, then by address: easier to read than "most recently seen".
    if a.format == Format::Table {
        list.sort_by(|x, y| {
            (!x.is_ot, ip_sort_key(&x.ip), x.mac.clone()).cmp(&(
                !y.is_ot,
                ip_sort_key(&y.ip),
                y.mac.clone(),
            ))
        });
    }
    match a.format {
        Format::Json => {
            let v: Vec<_> = list.iter().map(device_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Csv => {
            let mut w = SafeCsv::new(out);
            w.row(&[
                "id",
                "name",
                "ip",
                "mac",
                "vendor",
                "model",
                "firmware",
                "serial",
                "type",
                "ot",
                "protocols",
                "vlan",
                "site",
                "zone",
                "first_seen",
                "last_seen",
            ])?;
            for d in &list {
                w.row(&[
                    d.id.to_string(),
                    opt(&d.name),
                    opt(&d.ip),
                    opt(&d.mac),
                    opt(&d.vendor),
                    opt(&d.model),
                    opt(&d.firmware),
                    opt(&d.serial),
                    d.device_type.as_str().to_string(),
                    if d.is_ot { "OT".into() } else { "IT".into() },
                    d.protocols.join(";"),
                    d.vlan.map(|v| v.to_string()).unwrap_or_default(),
                    opt(&d.site),
                    opt(&d.zone),
                    d.first_seen.to_string(),
                    d.last_seen.to_string(),
                ])?;
            }
            w.finish()?;
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    vec![
                        d.id.to_string(),
                        opt(&d.ip),
                        opt(&d.mac),
                        d.device_type.as_str().to_string(),
                        if d.is_ot { "OT".into() } else { "IT".into() },
                        opt(&d.vendor),
                        [opt(&d.model), opt(&d.firmware)]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" "),
                        d.protocols.join(", "),
                        opt(&d.name),
                        time(d.last_seen),
                    ]
                })
                .collect();
            table(
                out,
                &[
                    "id",
                    "ip",
                    "mac",
                    "type",
                    "ot/it",
                    "vendor",
                    "model/firmware",
                    "protocols",
                    "name",
                    "last seen",
                ],
                &rows,
            )?;
            writeln!(out, "{} of {total} devices", list.len())?;
        }
    }
    Ok(())
}

fn ip_sort_key(ip: &Option<String>) -> (u8, Vec<u16>) {
    match ip.as_deref().and_then(|s| s.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V4(a)) => (0, a.octets().iter().map(|o| u16::from(*o)).collect()),
        Some(std::net::IpAddr::V6(a)) => (1, a.segments().to_vec()),
        None => (2, Vec::new()),
    }
}

fn connection_json(c: &Connection) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "src": c.src,
        "dst": c.dst,
        "src_device_id": c.src_device_id,
        "dst_device_id": c.dst_device_id,
        "transport": c.transport,
        "dst_port": c.dst_port,
        "protocol": c.protocol,
        "packets": c.packets,
        "bytes": c.bytes,
        "first_seen": c.first_seen.to_string(),
        "last_seen": c.last_seen.to_string(),
        "sensor": c.sensor,
        "site": c.site,
        "zone": c.zone,
    })
}

/// `connections list`.
pub fn connections(ctx: &Ctx, a: &ConnectionArgs, out: &mut dyn Write) -> Result<()> {
    let q = ConnectionQuery {
        device_id: a.device,
        address: a.address.clone(),
        protocols: a.protocol.clone(),
        transport: a.transport.clone(),
        from: None,
        to: None,
        limit: a.limit.clamp(1, MAX_PAGE),
        offset: 0,
    };
    let mut list = ctx.store.list_connections(&q)?;
    match a.format {
        Format::Json => {
            let v: Vec<_> = list.iter().map(connection_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Csv => {
            let mut w = SafeCsv::new(out);
            w.row(&[
                "id",
                "src",
                "dst",
                "transport",
                "dst_port",
                "protocol",
                "packets",
                "bytes",
                "first_seen",
                "last_seen",
            ])?;
            for c in &list {
                w.row(&[
                    c.id.to_string(),
                    c.src.clone(),
                    c.dst.clone(),
                    c.transport.clone(),
                    c.dst_port.map(|p| p.to_string()).unwrap_or_default(),
                    opt(&c.protocol),
                    c.packets.to_string(),
                    c.bytes.to_string(),
                    c.first_seen.to_string(),
                    c.last_seen.to_string(),
                ])?;
            }
            w.finish()?;
        }
        Format::Table => {
            list.sort_by(|x, y| y.packets.cmp(&x.packets).then(x.id.cmp(&y.id)));
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.src.clone(),
                        c.dst.clone(),
                        c.transport.clone(),
                        c.dst_port.map(|p| p.to_string()).unwrap_or_default(),
                        opt(&c.protocol),
                        c.packets.to_string(),
                        c.bytes.to_string(),
                        time(c.first_seen),
                        time(c.last_seen),
                    ]
                })
                .collect();
            table(
                out,
                &[
                    "client",
                    "server",
                    "transport",
                    "port",
                    "protocol",
                    "packets",
                    "bytes",
                    "first seen",
                    "last seen",
                ],
                &rows,
            )?;
            writeln!(out, "{} connections", list.len())?;
        }
    }
    Ok(())
}
