//! Markdown tables padded to line up in a terminal, so that the output pastes into docs/performance.md as it is.

pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.headers.len(), "row width");
        self.rows.push(cells);
    }

    /// The first column left-aligned, the others (numbers) right-aligned.
    pub fn print(&self) {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                let cells = std::iter::once(&self.headers[i]).chain(self.rows.iter().map(|r| &r[i]));
                cells.map(|c| c.chars().count()).max().unwrap_or(0).max(3)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, &w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") })
                .collect();
            println!("| {} |", padded.join(" | "));
        };
        line(&self.headers);
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| if i == 0 { "-".repeat(w) } else { format!("{}:", "-".repeat(w - 1)) })
            .collect();
        println!("| {} |", rule.join(" | "));
        for row in &self.rows {
            line(row);
        }
    }
}
