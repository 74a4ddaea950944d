fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let texts: Vec<&str> = files.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    for x in tributary_intel::secrets::rule_times(&texts).iter().take(15) {
        println!("{:40} {:8.3} s {:6} matches", x.0, x.1, x.2);
    }
    println!("total {:?}", t.elapsed());
}
