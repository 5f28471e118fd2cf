#!/usr/bin/env bash
# A real S3-compatible object store for the team-vault tests and benchmarks: versitygw (posix backend),
# built once from the Go module proxy and cached outside the repository.
#
#   scripts/s3-server.sh --build        build (if needed) and print the binary's path
#   scripts/s3-server.sh --which        print the binary's path if built, exit 1 otherwise
#   scripts/s3-server.sh PORT DIR       start it on 127.0.0.1:PORT with objects under DIR/data (buckets are
#                                       directories); runs in the foreground
#
# Credentials are AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set, else a fixed local test pair. The
# first lines printed are `endpoint=…`, `access_key=…`, `secret_key=…`, `region=…`.
set -euo pipefail

VERSION="${VERSITYGW_VERSION:-v1.8.0}"
TOOLS="${SPECIMEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/specimen-vault}"
BIN="$TOOLS/versitygw-$VERSION/versitygw"

build() {
  if [ -x "$BIN" ]; then return 0; fi
  # The Go toolchain's usual home, for shells whose PATH lacks it.
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="$PATH:/usr/local/go/bin"; fi
  command -v go >/dev/null || { echo "s3-server: Go is needed to build versitygw $VERSION (apt-get install golang, or a Go toolchain on PATH)" >&2; exit 2; }
  mkdir -p "$(dirname "$BIN")"
  echo "s3-server: building versitygw $VERSION into $(dirname "$BIN") (once; takes a few minutes)" >&2
  GOFLAGS=-mod=mod GOBIN="$(dirname "$BIN")" nice -n 5 go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
}

case "${1:-}" in
  --build) build; echo "$BIN"; exit 0 ;;
  --which) if [ -x "$BIN" ]; then echo "$BIN"; exit 0; else exit 1; fi ;;
  ''|-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

PORT="$1"
DIR="${2:?usage: scripts/s3-server.sh PORT DIR}"
build
mkdir -p "$DIR/data"
ACCESS="${AWS_ACCESS_KEY_ID:-specimen-test-access}"
SECRET="${AWS_SECRET_ACCESS_KEY:-specimen-test-secret-key}"
echo "endpoint=http://127.0.0.1:$PORT"
echo "access_key=$ACCESS"
echo "secret_key=$SECRET"
echo "region=us-east-1"
echo "server=versitygw $VERSION"
# Object metadata (ETag, checksums, user metadata) goes into extended attributes of the object's file,
# which versitygw publishes together with the bytes in one link(); its sidecar mode writes metadata before
# the bytes appear, so a concurrent GET can pair an old body with a new ETag, which breaks conditional
# writes. The sidecar is used only where the filesystem has no user xattrs.
backend_opts=()
if ! python3 -c 'import os,sys; p=sys.argv[1]+"/.xattr-probe"; open(p,"w").close(); os.setxattr(p,"user.probe",b"1"); os.remove(p)' "$DIR/data" 2>/dev/null; then
  mkdir -p "$DIR/meta"
  backend_opts=(--sidecar "$DIR/meta")
  echo "s3-server: no user xattrs under $DIR; using a sidecar directory (conditional writes are not race-free then)" >&2
fi
# Bound to loopback only.
exec "$BIN" --access "$ACCESS" --secret "$SECRET" --region us-east-1 --port "127.0.0.1:$PORT" \
  posix "${backend_opts[@]}" "$DIR/data"
