#!/usr/bin/env bash
# Builds the FunctionGraph custom-runtime package: a static x86_64 Linux
# binary named `bootstrap`, zipped at target/functiongraph/vpcep-warden.zip.
#
# Static glibc (`+crt-static`) rather than musl: the build machine has only the
# x86_64-unknown-linux-gnu target. `--target` keeps RUSTFLAGS off build scripts
# and proc macros, which cannot be static. `--no-default-features --features
# serve` leaves out the embedded emulator (the `demo` command), which a
# deployment does not need, and keeps `serve` for HTTP functions.
#
# Usage: deploy/functiongraph/package.sh   (from anywhere in the repository)
set -euo pipefail

cd "$(dirname "$0")/../.."
target=x86_64-unknown-linux-gnu
binary="target/$target/release/vpcep-warden"
out=target/functiongraph
zipfile="$out/vpcep-warden.zip"

RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --no-default-features --features serve --target "$target" --bin vpcep-warden

# Static means no program interpreter and no needed libraries; `file` says
# "statically linked" or "static-pie linked", `ldd` "not a dynamic
# executable" or "statically linked" (it exits 1 for the former).
file_says=$(file -b "$binary")
ldd_says=$(ldd "$binary" 2>&1 || true)
if ! grep -Eq 'static(-pie)? linked' <<<"$file_says" &&
    ! grep -Eq 'not a dynamic executable|statically linked' <<<"$ldd_says"; then
    echo "error: $binary is not statically linked" >&2
    echo "file: $file_says" >&2
    echo "ldd: $ldd_says" >&2
    exit 1
fi
echo "file: $file_says"
echo "ldd: $ldd_says"

# It must start with nothing from this machine's environment, as in the
# runtime's fresh process.
if ! env -i "$binary" --help >/dev/null; then
    echo "error: $binary --help failed with an empty environment" >&2
    exit 1
fi

rm -rf "$out/package" "$zipfile"
mkdir -p "$out/package"
install -m 0755 "$binary" "$out/package/bootstrap"
if command -v zip >/dev/null; then
    (cd "$out/package" && zip -q -X -9 "../vpcep-warden.zip" bootstrap)
else
    (cd "$out/package" && python3 -m zipfile -c "../vpcep-warden.zip" bootstrap)
fi

# The archive holds exactly `bootstrap`, executable.
python3 - "$zipfile" <<'PY'
import stat, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    entries = z.infolist()
    names = [e.filename for e in entries]
    if names != ["bootstrap"]:
        sys.exit(f"error: the zip holds {names}, expected ['bootstrap']")
    mode = entries[0].external_attr >> 16
    if not mode & stat.S_IXUSR:
        sys.exit(f"error: bootstrap is not executable in the zip (mode {oct(mode)})")
PY

size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "bootstrap: $(size "$out/package/bootstrap") bytes ($(mib "$(size "$out/package/bootstrap")"))"
echo "$zipfile: $(size "$zipfile") bytes ($(mib "$(size "$zipfile")"))"
