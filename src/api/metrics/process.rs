//! The standard `process_*` metrics (as Prometheus' own clients name them),
//! read from `/proc/self` at each scrape: CPU seconds, resident and virtual
//! memory, open and maximum file descriptors, start time. prometheus-client
//! has no process collector; two small files are parsed here by hand
//! ([`parse_stat`], [`parse_boot_time`]) rather than pulling in `procfs`
//! for five numbers.

use std::fmt::Error;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// What `/proc/self/stat` says (times in clock ticks, memory in pages/bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot, in clock ticks.
    pub start_ticks: u64,
    /// Virtual memory size, in bytes.
    pub virtual_bytes: u64,
    /// Resident set size, in pages.
    pub resident_pages: u64,
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses
/// and may hold spaces or parentheses: fields are counted after its last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state): field n is fields[n - 3].
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        cpu_ticks: field(14)?.checked_add(field(15)?)?,
        start_ticks: field(22)?,
        virtual_bytes: field(23)?,
        resident_pages: field(24)?,
    })
}

/// The boot time (seconds since the Unix epoch) from `/proc/stat`'s `btime` line.
pub fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The process's figures at one scrape; a figure that could not be read is
/// left out of the exposition rather than shown as 0.
#[derive(Debug, Default)]
pub struct ProcessSnapshot {
    cpu_seconds: Option<f64>,
    resident_bytes: Option<u64>,
    virtual_bytes: Option<u64>,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
    start_time_seconds: Option<f64>,
}

impl ProcessSnapshot {
    /// Reads this process's figures.
    pub fn read() -> ProcessSnapshot {
        // SAFETY: sysconf only reads a system constant.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let (ticks, page) = (ticks.max(1) as f64, page.max(0) as u64);
        let stat = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|t| parse_stat(&t));
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| parse_boot_time(&t));
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|d| d.count() as u64);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills in the rlimit it is given.
        let max_fds = (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0)
            .then_some(limit.rlim_cur);
        ProcessSnapshot {
            cpu_seconds: stat.map(|s| s.cpu_ticks as f64 / ticks),
            resident_bytes: stat.map(|s| s.resident_pages.saturating_mul(page)),
            virtual_bytes: stat.map(|s| s.virtual_bytes),
            open_fds,
            max_fds,
            start_time_seconds: stat
                .zip(boot)
                .map(|(s, boot)| boot as f64 + s.start_ticks as f64 / ticks),
        }
    }
}

fn gauge<V: prometheus_client::encoding::EncodeGaugeValue>(
    e: &mut DescriptorEncoder,
    (name, help, unit): (&str, &str, Option<Unit>),
    v: Option<V>,
) -> Result<(), Error> {
    let Some(v) = v else { return Ok(()) };
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, unit.as_ref(), g.metric_type())?)
}

impl Collector for ProcessSnapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        if let Some(cpu) = self.cpu_seconds {
            let c = ConstCounter::new(cpu);
            let help = "Total user and system CPU time spent";
            c.encode(e.encode_descriptor("cpu", help, Some(&Unit::Seconds), c.metric_type())?)?;
        }
        let bytes = Some(Unit::Bytes);
        let resident = ("resident_memory", "Resident memory size", bytes.clone());
        gauge(&mut e, resident, self.resident_bytes.map(|v| v as i64))?;
        let virt = ("virtual_memory", "Virtual memory size", bytes);
        gauge(&mut e, virt, self.virtual_bytes.map(|v| v as i64))?;
        let open = ("open_fds", "Open file descriptors", None);
        gauge(&mut e, open, self.open_fds.map(|v| v as i64))?;
        let max = ("max_fds", "Maximum number of open file descriptors", None);
        gauge(
            &mut e,
            max,
            self.max_fds.map(|v| v.min(i64::MAX as u64) as i64),
        )?;
        let start = (
            "start_time",
            "Start time of the process since the Unix epoch",
            Some(Unit::Seconds),
        );
        gauge(&mut e, start, self.start_time_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A real line, with a command name holding spaces and a parenthesis.
        let line = "4242 (sk ein) x) S 1 4242 4242 0 -1 4194560 3000 0 12 0 \
                    150 75 0 0 20 0 9 0 123456 987654321 2500 18446744073709551615 \
                    1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                cpu_ticks: 225,
                start_ticks: 123456,
                virtual_bytes: 987654321,
                resident_pages: 2500,
            })
        );
    }

    #[test]
    fn a_truncated_or_garbled_stat_is_none() {
        assert_eq!(parse_stat("4242 (skein) S 1 2 3"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
        let garbled = "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 75 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_stat(garbled), None);
    }

    #[test]
    fn boot_time_is_the_btime_line() {
        let text = "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n";
        assert_eq!(parse_boot_time(text), Some(1_700_000_000));
        assert_eq!(parse_boot_time("cpu 1 2 3\n"), None);
    }

    #[test]
    fn this_process_reads_sane_figures() {
        let s = ProcessSnapshot::read();
        assert!(s.resident_bytes.is_some_and(|b| b > 1 << 20), "{s:?}");
        assert!(s.open_fds.is_some_and(|n| n >= 3), "{s:?}");
        assert!(s.max_fds.is_some_and(|n| n >= s.open_fds.unwrap()), "{s:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let started = s.start_time_seconds.unwrap();
        assert!(
            started <= now + 1.0 && started > now - 86_400.0,
            "{started} vs {now}"
        );
    }
}
