use super::*;

#[test]
fn cpu_time_grows_with_work_on_the_thread_and_the_process() {
    let (p0, t0) = (process_cpu_seconds(), thread_cpu_seconds());
    let mut x = 0u64;
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(50) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    std::hint::black_box(x);
    let (p1, t1) = (process_cpu_seconds(), thread_cpu_seconds());
    assert!(t1 - t0 > 0.02, "thread CPU {t0} → {t1}");
    assert!(
        p1 - p0 >= t1 - t0 - 0.001,
        "process CPU covers the thread's"
    );
}

#[test]
fn a_price_table_file_is_read_validated_or_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    assert_eq!(
        load_price_table(None).expect("default"),
        PriceTable::default()
    );
    let eu = load_price_table(Some(&file(
        "eu.toml",
        "version = \"eu-west-1-2027\"\ntransfer_usd_per_gb = 0.0\n",
    )))
    .expect("a partial table");
    assert_eq!(eu.version, "eu-west-1-2027");
    assert_eq!(eu.transfer_usd_per_gb, 0.0);
    assert_eq!(eu.get_usd_per_1000, PriceTable::default().get_usd_per_1000);
    let cases = [
        (
            "typo.toml",
            "transfer_usd_per_gib = 0.0\n",
            "not valid TOML of known prices",
        ),
        ("negative.toml", "cpu_usd_per_second = -1.0\n", "is refused"),
        (
            "text.toml",
            "put_usd_per_1000 = \"cheap\"\n",
            "not valid TOML",
        ),
    ];
    for (name, text, says) in cases {
        let err = load_price_table(Some(&file(name, text))).expect_err(name);
        assert!(err.to_string().contains(says), "{name}: {err}");
    }
    let missing = load_price_table(Some(&dir.path().join("absent.toml"))).expect_err("absent");
    assert!(matches!(missing, PriceTableFileError::Read { .. }));
}
