//! Output formats shared by list commands: aligned tables, JSON and CSV.

use std::io::Write;

use anyhow::Result;

use otwatch_model::spreadsheet_safe;

/// How a list is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// A JSON array (one object per row), for scripts.
    Json,
    /// RFC 4180 CSV with a header row, safe to open in a spreadsheet.
    Csv,
}

/// Longest cell printed in a table before it is cut with "…".
const MAX_CELL: usize = 48;

fn cut(s: &str) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= MAX_CELL {
        s
    } else {
        let mut t: String = s.chars().take(MAX_CELL - 1).collect();
        t.push('…');
        t
    }
}

/// Prints rows as an aligned table.
pub fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
    table_as_is(out, &upper, rows)
}

/// [`table`] with the header printed as given (hunting results: KQL column
/// names are case-sensitive, so they are shown as a query must write them).
pub fn table_as_is(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>()))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

/// A CSV writer whose cells are neutralised against formula injection.
pub struct SafeCsv<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsv<W> {
    /// Wraps a writer; RFC 4180 quoting, CRLF line ends.
    pub fn new(w: W) -> SafeCsv<W> {
        SafeCsv {
            inner: csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(w),
        }
    }

    /// Writes one record.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<()> {
        self.inner.write_record(cells.iter().map(|c| spreadsheet_safe(c.as_ref()).into_owned()))?;
        Ok(())
    }

    /// Flushes.
    pub fn finish(mut self) -> Result<()> {
        self.inner.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_neutralises() {
        let mut buf = Vec::new();
        let mut w = SafeCsv::new(&mut buf);
        w.row(&["a,b", "=1+1", "say \"hi\"", "line\nbreak"]).unwrap();
        w.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "\"a,b\",'=1+1,\"say \"\"hi\"\"\",\"line\nbreak\"\r\n"
        );
    }

    #[test]
    fn tables_align_and_cut() {
        let mut buf = Vec::new();
        table(
            &mut buf,
            &["id", "name"],
            &[vec!["1".into(), "x".repeat(60)], vec!["22".into(), "b".into()]],
        )
        .unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "ID  NAME");
        assert!(lines[1].ends_with('…') && lines[1].chars().count() == 4 + MAX_CELL);
        assert_eq!(lines[2], "22  b");
    }
}
