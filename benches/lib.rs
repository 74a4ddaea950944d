//! What the bench binaries share.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;

/// Every file intelligence document on `topic`, read from the beginning until the
/// topic has been quiet for 3 s.
pub fn file_documents(brokers: &str, topic: &str) -> Vec<serde_json::Value> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench-reader-{}", std::process::id()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut docs = Vec::new();
    let mut idle = 0;
    while idle < 30 {
        match consumer.poll(Duration::from_millis(100)) {
            None => idle += 1,
            Some(Err(e)) => panic!("consume {topic}: {e}"),
            Some(Ok(m)) => {
                idle = 0;
                if let Some(Ok(doc)) = m.payload().map(serde_json::from_slice::<serde_json::Value>)
                    && doc["doc_type"] == "file_intelligence"
                {
                    docs.push(doc);
                }
            }
        }
    }
    docs
}
