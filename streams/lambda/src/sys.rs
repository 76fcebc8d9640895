//! The few system calls the process runner needs that std does not offer.
//! Every `unsafe` block of the crate is here, each a single libc call.
#![allow(unsafe_code)]

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;

/// Makes `cmd`'s child die with a SIGKILL when the thread that forked it
/// ends (Tarn's spawner thread lives as long as the process, so: when Tarn
/// ends, SIGKILL included), and refuse to start if Tarn is already gone.
pub fn die_with_parent(cmd: &mut std::process::Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec and
    // calls only async-signal-safe functions (prctl, getppid, _exit); it
    // allocates nothing and touches no lock.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Sends SIGKILL to a process group (an instance and its children).
pub fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill with a negative pid signals a process group; no memory
    // is involved.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Puts a pipe in non-blocking mode, so that it can be read until empty
/// without waiting.
fn set_nonblocking(fd: &impl AsRawFd) -> std::io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A child's output pipe, non-blocking and registered with tokio's
/// reactor.
pub fn async_pipe(file: std::fs::File) -> std::io::Result<tokio::io::unix::AsyncFd<std::fs::File>> {
    set_nonblocking(&file)?;
    // SAFETY: the `File` owns its descriptor, and the `AsyncFd` owns the
    // `File`: the descriptor is neither closed nor replaced while it is
    // registered.
    unsafe { tokio::io::unix::AsyncFd::register(file) }.map_err(|e| e.into_parts().1)
}
