//! Every service allocates through jemalloc, whose memory this module reports.
//!
//! Why not the system allocator (glibc): it gives each thread that allocates its own arena (up
//! to eight per core) and keeps what those arenas freed. Auth hashing 19 MiB per login on
//! whichever blocking thread is free kept ~19 MiB per arena (288 MB resident for two hashes at
//! a time), and publication kept the pages of a page cache it had emptied. jemalloc returns
//! freed pages to the system a second after they were freed, from a background thread (its
//! settings are compiled in: `JEMALLOC_SYS_WITH_MALLOC_CONF` in `.cargo/config.toml`), and its
//! statistics say where the resident memory is: in use, or kept by the allocator
//! (docs/benchmarks.md, "Where publication's memory goes").

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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

/// Whether jemalloc's background thread, which returns freed pages, runs.
pub fn background_purging() -> Option<bool> {
    tikv_jemalloc_ctl::background_thread::read().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn freed_pages_go_back_from_a_background_thread() {
        // Started by the settings compiled in (.cargo/config.toml); without them, it does not.
        let _warm = vec![0u8; 1024];
        assert_eq!(super::background_purging(), Some(true));
    }

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
