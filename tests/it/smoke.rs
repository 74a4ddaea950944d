//! Day-one proof that the three real services work with the libraries we build on:
//! rdkafka against Kafka, aws-sdk-s3 against the S3 server (presign, HEAD, multipart,
//! path-style), git2 against the git daemon (fetch by commit SHA, shallow).

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use sha2::{Digest, Sha256};
use tributary_tests::{Services, unique};

#[tokio::test]
async fn kafka_produce_and_consume_round_trip() {
    let svc = Services::require();
    let topic = unique("smoke");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .create()
        .expect("admin client");
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .expect("create_topics request");
    assert!(
        created.iter().all(|r| r.is_ok()),
        "create topic: {created:?}"
    );

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .set("enable.idempotence", "true")
        .set("compression.type", "zstd")
        .create()
        .expect("producer");
    let n = 30;
    for i in 0..n {
        let key = format!("key-{}", i % 5);
        let payload = format!("{{\"i\":{i}}}");
        producer
            .send(
                FutureRecord::to(&topic).key(&key).payload(&payload),
                Timeout::After(Duration::from_secs(30)),
            )
            .await
            .unwrap_or_else(|(e, _)| panic!("delivery of message {i} failed: {e}"));
    }

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .set("group.id", unique("smoke-group"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let mut seen: Vec<(String, i32, i64, u32)> = Vec::new();
    while seen.len() < n {
        let msg = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} messages came back within 60 s", seen.len()))
            .expect("consume");
        let key = String::from_utf8(msg.key().expect("key").to_vec()).expect("utf-8 key");
        let v: serde_json::Value =
            serde_json::from_slice(msg.payload().expect("payload")).expect("json");
        seen.push((
            key,
            msg.partition(),
            msg.offset(),
            v["i"].as_u64().expect("i") as u32,
        ));
    }
    // Every message exactly once; one key always lands on one partition, in order.
    let mut is: Vec<u32> = seen.iter().map(|s| s.3).collect();
    is.sort_unstable();
    assert_eq!(is, (0..n as u32).collect::<Vec<_>>());
    for k in 0..5 {
        let key = format!("key-{k}");
        let of_key: Vec<_> = seen.iter().filter(|s| s.0 == key).collect();
        assert!(
            of_key
                .windows(2)
                .all(|w| w[0].1 == w[1].1 && w[0].2 < w[1].2 && w[0].3 < w[1].3)
        );
    }

    let deleted = admin
        .delete_topics(&[&topic], &AdminOptions::new())
        .await
        .expect("delete topic");
    assert!(deleted.iter().all(|r| r.is_ok()));
}

#[tokio::test]
async fn s3_put_head_presign_get_multipart() {
    let svc = Services::require();
    let client = svc.s3_config().client().await.expect("s3 client");
    let bucket = &svc.s3_bucket;
    let prefix = unique("smoke");

    // put + head
    let body: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let key = format!("{prefix}/small.bin");
    client
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put_object");
    let head = client
        .head_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .expect("head_object");
    assert_eq!(head.content_length(), Some(body.len() as i64));

    // HEAD of a missing key is a typed not-found, not a generic failure
    let missing = client
        .head_object()
        .bucket(bucket)
        .key(format!("{prefix}/absent"))
        .send()
        .await;
    let err = missing.expect_err("missing object");
    assert!(err.into_service_error().is_not_found());

    // presigned GET through a plain HTTP client returns the same bytes
    let presigned = client
        .get_object()
        .bucket(bucket)
        .key(&key)
        .presigned(
            PresigningConfig::expires_in(Duration::from_secs(300)).expect("presigning config"),
        )
        .await
        .expect("presign");
    let url = presigned.uri().to_owned();
    assert!(
        url.starts_with(&format!("{}/{bucket}/", svc.s3_endpoint)),
        "path-style URL: {url}"
    );
    assert!(url.contains("X-Amz-Signature="));
    let http = reqwest::Client::new();
    let got = http.get(&url).send().await.expect("GET presigned");
    assert_eq!(got.status(), 200);
    let got = got.bytes().await.expect("body");
    assert_eq!(Sha256::digest(&got), Sha256::digest(&body));

    // a tampered signature is refused by the server
    let tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(http.get(&tampered).send().await.expect("GET").status(), 403);

    // multipart: two parts (the first at the 5 MiB minimum), completed and read back
    let big_key = format!("{prefix}/multipart.bin");
    let part1: Vec<u8> = (0..5 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let part2 = b"tail of the object".to_vec();
    let upload = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(&big_key)
        .send()
        .await
        .expect("create mpu");
    let upload_id = upload.upload_id().expect("upload id");
    let mut parts = Vec::new();
    for (n, data) in [(1, part1.clone()), (2, part2.clone())] {
        let out = client
            .upload_part()
            .bucket(bucket)
            .key(&big_key)
            .upload_id(upload_id)
            .part_number(n)
            .body(ByteStream::from(data))
            .send()
            .await
            .expect("upload_part");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build(),
        );
    }
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(&big_key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete mpu");
    let obj = client
        .get_object()
        .bucket(bucket)
        .key(&big_key)
        .send()
        .await
        .expect("get multipart");
    let data = obj.body.collect().await.expect("read body").into_bytes();
    assert_eq!(data.len(), part1.len() + part2.len());
    assert_eq!(&data[..part1.len()], &part1[..]);
    assert_eq!(&data[part1.len()..], &part2[..]);

    for k in [&key, &big_key] {
        client
            .delete_object()
            .bucket(bucket)
            .key(k)
            .send()
            .await
            .expect("delete");
    }
}

#[test]
fn git_fetch_commit_by_sha_over_git_protocol() {
    let svc = Services::require();
    let name = format!("{}.git", unique("smoke"));
    let served = git2::Repository::init_bare(svc.git_root.join(&name)).expect("init served repo");

    // a commit with a nested file, written straight into the served bare repository
    let content = b"pub fn answer() -> u32 { 42 }\n";
    let blob = served.blob(content).expect("blob");
    let mut src = served.treebuilder(None).expect("treebuilder");
    src.insert("lib.rs", blob, 0o100644).expect("insert");
    let src = src.write().expect("write src tree");
    let mut root = served.treebuilder(None).expect("treebuilder");
    root.insert("src", src, 0o040000).expect("insert dir");
    root.insert("README", served.blob(b"smoke\n").expect("blob"), 0o100644)
        .expect("insert");
    let tree = served
        .find_tree(root.write().expect("write root"))
        .expect("tree");
    let sig =
        git2::Signature::now("Tributary Tests", "tests@tributary.invalid").expect("signature");
    let first = served
        .commit(Some("refs/heads/main"), &sig, &sig, "first", &tree, &[])
        .expect("commit");
    let first_commit = served.find_commit(first).expect("find");
    let second = served
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "second",
            &tree,
            &[&first_commit],
        )
        .expect("second commit");
    served.set_head("refs/heads/main").expect("HEAD");

    // fetch the *older* commit by SHA, shallow, into an empty bare repository
    let dir = tempfile::tempdir().expect("tempdir");
    let local = git2::Repository::init_bare(dir.path()).expect("init local");
    let url = format!("{}/{name}", svc.git_url);
    let mut remote = local.remote_anonymous(&url).expect("remote");
    let mut opts = git2::FetchOptions::new();
    opts.depth(1);
    remote
        .fetch(&[first.to_string()], Some(&mut opts), None)
        .expect("fetch by sha over git://");
    let commit = local.find_commit(first).expect("fetched commit is present");
    let entry = commit
        .tree()
        .expect("tree")
        .get_path(Path::new("src/lib.rs"))
        .expect("path in tree");
    let fetched = local.find_blob(entry.id()).expect("blob");
    assert_eq!(fetched.content(), content);
    assert!(
        local.find_commit(second).is_err(),
        "only the wanted commit was fetched"
    );

    // the branch resolves to the newer commit over the same transport
    let mut remote = local.remote_anonymous(&url).expect("remote");
    remote.connect(git2::Direction::Fetch).expect("connect");
    let heads = remote.list().expect("ls-remote");
    let main = heads
        .iter()
        .find(|h| h.name() == "refs/heads/main")
        .expect("main is advertised");
    assert_eq!(main.oid(), second);
    remote.disconnect().expect("disconnect");

    std::fs::remove_dir_all(svc.git_root.join(&name)).expect("clean up served repo");
}
