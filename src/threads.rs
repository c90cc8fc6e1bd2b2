//! Work split over scoped threads. A leaf module: it imports nothing of imglock.

use std::thread::ScopedJoinHandle;

/// Drops `value` on a thread of its own: for a large structure of many small allocations (a
/// channel's parsed records) that the caller is done with while the work it waits for goes on.
/// Freeing one took a few tenths of a millisecond of a resolve's critical path.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

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
