use super::*;

/// Every family the consumer exports has `# HELP` and `# TYPE`, its counters are there
/// at zero from start-up (a DLQ ratio has a series before the first failure), and its
/// latencies are histograms, never summaries.
#[test]
fn consumer_metrics_are_described_zeroed_and_histograms() {
    let recorder = tributary_runtime::prometheus_builder().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        register();
        EventDone {
            elapsed: Duration::from_millis(20),
            lag_ms: Some(1_500),
        }
        .emit();
    });
    let body = handle.render();
    for zero in [
        "tributary_consumer_dlq_total{reason=\"checksum_mismatch\"} 0",
        "tributary_consumer_dlq_total{reason=\"git_host_key_refused\"} 0",
        "tributary_consumer_files_total{source=\"recalled\"} 0",
        "tributary_consumer_files_total{source=\"presigned_url\"} 0",
        "tributary_cache_hits_total{cache=\"disk\"} 0",
        "tributary_analysis_cache_lookups_total{entry=\"file\",result=\"corrupt\"} 0",
        "tributary_consumer_output_failures_total 0",
    ] {
        assert!(body.contains(zero), "{zero} missing from\n{body}");
    }
    for series in [
        "tributary_consumer_event_duration_seconds_bucket{le=\"0.025\"} 1",
        "tributary_consumer_event_age_seconds_bucket{le=\"2.5\"} 1",
        "tributary_consumer_event_age_seconds_bucket{le=\"1\"} 0",
    ] {
        assert!(body.contains(series), "{series} missing from\n{body}");
    }
    assert!(!body.contains("quantile="), "no summaries: {body}");
    let undescribed = tributary_runtime::families_without_help(&body);
    assert!(undescribed.is_empty(), "no HELP text: {undescribed:?}");
    assert!(body.contains("# TYPE "), "families were exported: {body}");
}
