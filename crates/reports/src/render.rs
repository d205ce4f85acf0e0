//! Rendering a table: terminal, JSON (one array of flat objects) or CSV.

use serde_json::Value;

use crate::Table;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Renders `table` in `format`, ending with a newline.
pub fn render(table: &Table, format: Format) -> String {
    match format {
        Format::Json => {
            let objects: Vec<Value> = table.objects().into_iter().map(Value::Object).collect();
            format!("{}\n", Value::Array(objects))
        }
        Format::Csv => {
            let mut out = table.columns.join(",");
            out.push('\n');
            for row in &table.rows {
                let cells: Vec<String> = row.iter().map(|cell| csv_cell(&text(cell))).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
            out
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = table.rows.iter().map(|row| row.iter().map(text).collect()).collect();
            let widths: Vec<usize> = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    cells.iter().map(|row| row[i].chars().count()).chain([column.len()]).max().unwrap_or(0)
                })
                .collect();
            let mut out = String::new();
            let line = |values: Vec<&str>, out: &mut String| {
                let padded: Vec<String> = values
                    .iter()
                    .zip(&widths)
                    .map(|(value, width)| format!("{value:<width$}", width = *width))
                    .collect();
                out.push_str(padded.join("  ").trim_end());
                out.push('\n');
            };
            line(table.columns.clone(), &mut out);
            for row in &cells {
                line(row.iter().map(String::as_str).collect(), &mut out);
            }
            if table.rows.is_empty() {
                out.push_str("(no rows)\n");
            }
            out
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(" > "),
        other => other.to_string(),
    }
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Table {
        Table {
            columns: vec!["appeal", "forwards", "cycle", "path"],
            rows: vec![vec![json!("A-1"), json!(2), json!(true), json!(["a", "b", "a"])]],
        }
    }

    #[test]
    fn json_is_one_array_of_objects_keyed_by_column() {
        let parsed: Value = serde_json::from_str(&render(&sample(), Format::Json)).expect("json");
        assert_eq!(parsed, json!([{"appeal": "A-1", "forwards": 2, "cycle": true, "path": ["a", "b", "a"]}]));
    }

    #[test]
    fn csv_quotes_and_flattens() {
        let mut table = sample();
        table.rows[0][0] = json!("A,1");
        assert_eq!(render(&table, Format::Csv), "appeal,forwards,cycle,path\n\"A,1\",2,true,a > b > a\n");
    }

    #[test]
    fn table_aligns_columns() {
        let out = render(&sample(), Format::Table);
        assert_eq!(out, "appeal  forwards  cycle  path\nA-1     2         true   a > b > a\n");
    }
}
