//! `otwatch alerts …`: list, show, triage, comment and export alerts.

use std::io::Write;

use anyhow::{Result, bail};

use otwatch_model::lifecycle::Action;
use otwatch_model::{Alert, AlertField, AlertId, Severity, Status, Timestamp};
use otwatch_store::{AlertQuery, Cursor, Filter, Sort, TimeRange};

use crate::context::{Ctx, cli_actor, now};
use crate::output::{Format, SafeCsv, table};

/// Filters shared by list, export and aggregated.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct FilterArgs {
    /// Severity (Critical, Major, Minor, Warning; or High, Medium, Low). Repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<String>,
    /// Status (New, Active, Closed).
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Engine (Policy Violation, Protocol Violation, Malware, Anomaly, Operational, Micro-agent).
    #[arg(long, value_delimiter = ',')]
    pub engine: Vec<String>,
    /// Alert type id (see `otwatch catalog`).
    #[arg(long = "type", value_delimiter = ',')]
    pub alert_type: Vec<String>,
    /// Category.
    #[arg(long, value_delimiter = ',')]
    pub category: Vec<String>,
    /// Site.
    #[arg(long, value_delimiter = ',')]
    pub site: Vec<String>,
    /// Zone.
    #[arg(long, value_delimiter = ',')]
    pub zone: Vec<String>,
    /// Sensor.
    #[arg(long, value_delimiter = ',')]
    pub sensor: Vec<String>,
    /// Alert protocol.
    #[arg(long, value_delimiter = ',')]
    pub protocol: Vec<String>,
    /// Source IP address.
    #[arg(long, value_delimiter = ',')]
    pub source: Vec<String>,
    /// Destination IP address.
    #[arg(long, value_delimiter = ',')]
    pub destination: Vec<String>,
    /// Any column: FIELD=V1,V2 (equals one of), FIELD!=V (none of), FIELD~TEXT (contains),
    /// FIELD>=V or FIELD<=V (range). Repeatable. Fields: see `otwatch alerts list --help`.
    #[arg(long = "filter", value_name = "EXPR")]
    pub filters: Vec<String>,
    /// Free-text search over names, addresses, protocol, sensor, site and zone.
    #[arg(long)]
    pub search: Option<String>,
    /// Last detection at or after: a time (2024-03-02T10:00:00Z, 2024-03-02) or an age (24h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Last detection before: a time or an age.
    #[arg(long)]
    pub until: Option<String>,
}

fn time_arg(text: &str, now: Timestamp, flag: &str) -> Result<Timestamp> {
    if let Ok(us) = otwatch_model::time::parse_duration(text) {
        return Ok(Timestamp(now.0 - us));
    }
    Timestamp::parse(text).map_err(|e| anyhow::anyhow!("{flag}: {e} (or an age such as 24h)"))
}

impl FilterArgs {
    /// Builds a store query (default sort and page).
    pub fn query(&self) -> Result<AlertQuery> {
        let mut q = AlertQuery::default();
        let lists: [(&Vec<String>, AlertField); 11] = [
            (&self.severity, AlertField::Severity),
            (&self.status, AlertField::Status),
            (&self.engine, AlertField::Engine),
            (&self.alert_type, AlertField::Type),
            (&self.category, AlertField::Category),
            (&self.site, AlertField::Site),
            (&self.zone, AlertField::Zone),
            (&self.sensor, AlertField::Sensor),
            (&self.protocol, AlertField::Protocol),
            (&self.source, AlertField::SourceIp),
            (&self.destination, AlertField::DestinationIp),
        ];
        for (vals, field) in lists {
            if !vals.is_empty() {
                let v: Vec<&str> = vals.iter().map(|s| s.trim()).collect();
                q.filters.push(Filter::any_of(field, &v)?);
            }
        }
        for expr in &self.filters {
            q.filters.push(parse_filter(expr)?);
        }
        q.search = self.search.clone();
        let n = now();
        let from = self.since.as_deref().map(|s| time_arg(s, n, "--since")).transpose()?;
        let to = self.until.as_deref().map(|s| time_arg(s, n, "--until")).transpose()?;
        if from.is_some() || to.is_some() {
            q.time = Some(TimeRange { field: AlertField::LastDetection, from, to });
        }
        Ok(q)
    }
}

/// Parses `field=a,b`, `field!=a`, `field~text`, `field>=v`, `field<=v`.
pub fn parse_filter(expr: &str) -> Result<Filter> {
    for (op, kind) in [("!=", 1), (">=", 2), ("<=", 3), ("=", 0), ("~", 4)] {
        if let Some((f, v)) = expr.split_once(op) {
            let field = AlertField::parse(f)?;
            let vals: Vec<&str> = v.split(',').map(str::trim).collect();
            return Ok(match kind {
                0 => Filter::any_of(field, &vals)?,
                1 => Filter::none_of(field, &vals)?,
                2 => Filter::range(field, Some(v.trim()), None)?,
                3 => Filter::range(field, None, Some(v.trim()))?,
                _ => Filter::contains(field, v)?,
            });
        }
    }
    bail!(
        "--filter {expr:?}: expected FIELD=VALUES, FIELD!=VALUES, FIELD~TEXT, FIELD>=V or FIELD<=V"
    )
}

/// `alerts list`.
#[derive(Clone, Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Sort: a column, `-column` for descending, or `column:asc|desc`. Default: -last_detection.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Count alerts per value of a column instead of listing them (engine, name, sensor, severity, site, zone, status, category, protocol, type…).
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Columns to show (comma-separated keys). Default: the Alerts grid's default columns.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Rows per page.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long)]
    pub after: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn columns(keys: &[String]) -> Result<Vec<AlertField>> {
    if keys.is_empty() {
        let mut c = vec![AlertField::Id];
        c.extend_from_slice(AlertField::DEFAULT_COLUMNS);
        return Ok(c);
    }
    keys.iter().map(|k| AlertField::parse(k).map_err(anyhow::Error::from)).collect()
}

/// Runs `alerts list`.
pub fn list(ctx: &Ctx, a: &ListArgs, out: &mut dyn Write) -> Result<()> {
    let mut q = a.filter.query()?;
    if let Some(s) = &a.sort {
        q.sort = Sort::parse(s)?;
    }
    if let Some(g) = &a.group_by {
        let field = AlertField::parse(g)?;
        let groups = ctx.store.group_alerts(&q, field)?;
        let total: u64 = groups.iter().map(|g| g.count).sum();
        match a.format {
            Format::Json => {
                let v: Vec<_> = groups
                    .iter()
                    .map(|g| serde_json::json!({"value": g.value, "count": g.count}))
                    .collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"group_by": field.key(), "total": total, "groups": v})
                    )?
                )?;
            }
            Format::Csv => {
                let mut w = SafeCsv::new(out);
                w.row(&[field.label(), "Count"])?;
                for g in &groups {
                    w.row(&[g.value.clone(), g.count.to_string()])?;
                }
                w.finish()?;
            }
            Format::Table => {
                let rows: Vec<Vec<String>> = groups
                    .iter()
                    .map(|g| {
                        vec![
                            if g.value.is_empty() { "(none)".into() } else { g.value.clone() },
                            g.count.to_string(),
                        ]
                    })
                    .collect();
                table(out, &[field.label(), "count"], &rows)?;
                writeln!(out, "{total} alerts in {} groups", groups.len())?;
            }
        }
        return Ok(());
    }
    q.limit = a.limit;
    q.after = a.after.as_deref().map(Cursor::decode).transpose()?;
    let cols = columns(&a.columns)?;
    let page = ctx.store.list_alerts(&q)?;
    match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&page.items)?)?,
        Format::Csv => write_csv(out, &cols, page.items.iter())?,
        Format::Table => {
            let total = ctx.store.count_alerts(&q)?;
            let rows: Vec<Vec<String>> = page
                .items
                .iter()
                .map(|al| cols.iter().map(|c| al.field_text(*c)).collect())
                .collect();
            let header: Vec<&str> = cols.iter().map(|c| c.label()).collect();
            table(out, &header, &rows)?;
            writeln!(out, "{} of {total} alerts", page.items.len())?;
            if let Some(n) = &page.next {
                writeln!(out, "next page: --after {}", n.encode())?;
            }
        }
    }
    Ok(())
}

fn write_csv<'a>(
    out: &mut dyn Write,
    cols: &[AlertField],
    alerts: impl Iterator<Item = &'a Alert>,
) -> Result<()> {
    let mut w = SafeCsv::new(out);
    w.row(&cols.iter().map(|c| c.label()).collect::<Vec<_>>())?;
    for a in alerts {
        w.row(&cols.iter().map(|c| a.field_text(*c)).collect::<Vec<_>>())?;
    }
    w.finish()
}

/// `alerts export`.
#[derive(Clone, Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Sort, as for list.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Columns (comma-separated keys). Default: every column.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Format (csv or json lines).
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write to a file instead of standard output.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// RFC 4180 CSV.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Runs `alerts export`, streaming every matching alert.
pub fn export(ctx: &Ctx, a: &ExportArgs, stdout: &mut dyn Write) -> Result<u64> {
    let mut q = a.filter.query()?;
    if let Some(s) = &a.sort {
        q.sort = Sort::parse(s)?;
    }
    let cols = if a.columns.is_empty() { AlertField::ALL.to_vec() } else { columns(&a.columns)? };
    let mut file;
    let out: &mut dyn Write = match &a.output {
        Some(p) => {
            file = std::io::BufWriter::new(std::fs::File::create(p)?);
            &mut file
        }
        None => stdout,
    };
    let n = match a.format {
        ExportFormat::Csv => {
            let mut w = SafeCsv::new(out);
            w.row(&cols.iter().map(|c| c.label()).collect::<Vec<_>>())?;
            let n = ctx.store.for_each_alert(&q, &mut |al| {
                w.row(&cols.iter().map(|c| al.field_text(*c)).collect::<Vec<_>>()).map_err(|e| {
                    otwatch_store::StoreError::Backend(format!("writing the export: {e}"))
                })
            })?;
            w.finish()?;
            n
        }
        ExportFormat::Jsonl => ctx.store.for_each_alert(&q, &mut |al| {
            serde_json::to_writer(&mut *out, al).map_err(|e| {
                otwatch_store::StoreError::Backend(format!("writing the export: {e}"))
            })?;
            out.write_all(b"\n")
                .map_err(|e| otwatch_store::StoreError::Backend(format!("writing the export: {e}")))
        })?,
    };
    Ok(n)
}

/// Runs `alerts show`.
pub fn show(ctx: &Ctx, id: i64, json: bool, out: &mut dyn Write) -> Result<()> {
    let d = ctx.store.alert_details(AlertId(id))?;
    if json {
        let v = serde_json::json!({
            "alert": d.alert,
            "comments": d.comments,
            "history": d.history,
            "mitre": {
                "tactics": d.alert.tactics.iter().map(|t| serde_json::json!({"id": t.id(), "name": t.as_str(), "url": t.url()})).collect::<Vec<_>>(),
                "techniques": d.alert.techniques.iter().map(|t| serde_json::json!({"id": t.id(), "name": t.name(), "url": t.url()})).collect::<Vec<_>>(),
            },
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let a = &d.alert;
    let ep = |e: &otwatch_model::Endpoint| {
        let mut parts = vec![];
        if let Some(n) = &e.name {
            parts.push(n.clone());
        }
        if let Some(i) = &e.ip {
            parts.push(i.clone());
        }
        if let Some(m) = &e.mac {
            parts.push(m.clone());
        }
        if parts.is_empty() { "-".to_string() } else { parts.join("  ") }
    };
    writeln!(out, "Alert {}: {}", a.id, a.name)?;
    writeln!(
        out,
        "  Severity      {} ({} / CEF {})",
        a.severity,
        a.severity.portal().as_str(),
        a.severity.cef()
    )?;
    writeln!(
        out,
        "  Status        {}{}",
        a.status,
        if a.disposition == otwatch_model::Disposition::None {
            String::new()
        } else {
            format!(" ({})", a.disposition)
        }
    )?;
    writeln!(
        out,
        "  Engine        {}   Category: {}   Type: {}",
        a.engine, a.category, a.alert_type
    )?;
    writeln!(out, "  Source        {}", ep(&a.source))?;
    writeln!(out, "  Destination   {}", ep(&a.destination))?;
    writeln!(out, "  Protocol      {}", a.protocol.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "  Sensor        {}   Site: {}   Zone: {}",
        a.sensor.as_deref().unwrap_or("-"),
        a.site.as_deref().unwrap_or("-"),
        a.zone.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "  Detected      {} … {} ({} occurrence{})",
        a.first_detection,
        a.last_detection,
        a.occurrence_count,
        if a.occurrence_count == 1 { "" } else { "s" }
    )?;
    writeln!(out, "  Last activity {}", a.last_activity)?;
    if a.suppressed_count > 0 {
        writeln!(out, "  Suppressed    {} later sightings", a.suppressed_count)?;
    }
    writeln!(out, "  Learnable: {}   Mutable: {}", a.learnable, a.mutable)?;
    writeln!(out, "\n{}\n", a.description)?;
    writeln!(out, "MITRE ATT&CK for ICS")?;
    for t in &a.tactics {
        writeln!(out, "  tactic    {} {}  {}", t.id(), t.as_str(), t.url())?;
    }
    for t in &a.techniques {
        writeln!(out, "  technique {} {}  {}", t.id(), t.name(), t.url())?;
    }
    writeln!(out, "\nRemediation")?;
    for (i, s) in a.remediation.iter().enumerate() {
        writeln!(out, "  {}. {s}", i + 1)?;
    }
    if !a.details.is_empty() {
        writeln!(out, "\nDetails")?;
        for (k, v) in &a.details {
            writeln!(out, "  {k}: {v}")?;
        }
    }
    if !d.comments.is_empty() {
        writeln!(out, "\nComments")?;
        for c in &d.comments {
            writeln!(out, "  {} {}: {}", c.at, c.author, c.text)?;
        }
    }
    if !d.history.is_empty() {
        writeln!(out, "\nHistory")?;
        for h in &d.history {
            writeln!(
                out,
                "  {} {} ({}): {}",
                h.at,
                h.actor.name,
                h.actor.kind,
                if h.summary.is_empty() { &h.action } else { &h.summary }
            )?;
        }
    }
    Ok(())
}

/// Applies one action to many alerts; prints one line per alert. Returns
/// whether every alert accepted it.
pub fn act(ctx: &Ctx, ids: &[i64], actions: &[Action], out: &mut dyn Write) -> Result<bool> {
    if ids.is_empty() {
        bail!("give at least one alert id");
    }
    let ids: Vec<AlertId> = ids.iter().map(|i| AlertId(*i)).collect();
    let mut all_ok = true;
    let actor = cli_actor();
    for action in actions {
        for o in ctx.store.apply(&ids, action, &actor, now())? {
            match o.result {
                Ok(true) => writeln!(out, "alert {}: {}", o.id, action.verb().replace('_', " "))?,
                Ok(false) => writeln!(out, "alert {}: unchanged (already so)", o.id)?,
                Err(e) => {
                    all_ok = false;
                    writeln!(out, "error: {e}")?;
                }
            }
        }
    }
    Ok(all_ok)
}

/// Builds the actions of `alerts set`.
pub fn set_actions(status: Option<&str>, severity: Option<&str>) -> Result<Vec<Action>> {
    let mut v = Vec::new();
    if let Some(s) = status {
        v.push(Action::SetStatus(Status::parse(s)?));
    }
    if let Some(s) = severity {
        v.push(Action::SetSeverity(Severity::parse(s)?));
    }
    if v.is_empty() {
        bail!("give --status and/or --severity");
    }
    Ok(v)
}

/// Runs `alerts aggregated`.
pub fn aggregated(
    ctx: &Ctx,
    f: &FilterArgs,
    period: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let period_us = otwatch_model::time::parse_duration(period)
        .map_err(|e| anyhow::anyhow!("--period: {e}"))?;
    let q = f.query()?;
    let rows = ctx.store.aggregate_alerts(&q, period_us)?;
    match format {
        Format::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "type": r.alert_type, "name": r.name, "engine": r.engine, "severity": r.severity,
                        "period_start": r.period_start, "alerts": r.alerts, "occurrences": r.occurrences,
                        "first_detection": r.first_detection, "last_detection": r.last_detection,
                        "devices": r.devices, "alert_ids": r.alert_ids,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        _ => {
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.period_start.to_string(),
                        r.name.clone(),
                        r.severity.to_string(),
                        r.alerts.to_string(),
                        r.occurrences.to_string(),
                        format!("{} device(s): {}", r.devices.len(), r.devices.join(", ")),
                    ]
                })
                .collect();
            table(out, &["period", "name", "severity", "alerts", "occurrences", "devices"], &rows)?;
        }
    }
    Ok(())
}

/// `otwatch alerts pcap ID`: the alert's PCAP evidence (the triggering
/// packets and some before and after them) to `file`, or to standard output
/// when it is not a terminal.
pub fn pcap(ctx: &Ctx, id: i64, file: Option<&std::path::Path>, out: &mut dyn Write) -> Result<()> {
    ctx.store.alert(AlertId(id))?;
    let Some(bytes) = ctx.store.alert_pcap(AlertId(id))? else {
        bail!(
            "alert {id} has no PCAP evidence (alerts ingested from outside sources have none, \
             and the oldest evidence goes when retention.pcap_max_bytes is reached)"
        );
    };
    match file {
        Some(p) => std::fs::write(p, &bytes)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?,
        None => {
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                bail!(
                    "the PCAP is binary: redirect it (otwatch alerts pcap {id} > alert-{id}.pcap) or use --out FILE"
                );
            }
            out.write_all(&bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_expressions() {
        assert!(
            matches!(parse_filter("severity=High,Major").unwrap().op, otwatch_store::FilterOp::In(ref v) if v.len() == 2)
        );
        assert!(matches!(
            parse_filter("status!=Closed").unwrap().op,
            otwatch_store::FilterOp::NotIn(_)
        ));
        assert!(matches!(
            parse_filter("name~scan").unwrap().op,
            otwatch_store::FilterOp::Contains(_)
        ));
        assert!(matches!(
            parse_filter("occurrence_count>=3").unwrap().op,
            otwatch_store::FilterOp::Range { .. }
        ));
        let e = parse_filter("sevrity=High").unwrap_err().to_string();
        assert!(e.contains("unknown alert column"), "{e}");
        assert!(parse_filter("nonsense").is_err());
    }
}
