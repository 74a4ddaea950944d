//! Analysis throughput: every file under the given folders (walked as tokei and scc walk
//! them: .gitignore respected, hidden files skipped) read and analysed by
//! `tributary_intel::analyse` on all cores. Prints one line per measure:
//!
//!   files N / bytes N / analyse_secs S / files_per_sec R / mb_per_sec R
//!   lines_only_secs S   (tokei's line counter alone, the same files, the same threads)
//!   parse_only_secs S   (language detection and the tree-sitter parse alone: the floor
//!                        under the analysis while symbols come from a real parse)
//!
//!   analyse-corpus DIR...
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tributary_events::RelPath;

/// The consumer's allocators: jemalloc for Rust and for tree-sitter.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    #[allow(unsafe_code)]
    // SAFETY: first thing in `main`: no other thread, nothing parsed or compiled yet.
    unsafe {
        tributary_intel::parser_memory::use_jemalloc();
    }
    let roots: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    assert!(!roots.is_empty(), "usage: analyse-corpus DIR...");
    let mut files: Vec<(PathBuf, RelPath)> = Vec::new();
    for root in &roots {
        for e in ignore::WalkBuilder::new(root).build().flatten() {
            if e.file_type().is_some_and(|t| t.is_file())
                && let Ok(r) = e.path().strip_prefix(root)
                && let Some(r) = r.to_str().and_then(|s| RelPath::new(s).ok())
            {
                files.push((e.path().to_path_buf(), r));
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let run = |f: &(dyn Fn(&RelPath, &[u8]) -> u64 + Sync)| -> (f64, u64, u64) {
        let next = AtomicUsize::new(0);
        let bytes = AtomicUsize::new(0);
        let check = AtomicUsize::new(0);
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, rel)) = files.get(i) else {
                            break;
                        };
                        let Ok(b) = std::fs::read(path) else { continue };
                        bytes.fetch_add(b.len(), Ordering::Relaxed);
                        check.fetch_add(f(rel, &b) as usize, Ordering::Relaxed);
                    }
                });
            }
        });
        (
            t.elapsed().as_secs_f64(),
            bytes.load(Ordering::Relaxed) as u64,
            check.load(Ordering::Relaxed) as u64,
        )
    };
    // warm the page cache once, as the peers' best-of-three runs do
    let _ = run(&|_, b| b.len() as u64);
    let (secs, bytes, code) = run(&|p, b| tributary_intel::analyse(p, b).lines.code);
    // what token counting costs: no encoding (the estimate) and both, beside the default
    let with = |tokens: tributary_intel::TokenEncodings| {
        let options = tributary_intel::Options {
            tokens,
            ..Default::default()
        };
        move |p: &RelPath, b: &[u8]| tributary_intel::analyse_with(p, b, &options).lines.code
    };
    let (estimate_secs, _, _) = run(&with(tributary_intel::TokenEncodings::NONE));
    let (both_secs, _, _) = run(&with(tributary_intel::TokenEncodings {
        o200k_base: true,
        cl100k_base: true,
    }));
    let (lines_secs, _, _) = run(&|p, b| {
        let unopenable = std::path::Path::new("\0").join(p.as_str());
        tokei::LanguageType::from_path(&unopenable, &tokei::Config::default()).map_or(0, |l| {
            l.parse_from_slice(b, &tokei::Config::default()).code as u64
        })
    });
    let (parse_secs, _, _) = run(&|p, b| {
        let text = String::from_utf8_lossy(b);
        tributary_intel::language::detect(p.as_str(), &text)
            .and_then(|d| tributary_intel::syntax::parse_only(d.name, &text))
            .unwrap_or(0) as u64
    });
    println!("files {}", files.len());
    println!("bytes {bytes}");
    println!("code_lines {code}");
    println!("threads {threads}");
    println!("analyse_secs {secs:.3}");
    println!("files_per_sec {:.0}", files.len() as f64 / secs);
    println!("mb_per_sec {:.1}", bytes as f64 / secs / 1e6);
    println!("analyse_estimated_tokens_secs {estimate_secs:.3}");
    println!("analyse_both_encodings_secs {both_secs:.3}");
    println!("lines_only_secs {lines_secs:.3}");
    println!("parse_only_secs {parse_secs:.3}");
}
