use super::*;

fn found(name: &str, text: &str) -> Option<Found> {
    let mut d = Vec::new();
    let f = detect(is_license_file(name), text, &mut d);
    assert!(d.is_empty(), "{d:?}");
    f
}

const MIT: &str = "MIT License\n\nCopyright (c) 2024 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction, including without limitation the rights\nto use, copy, modify, merge, publish, distribute, sublicense, and/or sell\ncopies of the Software, and to permit persons to whom the Software is\nfurnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\nIMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\nFITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\nAUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\nLIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\nOUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\nSOFTWARE.\n";

#[test]
fn spdx_identifiers_are_parsed_and_canonical() {
    let f = found(
        "a.rs",
        "// SPDX-License-Identifier: Apache-2.0 OR MIT\nfn main() {}\n",
    )
    .expect("id");
    assert_eq!(
        (f.spdx.as_str(), f.confidence, f.method),
        ("Apache-2.0 OR MIT", 1.0, Method::SpdxIdentifier)
    );
    let f = found("a.c", "/* SPDX-License-Identifier: GPL-2.0+ */\n").expect("id");
    assert!(f.spdx.starts_with("GPL-2.0"), "{}", f.spdx);
    let mut d = Vec::new();
    assert_eq!(
        detect(false, "// SPDX-License-Identifier: (((\n", &mut d),
        None
    );
    assert_eq!(d.len(), 1, "an invalid identifier is a diagnostic");
}

#[test]
fn license_files_are_matched_against_the_spdx_texts() {
    let f = found("LICENSE", MIT).expect("MIT");
    assert_eq!((f.spdx.as_str(), f.method), ("MIT", Method::LicenseText));
    assert!(f.confidence > 0.9, "{}", f.confidence);
    assert!(found("LICENSE-MIT", MIT).is_some());
    assert!(is_license_file("COPYING.txt") && is_license_file("licence.md"));
    assert!(!is_license_file("licensed.rs"));
    // not a license at all
    assert_eq!(found("LICENSE", "All rights reserved. Ask us.\n"), None);
}

#[test]
fn standard_headers_in_source_files() {
    let header = "/*\n * Licensed under the Apache License, Version 2.0 (the \"License\");\n * you may not use this file except in compliance with the License.\n * You may obtain a copy of the License at\n *\n *      http://www.apache.org/licenses/LICENSE-2.0\n *\n * Unless required by applicable law or agreed to in writing, software\n * distributed under the License is distributed on an \"AS IS\" BASIS,\n * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n * See the License for the specific language governing permissions and\n * limitations under the License.\n */\npackage a;\n";
    let f = found("A.java", header).expect("Apache header");
    assert_eq!((f.spdx.as_str(), f.method), ("Apache-2.0", Method::Header));
    assert_eq!(
        found("a.py", "# this code has no license words\nx = 1\n"),
        None
    );
}

#[test]
fn the_leading_comment_block_is_what_a_header_is_looked_for_in() {
    let src = "#!/usr/bin/env python3\n# Copyright 2020 X\n#\n# Licensed under MIT\n\nimport os\n# later comment\n";
    assert_eq!(
        leading_comment(src),
        "#!/usr/bin/env python3\n# Copyright 2020 X\n#\n# Licensed under MIT\n\n"
    );
    let c = "/*\n * a\n * b\n */\nint x;\n";
    assert_eq!(leading_comment(c), "/*\n * a\n * b\n */\n");
    let py = "\"\"\"Doc\nstring\n\"\"\"\nx = 1\n";
    assert_eq!(leading_comment(py), "\"\"\"Doc\nstring\n\"\"\"\n");
    assert_eq!(leading_comment("fn main() {}\n// x\n"), "");
}

#[test]
fn headers_differing_only_in_years_share_one_answer() {
    let header = |year: u32| {
        format!(
            "// Copyright {year} The Authors.\n//\n// Licensed under the Apache License, Version 2.0 (the \"License\");\n// you may not use this file except in compliance with the License.\n// You may obtain a copy of the License at\n//\n//      http://www.apache.org/licenses/LICENSE-2.0\n//\n// Unless required by applicable law or agreed to in writing, software\n// distributed under the License is distributed on an \"AS IS\" BASIS,\n// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n// See the License for the specific language governing permissions and\n// limitations under the License.\n\npackage a\n"
        )
    };
    let a = found("a.go", &header(2019)).expect("Apache");
    let b = found("b.go", &header(2024)).expect("Apache");
    assert_eq!(a, b);
    assert_eq!(a.spdx, "Apache-2.0");
    // a short pointer to a LICENSE file is not a license
    assert_eq!(
        found(
            "c.go",
            "// Use of this source code is governed by a BSD-style\n// license that can be found in the LICENSE file.\npackage c\n"
        ),
        None
    );
}
