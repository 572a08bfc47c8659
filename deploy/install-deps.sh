#!/usr/bin/env bash
# Installs (apt-get) what gridflow needs to build, run and test.  Idempotent:
# when every package is present it does nothing and touches no network.
set -euo pipefail

PACKAGES=(
  gcc make pkg-config            # build
  libczmq-dev libzmq3-dev        # ZeroMQ bus (czmq actors, zsock)
  libmsgpack-dev                 # wire format
  libjansson-dev                 # JSON: event payloads, adapters' input, gridctl --json
  libpq-dev                      # PostgreSQL client
  libcurl4-openssl-dev           # notifier channels: SMS HTTP gateway, SMTP e-mail
  libmicrohttpd-dev              # HTTP: gf-gateway (Open311, SSE, dashboard), every service's /metrics and /healthz
  libarchive-dev                 # gridctl case export: a closed case's archive (tar.gz)
  libsodium-dev                  # staff passwords (Argon2id), session tokens and their sha256 (gateway, gridctl user)
  liboath-dev oathtool           # TOTP second factor (gateway, gridctl user totp); oathtool computes codes in tests
  postgresql-15 postgresql-client-15   # private cluster under var/, psql, pgbench
  postgresql-15-pgtap            # pgTAP: the SQL functions' own tests (tests/sql/)
  pg-auto-failover-cli postgresql-15-auto-failover   # automatic failover: pg_autoctl keepers and monitor (deploy/pg-auto.sh, make run-ha, tests/ha/test_ha_auto.sh)
  libcmocka-dev                  # unit tests
  python3                        # test data generators
  python3-zmq python3-msgpack    # docs/examples/gf_stream_client.py, the Python stream client (tested)
  clang-format                   # make format / format-check
  valgrind                       # unit tests under valgrind (CI)
  gdb                            # tests/run.sh: backtraces of a test that hangs (hang_report)
  procps util-linux              # pgrep/pkill, runuser
  curl jq                        # gateway tests: HTTP requests, reading JSON answers
  faketime nftables              # nemesis tests (tests/nemesis): a service's clock skewed (libfaketime); a service partitioned from PostgreSQL (nft in a network namespace)
  chromium chromium-driver fonts-noto-cjk   # dashboard browser test: headless chromium driven over WebDriver (chromedriver), Chinese glyphs in its screenshots
  nodejs                         # dashboard build (make dashboard) and the browser test driver
  clang libclang-rt-14-dev xxd   # libFuzzer targets (make fuzz, bounded run in make check): clang -fsanitize=fuzzer needs compiler-rt's libclang_rt.fuzzer; xxd turns the golden vectors into seeds
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm: Debian's package, unless a nodejs that bundles npm is installed.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
