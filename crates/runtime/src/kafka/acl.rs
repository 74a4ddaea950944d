//! What this principal may do with a topic, asked of the cluster: librdkafka's
//! `DescribeTopics` with `include_authorized_operations` (KIP-430), which rdkafka 0.39
//! does not wrap — so this is the crate's one FFI use, kept to one function. It lets
//! `check` say "may not write" before a run, without producing anything.

use std::ffi::{CStr, CString};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::RDKafkaErrorCode;

use super::Context;

/// A topic operation `check` asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Describe,
    Read,
    Write,
}

impl Operation {
    fn code(self) -> u32 {
        match self {
            Operation::Describe => {
                rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_DESCRIBE as u32
            }
            Operation::Read => rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_READ as u32,
            Operation::Write => rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_WRITE as u32,
        }
    }
}

/// The topic's authorised operations for this principal, or the error the cluster gave
/// (`TopicAuthorizationFailed` when it may not even describe it). Blocking.
pub(super) fn authorized(
    client: &BaseConsumer<Context>,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<u32>, (RDKafkaErrorCode, String)> {
    let name = CString::new(topic).map_err(|_| {
        (
            RDKafkaErrorCode::InvalidTopic,
            "a NUL in the topic name".to_owned(),
        )
    })?;
    let rk = client.client().native_ptr();
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    #[allow(unsafe_code)]
    // SAFETY: every pointer passed to librdkafka below is either `rk` (alive for as long
    // as `client` is borrowed), `name` (a NUL-terminated string alive until the end of
    // this function) or an object created here and destroyed here exactly once, after
    // its last use; the result event owns the descriptions read from it, and everything
    // read from them is copied before the event is destroyed. The operations array is
    // read as `u32`s, not as the Rust enum, so an operation code this binding does not
    // know cannot produce an invalid enum value.
    unsafe {
        let mut names = [name.as_ptr()];
        let topics = rd::rd_kafka_TopicCollection_of_topic_names(names.as_mut_ptr(), 1);
        let options = rd::rd_kafka_AdminOptions_new(
            rk,
            rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBETOPICS,
        );
        let err = rd::rd_kafka_AdminOptions_set_include_authorized_operations(options, 1);
        if !err.is_null() {
            rd::rd_kafka_error_destroy(err);
        }
        let mut errstr = [0 as std::os::raw::c_char; 256];
        let _ = rd::rd_kafka_AdminOptions_set_request_timeout(
            options,
            timeout_ms,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        let queue = rd::rd_kafka_queue_new(rk);
        rd::rd_kafka_DescribeTopics(rk, topics, options, queue);
        let event = rd::rd_kafka_queue_poll(queue, timeout_ms.saturating_add(1000));
        let out = if event.is_null() {
            Err((RDKafkaErrorCode::RequestTimedOut, "no answer".to_owned()))
        } else if rd::rd_kafka_event_error(event)
            != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
        {
            let code = RDKafkaErrorCode::from(rd::rd_kafka_event_error(event));
            let text = CStr::from_ptr(rd::rd_kafka_event_error_string(event))
                .to_string_lossy()
                .into_owned();
            Err((code, text))
        } else {
            let result = rd::rd_kafka_event_DescribeTopics_result(event);
            let mut count = 0usize;
            let descriptions = rd::rd_kafka_DescribeTopics_result_topics(result, &mut count);
            if descriptions.is_null() || count == 0 {
                Err((
                    RDKafkaErrorCode::UnknownTopicOrPartition,
                    "no description".to_owned(),
                ))
            } else {
                let d = *descriptions;
                let e = rd::rd_kafka_TopicDescription_error(d);
                let code = if e.is_null() {
                    rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                } else {
                    rd::rd_kafka_error_code(e)
                };
                if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    let mut n = 0usize;
                    let ops = rd::rd_kafka_TopicDescription_authorized_operations(d, &mut n)
                        .cast::<u32>();
                    Ok(if ops.is_null() {
                        Vec::new()
                    } else {
                        std::slice::from_raw_parts(ops, n).to_vec()
                    })
                } else {
                    let text = CStr::from_ptr(rd::rd_kafka_error_string(e))
                        .to_string_lossy()
                        .into_owned();
                    Err((RDKafkaErrorCode::from(code), text))
                }
            }
        };
        if !event.is_null() {
            rd::rd_kafka_event_destroy(event);
        }
        rd::rd_kafka_queue_destroy(queue);
        rd::rd_kafka_AdminOptions_destroy(options);
        rd::rd_kafka_TopicCollection_destroy(topics);
        out
    }
}

/// Whether `ops` (from [`authorized`]) allow `op`.
pub fn allows(ops: &[u32], op: Operation) -> bool {
    let all = rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ALL as u32;
    ops.iter().any(|o| *o == op.code() || *o == all)
}
