#!/usr/bin/env bash
# An out-of-tree plugin, the way a third party writes one: install tend to a prefix, build
# docs/examples/hello-plugin against it with find_package(tend), drop the .so into a plugins.d,
# and use it through the installed tend and tendctl.
# Usage: out_of_tree_plugin_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d)
tend_pid=
cleanup() {
    if [ -n "$tend_pid" ]; then
        kill "$tend_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$tend_pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/tend.log" ] && cat "$work/tend.log" >&2; exit 1; }

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log" ||
    fail "cmake --install: $(cat "$work/install.log")"
[ -f "$work/prefix/include/tend/plugin/plugin.hpp" ] || fail "the SDK header was not installed"
[ -f "$work/prefix/lib/cmake/tend/tendConfig.cmake" ] ||
    [ -n "$(find "$work/prefix" -name tendConfig.cmake)" ] || fail "no tendConfig.cmake installed"

cmake -S "$source_dir/docs/examples/hello-plugin" -B "$work/hello" \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 ||
    fail "configuring the example against the installed SDK: $(cat "$work/configure.log")"
cmake --build "$work/hello" > "$work/build.log" 2>&1 ||
    fail "building the example: $(cat "$work/build.log")"
[ -f "$work/hello/hello.so" ] || fail "no hello.so"

mkdir -p "$work/plugins.d" "$work/jobs" "$work/run" "$work/home"
chmod 755 "$work/plugins.d"
install -m 644 "$work/hello/hello.so" "$work/plugins.d/hello.so"
printf 'setting greeting hi\n' > "$work/plugins.d/hello.conf"
printf 'start on startup\nexec sleep 1000\n' > "$work/jobs/svc.conf"
printf 'start on hello WHO=*\ntask\nexec true\n' > "$work/jobs/greeted.conf"

bin="$work/prefix/bin"
HOME="$work/home" "$bin/tend" --jobs-dir "$work/jobs" --plugins-dir "$work/plugins.d" \
    --runtime-dir "$work/run" --log-dir "$work/log" --log-file "$work/tend.log" --log-level debug ||
    fail "the installed tend did not start"
tend_pid=$(cat "$work/run/tend.pid")
ctl() { "$bin/tendctl" --socket "$work/run/control" "$@"; }

ctl plugins | grep -q '^hello 1.0.0 running' || fail "tendctl plugins: $(ctl plugins)"
for _ in $(seq 100); do ctl status svc | grep -q running && break; sleep 0.05; done
out=$(ctl hello reader) || fail "tendctl hello failed"
[ "$out" = "hi, reader (jobs started so far: 1)" ] || fail "tendctl hello printed '$out'"
[ "$(ctl --json hello)" = '{"started":1}' ] || fail "tendctl --json hello: $(ctl --json hello)"
ctl emit wave WHO=me || fail "emit wave"
grep -q 'greeted state' "$work/tend.log" || fail "the hello event did not start the job"
grep -q '\[hello\] ready to greet' "$work/tend.log" || fail "the plugin's log line is missing"
echo "out-of-tree plugin: built against the installed SDK, loaded and used"
