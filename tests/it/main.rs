//! The integration suite: one test binary, run against the real Kafka, S3 and git
//! servers from deploy/local.

mod cli;
mod config;
mod consumer;
mod container;
mod cost;
mod git;
mod hostile;
mod hub;
mod intel;
mod manifests;
mod monitoring;
mod outage;
mod private;
mod publisher;
mod security;
mod smoke;
mod stores;
mod watch;
