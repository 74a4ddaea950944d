use std::cell::Cell;

use super::*;

#[test]
fn values_are_fetched_once_per_ttl_and_failures_are_not_kept() {
    let cache = Cache::default();
    let t0 = Instant::now();
    let calls = Cell::new(0);
    let fetch = |v: &str| {
        calls.set(calls.get() + 1);
        Ok::<_, ContentError>(v.to_owned())
    };
    assert_eq!(cache.get_or_fetch("a", t0, || fetch("one")).unwrap(), "one");
    // within the TTL: the cached value, no fetch
    let later = t0 + TTL - Duration::from_secs(1);
    assert_eq!(
        cache.get_or_fetch("a", later, || fetch("two")).unwrap(),
        "one"
    );
    assert_eq!(calls.get(), 1);
    // past it: fetched again (a rotated secret is picked up)
    assert_eq!(
        cache.get_or_fetch("a", t0 + TTL, || fetch("two")).unwrap(),
        "two"
    );
    assert_eq!(calls.get(), 2);
    // a failure is returned, not cached
    let failed = cache.get_or_fetch("b", t0, || Err(ContentError::Credentials("x".into())));
    assert!(failed.is_err());
    assert_eq!(cache.get_or_fetch("b", t0, || fetch("ok")).unwrap(), "ok");
}

#[test]
fn json_fields_are_read_from_objects_only() {
    let cases = [
        (r#"{"token": "t1", "user": "bot"}"#, "token", Some("t1")),
        (r#"{"token": 5}"#, "token", None),
        (r#"{"other": "x"}"#, "token", None),
        ("not json", "token", None),
        (r#"["token"]"#, "token", None),
    ];
    for (json, key, want) in cases {
        assert_eq!(json_field(json, key).as_deref(), want, "{json}");
    }
}
