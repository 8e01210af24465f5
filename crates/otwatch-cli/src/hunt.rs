//! `otwatch hunt QUERY`: run a KQL query over Alerts, Devices, Connections and Events.

use std::io::{Read, Write};

use anyhow::{Result, bail};

use otwatch_query::RunOptions;
use otwatch_server::hunt::{result_json, run, value_text};

use crate::context::{Ctx, now};
use crate::output::{Format, SafeCsv, table_as_is};

/// Runs the query and prints it; returns false when the query was refused.
pub fn command(
    ctx: &Ctx,
    query: &str,
    format: Format,
    limit: Option<usize>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<bool> {
    let text = if query == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        query.to_string()
    };
    if text.trim().is_empty() {
        bail!("write a query, e.g. otwatch hunt 'Alerts | take 10'");
    }
    let mut opts = RunOptions::new(now().0);
    opts.max_rows = limit.unwrap_or(ctx.config.hunt.row_limit).clamp(1, ctx.config.hunt.row_limit);
    opts.time_limit = std::time::Duration::from_micros(ctx.config.hunt.time_limit as u64);
    let r = match run(ctx.store.as_ref(), &text, &opts) {
        Ok(r) => r,
        Err(e) => {
            write!(err, "{}", e.render(&text))?;
            return Ok(false);
        }
    };
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&result_json(&r))?)?,
        Format::Csv => {
            let mut w = SafeCsv::new(out);
            w.row(&r.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())?;
            for row in &r.rows {
                w.row(&row.iter().map(value_text).collect::<Vec<_>>())?;
            }
            w.finish()?;
        }
        Format::Table => {
            let header: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
            let rows: Vec<Vec<String>> =
                r.rows.iter().map(|row| row.iter().map(value_text).collect()).collect();
            table_as_is(out, &header, &rows)?;
            writeln!(
                out,
                "{} row(s){}{}",
                r.rows.len(),
                if r.truncated {
                    format!(" (truncated at {}; raise --limit or hunt.row_limit)", opts.max_rows)
                } else {
                    String::new()
                },
                r.render.as_deref().map(|k| format!("; render {k}")).unwrap_or_default()
            )?;
        }
    }
    Ok(true)
}
