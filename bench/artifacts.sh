#!/usr/bin/env bash
# Artifact sizes: the local release binary (with the embedded emulator, for
# `demo`), the Lambda build as `sam build` makes it (`cargo lambda build
# --release` with template.yaml's CargoLambdaFlags, `--no-default-features`:
# no emulator, no `serve`) for arm64, which template.yaml deploys, and for
# x86_64, and the FunctionGraph package. Writes the "Artifacts" section of
# BENCHMARKS.md (the last one). The arm64 build needs the aarch64 standard
# library (`rustup target add`, below) and cargo-lambda's Zig toolchain.
#
#   bash bench/artifacts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin vpcep-warden
mkdir -p target/sizes
rustup target add aarch64-unknown-linux-gnu
cargo lambda build --release --arm64 --no-default-features --output-format binary
cp target/lambda/vpcep-warden/bootstrap target/sizes/bootstrap-arm64
# x86_64 last: target/lambda/ is left with the one this machine runs.
cargo lambda build --release --no-default-features --output-format binary
cp target/lambda/vpcep-warden/bootstrap target/sizes/bootstrap-x86_64
bash deploy/functiongraph/package.sh >/dev/null

local_bin=target/release/vpcep-warden
lambda_bin=target/sizes/bootstrap-x86_64
lambda_arm=target/sizes/bootstrap-arm64
fg_zip=target/functiongraph/vpcep-warden.zip
mb() { python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 1e6:.1f}')" "$1"; }
has_emulator() { if "$1" demo >/dev/null 2>&1; then echo yes; else echo no; fi; }

section=$(cat <<MD
## Artifacts

Made by \`bash bench/artifacts.sh\`: stripped release builds.

| artifact | size MB | embedded emulator (\`demo\` runs) |
|---|---|---|
| local release binary, \`cargo build --release\` | $(mb $local_bin) | $(has_emulator $local_bin) |
| Lambda \`bootstrap\` arm64, \`cargo lambda build --release --arm64 --no-default-features\` (what \`sam build\` ships for template.yaml's arm64; no \`serve\`) | $(mb $lambda_arm) | no |
| Lambda \`bootstrap\` x86_64, \`cargo lambda build --release --no-default-features\` (no \`serve\`) | $(mb $lambda_bin) | $(has_emulator $lambda_bin) |
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
