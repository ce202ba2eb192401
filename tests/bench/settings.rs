//! The bench's knobs, read from the environment (the Makefile passes its variables through).

pub struct Settings {
    /// Timed start-ups of each command (BENCH_RUNS), after `warmup` untimed rounds.
    pub runs: usize,
    pub warmup: usize,
    /// Hand-offs per cost-growth measurement, shared out among the clients (BENCH_BATCH).
    pub batch: usize,
    /// Repetitions of each cost-growth and throughput measurement (BENCH_REPS).
    pub reps: usize,
    /// MiB sent through ssh in each throughput run (BENCH_MIB).
    pub mib: u64,
}

fn var(name: &str, default: u64, min: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) if text.trim().is_empty() => Ok(default),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(value) if value >= min => Ok(value),
            _ => Err(format!("{name}={text}: expected a whole number of at least {min}")),
        },
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings, String> {
        Ok(Settings {
            runs: var("BENCH_RUNS", 300, 10)? as usize,
            warmup: 10,
            batch: var("BENCH_BATCH", 640, 64)? as usize,
            reps: var("BENCH_REPS", 3, 1)? as usize,
            mib: var("BENCH_MIB", 512, 1)?,
        })
    }
}
