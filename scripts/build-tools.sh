#!/usr/bin/env bash
# Builds the real servers the project runs on (Temporal dev server, FerretDB) from the Go module
# proxy, once per version, into a cache outside the clone so fresh clones on this machine reuse them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
FERRETDB_VERSION="$(grep -oE "github.com/FerretDB/FerretDB v[0-9.]+" "$here/tools/ferretdb/go.mod" | head -1 | cut -d" " -f2)"
cache="${HARDWARE_ORDERS_TOOLS_DIR:-$HOME/.cache/hardware-orders}"

need_go() {
  command -v go >/dev/null 2>&1 || { echo "build-tools: Go is required to build the Temporal dev server and FerretDB" >&2; exit 1; }
}

temporal_dir="$cache/temporal-$TEMPORAL_CLI_VERSION"
if [ ! -x "$temporal_dir/temporal" ]; then
  need_go
  echo "build-tools: building temporal CLI $TEMPORAL_CLI_VERSION (first time on this machine: several minutes)" >&2
  mkdir -p "$temporal_dir.tmp"
  CGO_ENABLED=0 GOBIN="$temporal_dir.tmp" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  rm -rf "$temporal_dir" && mv "$temporal_dir.tmp" "$temporal_dir"
fi

ferret_key="$(cat "$here/tools/ferretdb/go.mod" "$here/tools/ferretdb/go.sum" "$here/tools/ferretdb/main.go" | sha256sum | cut -c1-12)"
ferret_dir="$cache/ferretdb-$FERRETDB_VERSION-$ferret_key"
if [ ! -x "$ferret_dir/ferretdb" ]; then
  need_go
  echo "build-tools: building FerretDB $FERRETDB_VERSION (embedded, SQLite backend)" >&2
  mkdir -p "$ferret_dir.tmp"
  (cd "$here/tools/ferretdb" && CGO_ENABLED=0 go build -o "$ferret_dir.tmp/ferretdb" .)
  rm -rf "$ferret_dir" && mv "$ferret_dir.tmp" "$ferret_dir"
fi

# Machine-readable answer for the Node side.
printf '{"temporal":"%s","ferretdb":"%s"}\n' "$temporal_dir/temporal" "$ferret_dir/ferretdb"
