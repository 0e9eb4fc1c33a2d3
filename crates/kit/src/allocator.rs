//! Every service allocates through jemalloc, whose memory this module reports.
//!
//! Why not the system allocator (glibc): it gives each thread that allocates its own arena (up
//! to eight per core) and keeps what those arenas freed. Auth hashing 19 MiB per login on
//! whichever blocking thread is free kept ~19 MiB per arena (288 MB resident for two hashes at
//! a time), and publication kept the pages of a page cache it had emptied. jemalloc returns
//! freed pages to the system after a few seconds (its decay, run by a background thread) and
//! its statistics say where the resident memory is: in use, or kept by the allocator
//! (docs/benchmarks.md, "Where publication's memory goes").

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Starts jemalloc's background thread, which returns freed pages to the system as they age
/// (after ten seconds, jemalloc's default decay) instead of waiting for the next allocations
/// to do it: a process's resident set follows what it uses, also when it goes quiet. Called
/// once at a service's start.
pub fn start_background_purging() {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "jemalloc's background thread could not start");
    }
}

/// The allocator's figures, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct HeapStats {
    /// Bytes the program holds.
    pub allocated: usize,
    /// Bytes of pages the allocator has resident (in use, its own metadata, and freed pages
    /// not yet returned).
    pub resident: usize,
}

/// The allocator's figures now (`None` if jemalloc cannot say).
pub fn stats() -> Option<HeapStats> {
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    Some(HeapStats {
        allocated: tikv_jemalloc_ctl::stats::allocated::read().ok()?,
        resident: tikv_jemalloc_ctl::stats::resident::read().ok()?,
    })
}

/// Records [`stats`] as the `heap_allocated_bytes` and `heap_resident_bytes` gauges.
pub fn record() {
    if let Some(s) = stats() {
        metrics::gauge!("heap_allocated_bytes").set(s.allocated as f64);
        metrics::gauge!("heap_resident_bytes").set(s.resident as f64);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_allocator_counts_what_the_program_holds() {
        let before = super::stats().expect("jemalloc statistics").allocated;
        let held = vec![1u8; 64 * 1024 * 1024];
        let during = super::stats().unwrap();
        assert!(
            during.allocated >= before + 60 * 1024 * 1024,
            "{before} -> {during:?}"
        );
        assert!(during.resident >= 60 * 1024 * 1024, "{during:?}");
        drop(held);
    }
}
