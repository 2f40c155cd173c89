//! How the process uses glibc's allocator: its settings, and giving freed
//! memory back, since a daemon that files a backlog of thousands of
//! messages must not keep the backlog's peak for good. The only module
//! with `unsafe` code (calls to `mallopt` and `malloc_trim`).

use std::sync::atomic::{AtomicUsize, Ordering};

/// glibc gives each thread that allocates an arena of its own (up to eight
/// per core) and keeps what is freed in each: the parsing threads, the
/// database workers and the runtime's pool made a 1,000-message run peak at
/// 127 MB, 95 MB with two arenas. It also raises the size from which it
/// maps memory of its own to that of the largest block freed (up to 32 MB),
/// so after one large attachment the next ones came from the heap and
/// stayed there: a fixed 1 MiB took 6 MB off the peak for about 5 % of
/// ingest speed. Call before any thread starts.
#[allow(unsafe_code)]
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator parameter; called before
    // other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// How many bytes of messages are let go between two trims in a backlog.
const TRIM_EVERY_BYTES: usize = 64 << 20;

/// Notes that the buffers of `bytes` of messages were just dropped, and
/// gives the pages of freed memory back to the system once every 64 MiB.
/// See `trim`.
pub fn released(bytes: usize) {
    let since = SINCE_TRIM.fetch_add(bytes, Ordering::Relaxed) + bytes;
    if since >= TRIM_EVERY_BYTES {
        trim();
    }
}

static SINCE_TRIM: AtomicUsize = AtomicUsize::new(0);

/// Gives the pages of freed memory back to the system, if messages were
/// let go since the last time. Called when a folder is drained.
///
/// glibc only returns the top of its heaps on its own: what batches of
/// messages left free in the middle stayed resident, at the backlog's
/// peak, for good. A 5,000-message backlog peaked at 77 to 80 MiB, with
/// the heap itself at about 36 MB; trimming after every batch brought it
/// to 65 MiB, every 16 MiB to 72-76 MiB. But a trim takes 1 to 2 ms there
/// (6 at most) and every batch made ingest 7 % slower, every 16 MiB 2 %;
/// on another thread it held the allocator's locks against the parsing
/// threads (15 % slower). So a backlog keeps most of its peak until it is
/// drained, and then the memory goes back.
pub fn trim() {
    if SINCE_TRIM.swap(0, Ordering::Relaxed) > 0 {
        trim_heaps();
    }
}

#[allow(unsafe_code)]
fn trim_heaps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages that are free; it takes the
    // arenas' own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
