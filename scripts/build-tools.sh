#!/usr/bin/env bash
# Builds the real servers the project runs on (Temporal dev server, the real Temporal server,
# FerretDB) from the Go module proxy, once per version, into a cache outside the clone so fresh
# clones on this machine reuse them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
TEMPORAL_SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
FERRETDB_VERSION="$(grep -oE "github.com/FerretDB/FerretDB v[0-9.]+" "$here/tools/ferretdb/go.mod" | head -1 | cut -d" " -f2)"
cache="${HARDWARE_ORDERS_TOOLS_DIR:-$HOME/.cache/hardware-orders}"

need_go() {
  command -v go >/dev/null 2>&1 || { echo "build-tools: Go is required to build the Temporal dev server and FerretDB" >&2; exit 1; }
}

# go_tool NAME MODULE VERSION: `go install MODULE@VERSION` (pure Go, no cgo) once into
# $cache/NAME-VERSION/, then prints the binary's path (named after the module's last element).
go_tool() {
  local name="$1" module="$2" version="$3"
  local dir="$cache/$name-$version"
  local bin="$dir/${module##*/}"
  if [ ! -x "$bin" ]; then
    need_go
    echo "build-tools: building $name $version from $module (first time on this machine: minutes)" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    CGO_ENABLED=0 GOBIN="$dir.tmp" go install "$module@$version"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  printf '%s' "$bin"
}

# The CLI's dev server (npm start, most tests) and the real server (the mTLS test; cluster profiles).
temporal_bin="$(go_tool temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION")"
temporal_server_bin="$(go_tool temporal-server go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION")"

# With --cluster (npm run start:cluster, the cluster test tier): the server's own SQL schema tool
# (schemas embedded) at the server's version, and the stand-alone Web UI server at the version the
# CLI embeds (its built assets are part of the module).
cluster=""
for arg in "$@"; do [ "$arg" = "--cluster" ] && cluster=1; done
temporal_sql_bin="" temporal_ui_bin="" postgres_bin=""
if [ -n "$cluster" ]; then
  TEMPORAL_UI_VERSION="${TEMPORAL_UI_VERSION:-v2.42.1}"
  temporal_sql_bin="$(go_tool temporal-sql go.temporal.io/server/cmd/tools/sql "$TEMPORAL_SERVER_VERSION")"
  temporal_ui_bin="$(go_tool temporal-ui github.com/temporalio/ui-server/v2/cmd/server "$TEMPORAL_UI_VERSION")"
fi

# FerretDB is built with our patches (tools/ferretdb/patches) applied to the module's source.
ferret_key="$(cat "$here/tools/ferretdb/go.mod" "$here/tools/ferretdb/go.sum" "$here/tools/ferretdb/main.go" "$here"/tools/ferretdb/patches/*.patch | sha256sum | cut -c1-12)"
ferret_dir="$cache/ferretdb-$FERRETDB_VERSION-$ferret_key"
if [ ! -x "$ferret_dir/ferretdb" ]; then
  need_go
  echo "build-tools: building FerretDB $FERRETDB_VERSION (embedded, SQLite backend, patched)" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$here/tools/ferretdb" && go mod download github.com/FerretDB/FerretDB)
  src="$(cd "$here/tools/ferretdb" && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)"
  cp -r "$src" "$work/FerretDB" && chmod -R u+w "$work/FerretDB"
  for p in "$here"/tools/ferretdb/patches/*.patch; do
    (cd "$work/FerretDB" && git apply --unsafe-paths -p1 "$p") || { echo "build-tools: patch $p does not apply" >&2; exit 1; }
  done
  cp "$here/tools/ferretdb/go.mod" "$here/tools/ferretdb/go.sum" "$work/"
  go mod edit -replace "github.com/FerretDB/FerretDB=$work/FerretDB" "$work/go.mod"
  mkdir -p "$ferret_dir.tmp"
  (cd "$here/tools/ferretdb" && CGO_ENABLED=0 go build -modfile="$work/go.mod" -o "$ferret_dir.tmp/ferretdb" .)
  rm -rf "$ferret_dir" && mv "$ferret_dir.tmp" "$ferret_dir"
fi

# With --sshd (the integration tests' setup): Debian's OpenSSH server, which the SFTP warehouse
# tests start on a free port with their own configuration. Installed from apt when we may;
# otherwise a clear message here, and test/support/sshd.ts says the same when the test starts.
sshd=""
for arg in "$@"; do [ "$arg" = "--sshd" ] && sshd=1; done
if [ -n "$sshd" ] && [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-tools: installing openssh-server (apt-get) for the SFTP warehouse tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends openssh-server >&2 ||
      { apt-get update >&2 && apt-get install -y --no-install-recommends openssh-server >&2; } ||
      echo "build-tools: could not install openssh-server; the SFTP warehouse tests will fail" >&2
  else
    echo "build-tools: /usr/sbin/sshd is missing and cannot be installed here (needs root and apt-get): install openssh-server for the SFTP warehouse tests" >&2
  fi
fi

# With --cluster: PostgreSQL 15 from Debian (bookworm's version), which the cluster profile runs
# as the `postgres` user in a data folder of its own (infra/cluster.ts).
if [ -n "$cluster" ]; then
  pg_bin="/usr/lib/postgresql/15/bin"
  if [ ! -x "$pg_bin/postgres" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "build-tools: installing postgresql-15 (apt-get) for the cluster profile" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y --no-install-recommends postgresql-15 >&2 ||
        { apt-get update >&2 && apt-get install -y --no-install-recommends postgresql-15 >&2; } ||
        { echo "build-tools: could not install postgresql-15" >&2; exit 1; }
    else
      echo "build-tools: $pg_bin/postgres is missing and cannot be installed here (needs root and apt-get): install postgresql-15" >&2
      exit 1
    fi
  fi
  postgres_bin="$pg_bin"
fi

# Machine-readable answer for the Node side.
printf '{"temporal":"%s","temporalServer":"%s","ferretdb":"%s","temporalSql":"%s","temporalUi":"%s","postgresBin":"%s"}\n' \
  "$temporal_bin" "$temporal_server_bin" "$ferret_dir/ferretdb" "$temporal_sql_bin" "$temporal_ui_bin" "$postgres_bin"
