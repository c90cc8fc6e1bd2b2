//! Work split over scoped threads. A leaf module: it imports nothing of imglock.

use std::thread::ScopedJoinHandle;

/// What each of `threads` returned, in their order; a thread's panic goes on in the caller.
pub(crate) fn join_all<T>(threads: Vec<ScopedJoinHandle<'_, T>>) -> Vec<T> {
    threads
        .into_iter()
        .map(|thread| {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
        .collect()
}
