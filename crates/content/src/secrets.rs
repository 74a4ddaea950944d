//! Secrets kept in a secret manager, for `aws-sm:ID[#KEY]` references: AWS Secrets
//! Manager, asked through the AWS default credential chain (region and endpoint from the
//! AWS configuration, e.g. `AWS_REGION`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`).
//!
//! References are resolved where they are used — often in a synchronous callback on a
//! blocking thread (git asking for credentials), sometimes in async code at start-up —
//! so the client lives on its own thread with its own small runtime and answers over a
//! channel: callable from anywhere, never a runtime inside a runtime. Values are cached
//! for [`TTL`] (a rotated secret is picked up within it; a run of fetches asks once),
//! and only successes are cached. Errors name the secret, never its value.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::ContentError;

/// How long a fetched value is used before it is asked for again.
pub const TTL: Duration = Duration::from_secs(300);
/// How long a caller waits for Secrets Manager (the SDK retries inside it).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A cache of secret values by id, each kept for [`TTL`].
#[derive(Debug, Default)]
pub struct Cache {
    values: Mutex<HashMap<String, (String, Instant)>>,
}

impl Cache {
    /// The cached value of `id`, or the one `fetch` gets (then cached).
    pub fn get_or_fetch(
        &self,
        id: &str,
        now: Instant,
        fetch: impl FnOnce() -> Result<String, ContentError>,
    ) -> Result<String, ContentError> {
        if let Some((v, at)) = self.lock().get(id)
            && now.saturating_duration_since(*at) < TTL
        {
            return Ok(v.clone());
        }
        let v = fetch()?;
        self.lock().insert(id.to_owned(), (v.clone(), now));
        Ok(v)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One question to the Secrets Manager thread.
type Request = (String, mpsc::SyncSender<Result<String, String>>);

/// The thread that talks to Secrets Manager, started on first use.
fn worker() -> &'static mpsc::SyncSender<Request> {
    static TX: OnceLock<mpsc::SyncSender<Request>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel::<Request>(64);
        std::thread::Builder::new()
            .name("tributary-secrets".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        for (_, reply) in rx {
                            let _ = reply.send(Err(format!("no runtime: {e}")));
                        }
                        return;
                    }
                };
                let client = rt.block_on(async {
                    let cfg = aws_config::defaults(aws_config::BehaviorVersion::latest())
                        .load()
                        .await;
                    aws_sdk_secretsmanager::Client::new(&cfg)
                });
                for (id, reply) in rx {
                    let answer = rt.block_on(async {
                        client
                            .get_secret_value()
                            .secret_id(&id)
                            .send()
                            .await
                            .map_err(|e| {
                                use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
                                // the service's error code, never a body or a value
                                e.code().unwrap_or("no answer").to_owned()
                            })
                            .and_then(|out| {
                                out.secret_string()
                                    .map(str::to_owned)
                                    .ok_or_else(|| "the secret holds no string".to_owned())
                            })
                    });
                    let _ = reply.send(answer);
                }
            })
            .expect("spawn the secrets thread");
        tx
    })
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// The value of AWS Secrets Manager secret `id`, or of its JSON field `key`.
pub fn aws_secrets_manager(id: &str, key: Option<&str>) -> Result<String, ContentError> {
    let shown = |why: &str| {
        let key = key.map(|k| format!("#{k}")).unwrap_or_default();
        ContentError::Credentials(format!("aws-sm:{id}{key} ({why})"))
    };
    let value = cache().get_or_fetch(id, Instant::now(), || {
        let (reply, answer) = mpsc::sync_channel(1);
        worker()
            .send((id.to_owned(), reply))
            .map_err(|_| shown("the secrets thread is gone"))?;
        match answer.recv_timeout(ANSWER_TIMEOUT) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(code)) => Err(shown(&code)),
            Err(_) => Err(shown("no answer from Secrets Manager")),
        }
    })?;
    match key {
        None => Ok(value),
        Some(k) => {
            json_field(&value, k).ok_or_else(|| shown("no such string field in the secret's JSON"))
        }
    }
}

/// The string field `key` of a JSON object.
fn json_field(json: &str, key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get(key)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests;
