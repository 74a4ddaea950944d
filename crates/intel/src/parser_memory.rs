//! tree-sitter's own allocations on jemalloc (feature `jemalloc`), for binaries whose
//! global allocator is jemalloc (the consumer). tree-sitter is C and allocates through
//! `malloc` unless told otherwise, so its parse trees — the largest allocations of an
//! analysis, often several times the file's size — went to glibc while everything else
//! went to jemalloc: two allocators, each keeping its own free memory per thread, and
//! glibc's arenas were what made the consumer's memory grow before it moved to jemalloc
//! (benches/README.md). With this, one allocator serves the whole process.

use std::ffi::c_void;

// tree-sitter requires its allocator never to return null for a non-zero size (its own
// default aborts the process when malloc fails); jemalloc returns null when out of
// memory, so these abort as tree-sitter's default does. Size 0 is asked as 1: a unique
// pointer tree-sitter may free.
#[allow(unsafe_code)]
unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    // SAFETY: jemalloc's malloc accepts any size.
    non_null(unsafe { tikv_jemalloc_sys::malloc(size.max(1)) })
}

#[allow(unsafe_code)]
unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut c_void {
    // SAFETY: jemalloc's calloc checks `count * size` for overflow itself.
    non_null(unsafe { tikv_jemalloc_sys::calloc(count.max(1), size.max(1)) })
}

#[allow(unsafe_code)]
unsafe extern "C" fn ts_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: tree-sitter passes null or a pointer these functions returned (they are
    // installed before its first allocation).
    non_null(unsafe { tikv_jemalloc_sys::realloc(ptr, size.max(1)) })
}

#[allow(unsafe_code)]
unsafe extern "C" fn ts_free(ptr: *mut c_void) {
    // SAFETY: as for `ts_realloc`: null or a pointer from jemalloc.
    unsafe { tikv_jemalloc_sys::free(ptr) }
}

fn non_null(ptr: *mut c_void) -> *mut c_void {
    if ptr.is_null() {
        std::process::abort();
    }
    ptr
}

/// Makes tree-sitter allocate from jemalloc — the binary's global allocator, linked with
/// the same `tikv-jemalloc-sys` — instead of the C library's `malloc`.
///
/// # Safety
/// tree-sitter keeps its allocator in C globals without synchronization, and memory it
/// allocated before must not be freed by another allocator: call this first thing in
/// `main`, before any other thread exists and before anything is parsed or a query
/// compiled.
#[allow(unsafe_code)]
pub unsafe fn use_jemalloc() {
    // SAFETY: the four functions are one allocator family (jemalloc), never return null
    // (they abort), and return jemalloc's malloc alignment (at least libc's); the caller
    // guarantees no tree-sitter object exists yet and no other thread runs.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: ts_malloc,
            calloc: ts_calloc,
            realloc: ts_realloc,
            free: ts_free,
        }));
    }
}
