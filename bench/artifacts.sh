#!/usr/bin/env bash
# Artifact sizes: the local release binary (with the embedded emulator, for
# `demo`), the Lambda build as `sam build` makes it (`cargo lambda build
# --release` with template.yaml's CargoLambdaFlags, `--no-default-features`:
# no emulator, no `serve`), and the FunctionGraph package. Writes the "Artifacts" section
# of BENCHMARKS.md (the last one).
#
#   bash bench/artifacts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin vpcep-warden
cargo lambda build --release --no-default-features --output-format binary
bash deploy/functiongraph/package.sh >/dev/null

local_bin=target/release/vpcep-warden
lambda_bin=target/lambda/vpcep-warden/bootstrap
fg_zip=target/functiongraph/vpcep-warden.zip
mb() { python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 1e6:.1f}')" "$1"; }
has_emulator() { if "$1" demo >/dev/null 2>&1; then echo yes; else echo no; fi; }

section=$(cat <<MD
## Artifacts

Made by \`bash bench/artifacts.sh\`: stripped release builds.

| artifact | size MB | embedded emulator (\`demo\` runs) |
|---|---|---|
| local release binary, \`cargo build --release\` | $(mb $local_bin) | $(has_emulator $local_bin) |
| Lambda \`bootstrap\`, \`cargo lambda build --release --no-default-features\` (what \`sam build\` ships; no \`serve\`) | $(mb $lambda_bin) | $(has_emulator $lambda_bin) |
| FunctionGraph package, \`deploy/functiongraph/package.sh\` (zip; with \`serve\`) | $(mb $fg_zip) | no |
MD
)
python3 - "$section" <<'PY'
import sys
path = "BENCHMARKS.md"
text = open(path).read()
head = text.split("\n## Artifacts", 1)[0].rstrip("\n")
open(path, "w").write(head + "\n\n" + sys.argv[1] + "\n")
PY
echo "$section"
