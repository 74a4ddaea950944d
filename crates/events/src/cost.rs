//! What a run costs: a price table, the usage a component measured, and the arithmetic
//! between them. Pure: the usage is measured by the daemons (bytes they uploaded,
//! produced and downloaded, requests they made, CPU their process used), the prices
//! come from configuration, and this module only multiplies.
//!
//! Units: bytes are billed per GiB (2^30 bytes, as cloud bills count a "GB"), storage
//! per GiB-month of 30 days for as long as it is retained, requests per thousand, CPU
//! per second of process CPU time (user + system).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const GIB: f64 = (1u64 << 30) as f64;
const DAYS_PER_MONTH: f64 = 30.0;

/// Prices in US dollars. The defaults are AWS list prices in us-east-1 (S3 Standard,
/// MSK Serverless, Fargate vCPU), as the seeds give them where they do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriceTable {
    /// Names this table in every cost it prices (change it when you change a price).
    pub version: String,
    /// Object storage, per GiB-month.
    pub storage_usd_per_gb_month: f64,
    /// Bytes read out of the object store, per GiB (0 when consumers run in the
    /// store's region).
    pub transfer_usd_per_gb: f64,
    /// PUT, COPY, POST and LIST requests, per 1,000.
    pub put_usd_per_1000: f64,
    /// GET and HEAD requests, per 1,000.
    pub get_usd_per_1000: f64,
    /// Bytes produced to Kafka, per GiB.
    pub kafka_in_usd_per_gb: f64,
    /// Bytes consumed from Kafka, per GiB.
    pub kafka_out_usd_per_gb: f64,
    /// Bytes retained by Kafka, per GiB-month.
    pub kafka_storage_usd_per_gb_month: f64,
    /// Process CPU time, per second (a vCPU-hour / 3,600).
    pub cpu_usd_per_second: f64,
    /// How long a stored content object is paid for (the bucket's lifecycle).
    pub object_retention_days: f64,
    /// How long Kafka keeps what is produced (the topics' retention.ms).
    pub kafka_retention_days: f64,
    /// What one second of delay in a file's way to its document is worth to you: the
    /// learned strategy choice weighs measured latency and failures with it against
    /// the dollars above (`--strategy-model`).
    pub delay_usd_per_second: f64,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable {
            version: "aws-us-east-1-2026-11".to_owned(),
            storage_usd_per_gb_month: 0.023,
            transfer_usd_per_gb: 0.09,
            put_usd_per_1000: 0.005,
            get_usd_per_1000: 0.0004,
            kafka_in_usd_per_gb: 0.10,
            kafka_out_usd_per_gb: 0.05,
            kafka_storage_usd_per_gb_month: 0.10,
            cpu_usd_per_second: 0.04048 / 3600.0,
            object_retention_days: 30.0,
            kafka_retention_days: 7.0,
            delay_usd_per_second: 0.0001,
        }
    }
}

/// Why a price table was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceTableError {
    #[error("the price table has no version")]
    NoVersion,
    #[error("price table {field}: {value} is not a finite number ≥ 0")]
    Invalid { field: &'static str, value: f64 },
}

impl PriceTable {
    /// Every number finite and not negative, and a version to name the table by.
    pub fn validate(&self) -> Result<(), PriceTableError> {
        if self.version.trim().is_empty() {
            return Err(PriceTableError::NoVersion);
        }
        for (field, value) in [
            ("storage_usd_per_gb_month", self.storage_usd_per_gb_month),
            ("transfer_usd_per_gb", self.transfer_usd_per_gb),
            ("put_usd_per_1000", self.put_usd_per_1000),
            ("get_usd_per_1000", self.get_usd_per_1000),
            ("kafka_in_usd_per_gb", self.kafka_in_usd_per_gb),
            ("kafka_out_usd_per_gb", self.kafka_out_usd_per_gb),
            (
                "kafka_storage_usd_per_gb_month",
                self.kafka_storage_usd_per_gb_month,
            ),
            ("cpu_usd_per_second", self.cpu_usd_per_second),
            ("object_retention_days", self.object_retention_days),
            ("kafka_retention_days", self.kafka_retention_days),
            ("delay_usd_per_second", self.delay_usd_per_second),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(PriceTableError::Invalid { field, value });
            }
        }
        Ok(())
    }

    /// Prices what one component did.
    pub fn price(&self, usage: &Usage) -> ComponentCost {
        let gib = |bytes: u64| bytes as f64 / GIB;
        let storage = gib(usage.bytes_stored)
            * self.storage_usd_per_gb_month
            * (self.object_retention_days / DAYS_PER_MONTH);
        let requests = usage.object_puts as f64 / 1000.0 * self.put_usd_per_1000
            + usage.object_gets as f64 / 1000.0 * self.get_usd_per_1000;
        let transfer = gib(usage.bytes_downloaded) * self.transfer_usd_per_gb;
        let kafka = gib(usage.kafka_bytes_produced) * self.kafka_in_usd_per_gb
            + gib(usage.kafka_bytes_consumed) * self.kafka_out_usd_per_gb
            + gib(usage.kafka_bytes_produced)
                * self.kafka_storage_usd_per_gb_month
                * (self.kafka_retention_days / DAYS_PER_MONTH);
        let compute = usage.cpu_seconds.max(0.0) * self.cpu_usd_per_second;
        ComponentCost {
            usage: *usage,
            storage_usd: storage,
            requests_usd: requests,
            transfer_usd: transfer,
            kafka_usd: kafka,
            compute_usd: compute,
            total_usd: storage + requests + transfer + kafka + compute,
        }
    }

    /// Prices each component's usage; the total is their sum.
    pub fn run_cost(&self, components: &[(Component, Usage)]) -> RunCost {
        let components: BTreeMap<Component, ComponentCost> = components
            .iter()
            .map(|(c, u)| (*c, self.price(u)))
            .collect();
        RunCost {
            price_table: self.version.clone(),
            total_usd: components.values().map(|c| c.total_usd).sum(),
            components,
        }
    }
}

/// What one component did in a run, as it measured it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// PUT and LIST requests to the object store.
    pub object_puts: u64,
    /// GET and HEAD requests to the object store.
    pub object_gets: u64,
    /// Bytes of objects written by this run (objects already there cost nothing new).
    pub bytes_stored: u64,
    /// Bytes read from the object store.
    pub bytes_downloaded: u64,
    /// Bytes of the records this component produced to Kafka (keys and values).
    pub kafka_bytes_produced: u64,
    /// Bytes of the records this component consumed from Kafka.
    pub kafka_bytes_consumed: u64,
    /// Process CPU time (user + system) spent on the run.
    pub cpu_seconds: f64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.object_puts += other.object_puts;
        self.object_gets += other.object_gets;
        self.bytes_stored += other.bytes_stored;
        self.bytes_downloaded += other.bytes_downloaded;
        self.kafka_bytes_produced += other.kafka_bytes_produced;
        self.kafka_bytes_consumed += other.kafka_bytes_consumed;
        self.cpu_seconds += other.cpu_seconds;
    }
}

/// Who spent it: the `component` of a cost and of `tributary_cost_estimated_dollars_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Publisher,
    Consumer,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Publisher => "publisher",
            Component::Consumer => "consumer",
        }
    }
}

/// One component's usage and what it cost, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ComponentCost {
    pub usage: Usage,
    pub storage_usd: f64,
    pub requests_usd: f64,
    pub transfer_usd: f64,
    pub kafka_usd: f64,
    pub compute_usd: f64,
    pub total_usd: f64,
}

/// The `cost` section of a run's completion event and of a project summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCost {
    /// The price table's `version`.
    pub price_table: String,
    pub components: BTreeMap<Component, ComponentCost>,
    pub total_usd: f64,
}

#[cfg(test)]
mod tests;
