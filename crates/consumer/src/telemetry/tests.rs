use super::*;

#[test]
fn every_readiness_check_line_names_its_dependency() {
    let cases = [
        ("kafka 127.0.0.1:9092", Some(Dependency::Kafka)),
        ("kafka topic tributary.index.v2", Some(Dependency::Kafka)),
        ("object store", Some(Dependency::ObjectStore)),
        ("content cache /var/cache/t", Some(Dependency::CacheDisk)),
        ("git cache /var/cache/g", Some(Dependency::CacheDisk)),
        ("analysis cache /var/cache/a", Some(Dependency::CacheDisk)),
        ("git credential github", Some(Dependency::Git)),
        ("git known_hosts", Some(Dependency::Git)),
        ("mount root /repos", Some(Dependency::MountRoot)),
        ("something else", None),
    ];
    for (check, want) in cases {
        assert_eq!(Dependency::of(check), want, "{check}");
    }
}
