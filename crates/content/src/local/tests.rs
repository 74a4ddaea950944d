use super::*;

#[tokio::test]
async fn put_get_and_dedup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::new(dir.path().join("objects"));
    store.preflight().await.expect("preflight creates the root");
    assert_eq!(
        store
            .put_if_absent("projects/p/a.bin", b"one")
            .await
            .expect("put"),
        PutOutcome::Uploaded
    );
    assert_eq!(
        store
            .put_if_absent("projects/p/a.bin", b"two")
            .await
            .expect("put"),
        PutOutcome::AlreadyPresent
    );
    assert_eq!(
        &store.get("projects/p/a.bin").await.expect("get")[..],
        b"one"
    );
    assert!(matches!(
        store.get("projects/p/none").await,
        Err(ContentError::NotFound { .. })
    ));
    assert!(matches!(
        store.get("../escape").await,
        Err(ContentError::Config(_))
    ));
    // no temp files are left behind
    let names: Vec<_> = std::fs::read_dir(dir.path().join("objects/projects/p"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["a.bin".to_owned()]);
}

#[tokio::test]
async fn preflight_fails_on_an_unwritable_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = LocalStore::new(file.join("sub"))
        .preflight()
        .await
        .expect_err("a file is in the way");
    assert!(matches!(err, ContentError::Io { .. }));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn listings_see_keys_and_sizes_under_a_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::new(dir.path());
    for (key, bytes) in [
        ("projects/p/a.txt", &b"one"[..]),
        ("projects/p/deep/b.txt", b"three"),
        ("projects/q/c.txt", b"x"),
    ] {
        store.put(key, bytes).await.expect("put");
    }
    std::fs::write(dir.path().join("projects/p/.tmp-1-2"), b"half").expect("write");
    let store = crate::ObjectStore::Local(store);
    let mut keys = store
        .list_keys("projects/p/", 10)
        .await
        .expect("list")
        .expect("listed");
    keys.sort();
    assert_eq!(
        keys,
        [
            ("projects/p/a.txt".to_owned(), 3),
            ("projects/p/deep/b.txt".to_owned(), 5)
        ]
    );
    assert!(
        store
            .list_keys("projects/", 2)
            .await
            .expect("list")
            .is_none(),
        "three keys are more than two"
    );
    let l = store
        .list("projects/p/", 10)
        .await
        .expect("list")
        .expect("listed");
    assert_eq!(l.len(), 2);
    assert!(l.contains("projects/p/a.txt", 3));
    assert!(l.contains("projects/p/deep/b.txt", 5));
    assert!(
        !l.contains("projects/p/a.txt", 4),
        "another size is another object"
    );
    assert!(!l.contains("projects/q/c.txt", 1), "outside the prefix");
    assert!(
        store.list("projects/p/", 1).await.expect("list").is_none(),
        "too many"
    );
    assert!(
        store
            .list("none/", 1)
            .await
            .expect("list")
            .expect("listed")
            .is_empty()
    );
}
