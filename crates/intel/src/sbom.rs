//! A run's software bill of materials as CycloneDX 1.5 JSON, from its summary's
//! dependency inventory: one `library` component per package (its purl as `bom-ref`),
//! the project as the BOM's subject, which depends on the direct packages.

use serde_json::{Value, json};
use tributary_events::intelligence::{InventoryEntry, ProjectSummary};

/// The CycloneDX specification version written.
pub const SPEC_VERSION: &str = "1.5";

/// The BOM of the run the summary describes; `None` when the project has no
/// dependency inventory.
pub fn cyclonedx(s: &ProjectSummary) -> Option<Value> {
    let deps = s.dependencies.as_ref()?;
    let timestamp = s
        .generated_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let components: Vec<Value> = deps.list.iter().map(component).collect();
    let direct: Vec<&str> = deps
        .list
        .iter()
        .filter(|e| e.dependency.direct == Some(true))
        .map(|e| e.dependency.purl.as_str())
        .collect();
    let mut subject = json!({
        "type": "application",
        "bom-ref": "project",
        "name": s.project,
    });
    if let Some(commit) = &s.commit {
        subject["version"] = json!(commit);
    }
    let mut properties = vec![json!({"name": "tributary:run_id", "value": s.run_id.to_string()})];
    if deps.packages > deps.list.len() as u64 || deps.left_out > 0 {
        properties.push(json!({
            "name": "tributary:truncated",
            "value": format!(
                "{} of {} packages listed; {} entries not kept",
                deps.list.len(),
                deps.packages,
                deps.left_out
            ),
        }));
    }
    Some(json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": format!("urn:uuid:{}", s.run_id),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "tributary",
                    "version": env!("CARGO_PKG_VERSION"),
                }],
            },
            "component": subject,
            "properties": properties,
        },
        "components": components,
        "dependencies": [{ "ref": "project", "dependsOn": direct }],
    }))
}

fn component(e: &InventoryEntry) -> Value {
    let d = &e.dependency;
    // npm scopes and Composer vendors are CycloneDX groups
    let (group, name) = match d.purl.split_once('/').map(|(t, _)| t) {
        Some("pkg:npm" | "pkg:composer") => match d.name.split_once('/') {
            Some((g, n)) => (Some(g), n),
            None => (None, d.name.as_str()),
        },
        _ => (None, d.name.as_str()),
    };
    let mut c = json!({
        "type": "library",
        "bom-ref": d.purl,
        "name": name,
        "purl": d.purl,
    });
    if let Some(g) = group {
        c["group"] = json!(g);
    }
    if let Some(v) = &d.version {
        c["version"] = json!(v);
    }
    // CycloneDX's scopes: what the product needs at run time, may use, or does not ship
    let scope = match d.scope.as_deref() {
        Some("dev" | "test") => Some("excluded"),
        Some("optional") => Some("optional"),
        Some(_) => Some("required"),
        None => None,
    };
    if let Some(scope) = scope {
        c["scope"] = json!(scope);
    }
    let mut properties = Vec::new();
    if let Some(direct) = d.direct {
        properties.push(json!({"name": "tributary:direct", "value": direct.to_string()}));
    }
    if let Some(r) = &d.requirement {
        properties.push(json!({"name": "tributary:requirement", "value": r}));
    }
    for f in &e.files {
        properties.push(json!({"name": "tributary:found_in", "value": f}));
    }
    c["properties"] = Value::Array(properties);
    c
}
