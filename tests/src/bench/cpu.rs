//! Lambda's CPU share as a cgroup CPU quota.
//!
//! Lambda allocates CPU in proportion to memory: 1,769 MB is the equivalent of one vCPU (AWS
//! Lambda Developer Guide, "Memory and computing power"), so 128 MB is 128 / 1,769 ≈ 7.2 % of one
//! core. The share is enforced here with the CFS bandwidth controller: a quota of
//! `period × memory / 1769` microseconds of CPU per period (Linux `Documentation/scheduler/
//! sched-bwc.rst`; cgroup v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`, v2 `cpu.max`). How long a
//! period Lambda uses is not documented; the default here is 20 ms (`--period-us`), so a function
//! over its share is held back for at most ~19 ms at a time rather than the kernel default's 93 ms.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// Memory size that buys one full vCPU (AWS Lambda Developer Guide).
pub const ONE_VCPU_MB: f64 = 1769.0;

/// A CPU cgroup with the quota of one Lambda memory size; removed on drop (once empty).
#[derive(Debug)]
pub struct CpuShare {
    dir: PathBuf,
    procs: std::ffi::CString,
    /// The memory size this share stands for, MB.
    pub memory_mb: u32,
    /// Fraction of one core (`memory_mb / 1769`, at most 1 here: a webhook is single-threaded).
    pub fraction: f64,
    /// CFS period, microseconds.
    pub period_us: u64,
}

/// The harness process that made a bench directory: `tradeline-bench-<memory>-<pid>-<n>` (a
/// cgroup, [`CpuShare::new`]) or `tradeline-bench-pki-<pid>` (the run's certificates).
fn owner(name: &str) -> Option<u32> {
    if let Some(pid) = name.strip_prefix("tradeline-bench-pki-") {
        return pid.parse().ok();
    }
    name.strip_prefix("tradeline-bench-")?
        .split('-')
        .nth(1)?
        .parse()
        .ok()
}

/// Removes what an earlier run that aborted left behind (the harness is built with
/// `panic = "abort"`, so no drop runs): the `tradeline-bench-*` cgroups and certificate
/// directories of harness processes that no longer exist. Returns how many were removed; a
/// cgroup that still holds a process is kept (the kernel refuses to remove it).
pub fn remove_stale() -> usize {
    let roots = [
        PathBuf::from("/sys/fs/cgroup"),
        PathBuf::from("/sys/fs/cgroup/cpu"),
        std::env::temp_dir(),
    ];
    let mut removed = 0;
    for root in &roots {
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = owner(&name) else { continue };
            if std::path::Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            let gone = if name.starts_with("tradeline-bench-pki-") {
                std::fs::remove_dir_all(entry.path())
            } else {
                std::fs::remove_dir(entry.path())
            };
            removed += usize::from(gone.is_ok());
        }
    }
    removed
}

impl CpuShare {
    /// Creates a cgroup `tradeline-bench-<memory>-<pid>-<n>` with the share of `memory_mb` (one
    /// per function process: each Lambda execution environment has its own share).
    ///
    /// Errors: the cgroup file system is absent or not writable (run as root, or on a machine
    /// that delegates the `cpu` controller).
    pub fn new(memory_mb: u32, period_us: u64) -> io::Result<Self> {
        let fraction = (f64::from(memory_mb) / ONE_VCPU_MB).min(1.0);
        let quota = ((period_us as f64) * fraction).round().max(1000.0) as u64;
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("tradeline-bench-{memory_mb}-{}-{n}", std::process::id());
        let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let dir = if v2 {
            PathBuf::from("/sys/fs/cgroup").join(&name)
        } else {
            PathBuf::from("/sys/fs/cgroup/cpu").join(&name)
        };
        std::fs::create_dir_all(&dir)?;
        if v2 {
            std::fs::write(dir.join("cpu.max"), format!("{quota} {period_us}"))?;
        } else {
            std::fs::write(dir.join("cpu.cfs_period_us"), period_us.to_string())?;
            std::fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string())?;
        }
        let procs = std::ffi::CString::new(dir.join("cgroup.procs").to_string_lossy().as_bytes())
            .map_err(io::Error::other)?;
        Ok(Self {
            dir,
            procs,
            memory_mb,
            fraction: quota as f64 / period_us as f64,
            period_us,
        })
    }

    /// Makes `cmd`'s process join this cgroup before it `exec`s, so its whole life (its init
    /// included) runs under the quota.
    pub fn confine(&self, cmd: &mut Command) {
        let path = self.procs.clone();
        // SAFETY: between fork and exec only async-signal-safe calls are made (open, write,
        // close on a path allocated before the fork); writing "0" moves the calling process.
        unsafe {
            cmd.pre_exec(move || {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let ok = libc::write(fd, b"0\n".as_ptr().cast(), 2) == 2;
                libc::close(fd);
                if ok {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn owner_reads_the_harness_pid_of_each_name() {
        assert_eq!(super::owner("tradeline-bench-128-4242-7"), Some(4242));
        assert_eq!(super::owner("tradeline-bench-pki-4242"), Some(4242));
        assert_eq!(super::owner("tradeline-bench-128"), None);
        assert_eq!(super::owner("other-128-4242-7"), None);
    }
}
