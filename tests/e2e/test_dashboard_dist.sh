#!/usr/bin/env bash
# The dashboard's built files are committed (services/gateway/web/dist, served
# by gf-gateway, so that running needs no npm).  This checks that they are what
# services/gateway/web/src builds to: it builds the dashboard twice, each time
# from a copy of services/gateway/web (without node_modules/ and dist/) in a
# temporary directory, with the locked dependencies (package-lock.json), and
#   - the two builds must be byte for byte the same (the build is reproducible:
#     vite's file names are hashes of the content, nothing depends on the
#     directory or the time), else the comparison below would mean nothing;
#   - the build must be byte for byte the committed dist/, else
#     "dist/ is stale: run make dashboard" and the differing files.
# The dependencies come from the npm registry (npm ci) once per version of
# package-lock.json and are kept in build/web-deps/<hash of the lock>/ (or
# GF_WEB_DEPS/<hash>), so a second run downloads nothing.  Starts no service.
source "$(dirname "$0")/lib.sh"
WEB=$ROOT/services/gateway/web
if [ -n "${GF_TEST_TAG:-}" ]; then
  # make check runs the end-to-end tests again with the sanitizer build: this
  # test builds no C, and the run without a tag has checked the same files.
  echo "ok - $TEST_NAME: # SKIP same check as the run without the tag $GF_TEST_TAG"
  trap - EXIT; exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  not_ok "node and npm are needed (deploy/install-deps.sh installs them)"; exit 1
fi
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# The locked dependencies: npm ci into a new directory, renamed into place
# only once complete (a half-done install is never taken for the cache).
DEPS_ROOT=${GF_WEB_DEPS:-$ROOT/build/web-deps}
LOCK_HASH=$(cat "$WEB/package.json" "$WEB/package-lock.json" | sha256sum | cut -c1-16)
DEPS=$DEPS_ROOT/$LOCK_HASH
if [ -f "$DEPS/node_modules/.package-lock.json" ]; then
  ok "dependencies from the cache, nothing downloaded ($DEPS)"
else
  mkdir -p "$DEPS_ROOT"
  new=$(mktemp -d "$DEPS_ROOT/.new.XXXXXX")
  cp "$WEB/package.json" "$WEB/package-lock.json" "$new/"
  if (cd "$new" && npm ci --prefer-offline --loglevel=error) >"$ART/npm.log" 2>&1; then
    mv -T "$new" "$DEPS" 2>/dev/null || rm -rf "$new" # another run got there first
    ok "dependencies installed with npm ci from package-lock.json, kept in $DEPS"
    # Those of older versions of the lock are not needed any more.
    find "$DEPS_ROOT" -mindepth 1 -maxdepth 1 ! -name "$LOCK_HASH" ! -name '.new.*' -exec rm -rf {} +
  else
    rm -rf "$new"
    not_ok "npm ci of the dashboard's dependencies failed (see $ART/npm.log)"; exit 1
  fi
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; stop_all' EXIT
# build DIR: the dashboard built from a copy of web/ in DIR; its output in DIR/dist.
build() {
  mkdir -p "$1"
  tar -C "$WEB" --exclude=./node_modules --exclude=./dist -cf - . | tar -C "$1" -xf -
  ln -s "$DEPS/node_modules" "$1/node_modules"
  (cd "$1" && npm run --silent build) >>"$ART/build.log" 2>&1
}
# files DIR: every file under DIR, relative, sorted.
files() { (cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort); }
# compare A B NAME_A NAME_B: the files that differ between directories A and B
# (content, or present in one only), one a line; nothing if they are the same.
compare() {
  local f
  LC_ALL=C comm -23 <(files "$1") <(files "$2") | awk -v s="  (only in $3)" '{ print $0 s }'
  LC_ALL=C comm -13 <(files "$1") <(files "$2") | awk -v s="  (only in $4)" '{ print $0 s }'
  LC_ALL=C comm -12 <(files "$1") <(files "$2") | while IFS= read -r f; do
    cmp -s "$1/$f" "$2/$f" || echo "$f  (differs)"
  done
}

# Two directories of different lengths: nothing may depend on the path.
A=$TMP/a/web
B=$TMP/bb/another/dir/web
if ! build "$A" || ! build "$B"; then
  not_ok "vite build failed (see $ART/build.log)"; exit 1
fi
ok "dashboard built twice from a copy of web/ ($(files "$A/dist" | wc -l) files each)"
diffs=$(compare "$A/dist" "$B/dist" "the first build" "the second build")
if [ -z "$diffs" ]; then
  ok "the build is reproducible: two builds in different directories are byte for byte the same"
else
  not_ok "the build is not reproducible: two builds of the same source differ"
  printf '%s\n' "$diffs" | sed 's/^/#   /'
  exit 1
fi

diffs=$(compare "$A/dist" "$WEB/dist" "the rebuild" "the committed dist/")
if [ -z "$diffs" ]; then
  ok "committed dist/ is byte for byte what src/ builds to ($(files "$WEB/dist" | wc -l) files)"
else
  not_ok "dist/ is stale: run make dashboard (and commit services/gateway/web/dist); the differing files:"
  printf '%s\n' "$diffs" | sed 's/^/#   /'
  cp -r "$A/dist" "$ART/rebuilt-dist"
  diff -r "$WEB/dist" "$ART/rebuilt-dist" >"$ART/dist.diff" 2>&1
  echo "# the rebuild is in $ART/rebuilt-dist, diff -r in $ART/dist.diff"
fi
rm -rf "$TMP"
trap - EXIT
[ "$FAILED" -eq 0 ]
