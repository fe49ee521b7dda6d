//! Markdown tables, as group and ensemble summaries and reports write them (tabled's GitHub
//! style, columns padded to line up).

/// A table of `header` and `rows`.
pub fn markdown_table<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut table = tabled::builder::Builder::default();
    table.push_record(header.iter().copied());
    for row in rows {
        table.push_record(row.iter().map(AsRef::as_ref));
    }
    table
        .build()
        .with(tabled::settings::Style::markdown())
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_table_has_a_header_a_rule_and_its_rows_in_order() {
        let md = super::markdown_table(
            &["name", "acc %"],
            &[vec!["xavier", "97.80"], vec!["nn", "94.50"]],
        );
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 4, "{md}");
        let cells = |l: &str| -> Vec<String> {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        };
        assert_eq!(cells(lines[0]), ["name", "acc %"]);
        assert!(
            lines[1].chars().all(|c| matches!(c, '|' | '-' | ':')),
            "{md}"
        );
        assert_eq!(cells(lines[2]), ["xavier", "97.80"]);
        assert_eq!(cells(lines[3]), ["nn", "94.50"]);
        // Columns line up: every line is as long as the header's.
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{md}");
    }
}
