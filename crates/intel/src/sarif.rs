//! A run's secret findings as SARIF 2.1.0 — what code-scanning dashboards (GitHub,
//! GitLab, Azure DevOps) import — from its summary: one result per finding (rule,
//! file, line), its fingerprint as a partial fingerprint so a dashboard tracks it across
//! runs, never a value. gitleaks' own SARIF export is the model (a test compares them).

use serde_json::{Value, json};
use tributary_events::intelligence::ProjectSummary;

/// The run's SARIF log; `None` when it found no secret.
pub fn secrets(s: &ProjectSummary) -> Option<Value> {
    if s.secret_findings.is_empty() {
        return None;
    }
    let rules: std::collections::BTreeSet<&str> = s
        .secret_findings
        .iter()
        .map(|f| f.rule_id.as_str())
        .collect();
    let results: Vec<Value> = s
        .secret_findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule_id,
                "level": "error",
                "message": { "text": format!("{} has detected a secret (gitleaks rule {})", f.rule_id, f.rule_id) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.path },
                        "region": { "startLine": f.line },
                    },
                }],
            });
            if let Some(fp) = &f.fingerprint {
                r["partialFingerprints"] = json!({ "tributary/v1": fp });
            }
            r
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "tributary",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/gitleaks/gitleaks",
                "rules": rules.iter().map(|id| json!({
                    "id": id,
                    "shortDescription": { "text": format!("gitleaks rule {id}") },
                })).collect::<Vec<_>>(),
            },
        },
        "results": results,
        "automationDetails": { "id": format!("tributary/{}/{}", s.project, s.run_id) },
    });
    let counted: u64 = s.secrets.values().sum();
    if counted > s.secret_findings.len() as u64 {
        run["properties"] = json!({
            "truncated": format!("{} of {} findings listed", s.secret_findings.len(), counted),
        });
    }
    Some(json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }))
}
