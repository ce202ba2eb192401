//! Medians and percentiles of samples, and the number formats of the tables.

use std::time::Duration;

/// Percentiles of a set of samples (nearest rank on the sorted samples).
pub struct Summary {
    pub p10: f64,
    pub median: f64,
    pub p90: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Summary {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Summary { p10: rank(0.10), median: rank(0.5), p90: rank(0.90), min: sorted[0], max: sorted[sorted.len() - 1] }
    }

    pub fn of_durations(samples: &[Duration]) -> Summary {
        Summary::of(&samples.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>())
    }
}

/// Milliseconds with three decimals.
pub fn ms(value: f64) -> String {
    format!("{value:.3} ms")
}

/// A ratio, two decimals: `0.52x`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}x")
}

/// Whole numbers with thin grouping: `12 345`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Bytes as `54 416 B` below 1 MB, `4.3 MB` (10^6) above.
pub fn bytes(value: u64) -> String {
    if value < 1_000_000 { format!("{} B", count(value)) } else { format!("{:.1} MB", value as f64 / 1e6) }
}
