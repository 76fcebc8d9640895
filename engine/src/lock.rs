//! Who holds a data directory that another process has open.
//!
//! fjall takes an exclusive `flock` on the `lock` file in its directory and
//! only says `Locked` when it cannot. To tell the user which process to
//! stop, Linux's `/proc/locks` names the holder of each lock by inode;
//! elsewhere the holder is unknown.

use std::path::Path;

/// The lock file fjall keeps in the database directory.
const LOCK_FILE: &str = "lock";

/// The process id holding the lock on the database in `dir`, if the
/// system says.
pub(crate) fn holder(dir: &Path) -> Option<u32> {
    holder_of(&dir.join(LOCK_FILE))
}

#[cfg(target_os = "linux")]
fn holder_of(file: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;

    let meta = std::fs::metadata(file).ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    // glibc's gnu_dev_major / gnu_dev_minor.
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let exact = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let inode = format!(":{}", meta.ino());
    let mut same_inode = None;
    // `1: FLOCK  ADVISORY  WRITE 4242 fe:00:10027613 0 EOF`; waiters are
    // listed with `->` and hold nothing.
    for line in locks.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) == Some(&"->") || fields.len() < 6 {
            continue;
        }
        let Ok(pid) = fields[4].parse::<u32>() else {
            continue;
        };
        if fields[5] == exact {
            return Some(pid);
        }
        if fields[5].ends_with(&inode) {
            same_inode.get_or_insert(pid);
        }
    }
    same_inode
}

#[cfg(not(target_os = "linux"))]
fn holder_of(_file: &Path) -> Option<u32> {
    None
}
