//! One malloc arena for the whole process (glibc), set before any thread
//! starts.
//!
//! glibc gives each thread that allocates its own arena, and what one
//! thread frees is not reused by another's allocations. A tick reads its
//! pages on tokio's workers, then builds its report and alerts on whichever
//! worker carries on: the process kept the read buffers' freed pages and
//! took new ones for the alerts. Measured on the tick that announces 2,500
//! waiting connections (BENCHMARKS.md, "What announcing costs"): 5.6–6.0 MB
//! above the same tick without them, 3.0–3.2 MB with one arena
//! (`MALLOC_ARENA_MAX=1`), at the same wall time. The warden's threads are
//! few and mostly wait on the network, so they share one arena's lock at no
//! cost a tick measures. `MALLOC_ARENA_MAX`, when set, is left to decide.

/// Limits the process to one malloc arena, unless `MALLOC_ARENA_MAX` says
/// otherwise. Call it first thing in `main`, before any thread starts.
pub fn one_arena() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a parameter of glibc's allocator, which
    // takes its own lock; `M_ARENA_MAX` is one it documents.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
