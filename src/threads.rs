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

/// Starts `work` on a thread of `scope` that runs on another core than the calling thread's,
/// when the process may use another. Left to the kernel, a thread started for a millisecond of
/// work often waits that long on its starter's busy core before it is moved to an idle one.
pub(crate) fn spawn_beside<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    work: impl FnOnce() -> T + Send + 'scope,
) -> ScopedJoinHandle<'scope, T> {
    // SAFETY: sched_getcpu takes nothing and answers -1 on failure.
    let starter = usize::try_from(unsafe { libc::sched_getcpu() }).ok();
    let thread = scope.spawn(move || {
        if let Some(core) = starter {
            leave_core(core);
        }
        work()
    });
    // The new thread, if it waits on this core, runs now and moves.
    std::thread::yield_now();
    thread
}

/// Moves the calling thread off `core`, to another core it may run on, if it has one; it may
/// then run on any of them again.
fn leave_core(core: usize) {
    if let Some(allowed) = keep_off(core) {
        set_cores(&allowed);
    }
}

/// Keeps the calling thread off `core` (it has moved when this returns), if it may run on
/// another core: the cores it was allowed before.
fn keep_off(core: usize) -> Option<libc::cpu_set_t> {
    if core >= libc::CPU_SETSIZE as usize {
        return None;
    }
    // SAFETY: `cpu_set_t` is plain data, all zeros an empty set; the calls only read and write
    // the set they are given, of the size given.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return None;
        }
        let mut elsewhere = allowed;
        libc::CPU_CLR(core, &mut elsewhere);
        (libc::CPU_COUNT(&elsewhere) > 0 && set_cores(&elsewhere)).then_some(allowed)
    }
}

/// Lets the calling thread run on the cores of `cores` alone; whether it could.
fn set_cores(cores: &libc::cpu_set_t) -> bool {
    // SAFETY: the call reads the set given, of its size, and changes only this thread.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cores) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_kept_off_its_core_runs_on_another_and_may_run_anywhere_again() {
        // SAFETY: sched_getcpu takes nothing.
        let cpu = || usize::try_from(unsafe { libc::sched_getcpu() }).unwrap();
        let allowed = |set: &libc::cpu_set_t| {
            // SAFETY: reads the set given, of its size.
            let cores: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                .filter(|&core| unsafe { libc::CPU_ISSET(core, set) })
                .collect();
            cores
        };
        // On a thread of its own: a failed assertion leaves the test runner's thread as it was.
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                let core = cpu();
                match keep_off(core) {
                    Some(before) => {
                        // The mask leaves `core` out, so the thread is elsewhere now.
                        assert_ne!(cpu(), core);
                        assert!(allowed(&before).len() > 1 && allowed(&before).contains(&core));
                        assert!(set_cores(&before));
                    }
                    // This process may use one core only.
                    None => {
                        // SAFETY: as in `keep_off`.
                        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
                        let size = std::mem::size_of::<libc::cpu_set_t>();
                        assert_eq!(unsafe { libc::sched_getaffinity(0, size, &mut set) }, 0);
                        assert_eq!(allowed(&set), [core]);
                    }
                }
            });
            join_all(vec![thread]);
        });
    }
}
