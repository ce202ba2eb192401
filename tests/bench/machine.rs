//! What the numbers were measured on: CPU, kernel, load and time, printed with every run.

fn first_line(command: &str, args: &[&str]) -> String {
    std::process::Command::new(command)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default().trim().to_string()
}

/// `2026-12-01 08:30 UTC, load average 0.35 0.41 0.27`.
pub fn now_and_load() -> String {
    let load: Vec<String> = read("/proc/loadavg").split_whitespace().take(3).map(str::to_string).collect();
    format!("{}, load average {}", first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]), load.join(" "))
}

/// `2 CPUs (model), kernel 6.1.0-x`.
pub fn description() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{cpus} CPUs ({model}), kernel {}", read("/proc/sys/kernel/osrelease"))
}

/// `commit 0bb258b` of the working directory's git checkout, `+ local changes` when dirty.
pub fn commit() -> String {
    let head = first_line("git", &["rev-parse", "--short", "HEAD"]);
    if head == "?" {
        return "not a git checkout".to_string();
    }
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    format!("commit {head}{}", if dirty { " + local changes" } else { "" })
}
