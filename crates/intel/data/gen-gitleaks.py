#!/usr/bin/env python3
"""Regenerates gitleaks.json from gitleaks' own default rule file.

    go mod download -json github.com/zricethezav/gitleaks/v8@v8.30.1   # prints "Dir"
    python3 crates/intel/data/gen-gitleaks.py DIR/config/gitleaks.toml > crates/intel/data/gitleaks.json

Keeps what the analyser uses: each rule's id, regex, secretGroup, entropy, keywords,
path and allowlists, and the global allowlist; gitleaks' MIT license is in
GITLEAKS-LICENSE beside this script. The regexes are RE2 syntax, which the `regex`
crate reads as is (a unit test compiles every one).
"""
import json
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    config = tomllib.load(f)


def allowlist(a):
    out = {}
    for key in ("condition", "regexTarget", "regexes", "paths", "stopwords"):
        if key in a:
            out[key] = a[key]
    return out


rules = []
for r in config["rules"]:
    rule = {"id": r["id"]}
    for key in ("regex", "secretGroup", "entropy", "keywords", "path"):
        if key in r:
            rule[key] = r[key]
    if "allowlists" in r:
        rule["allowlists"] = [allowlist(a) for a in r["allowlists"]]
    rules.append(rule)

out = {
    "source": "gitleaks " + sys.argv[2] if len(sys.argv) > 2 else "gitleaks",
    "allowlist": allowlist(config.get("allowlist", {})),
    "rules": rules,
}
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
