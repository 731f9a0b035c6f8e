# shellcheck shell=bash disable=SC2034  # sourced by scenario.sh (set -euo pipefail); ADAPTER_NOTE is read there
# supervisord: one Python process supervises every program and copies their output.
ADAPTER_NOTE="one [program] per service, stdout_logfile=NONE, stopwaitsecs = kill timeout; respawn default = autorestart=true (startsecs=1, startretries=3: FATAL after 4 quick exits), fast = startsecs=0; its main loop polls with a 1 s timeout, which paces cold start and every restart; log = stdout_logfile (16 MiB x 100 backups); stop = SIGTERM to supervisord, which stops one process group at a time and each [program] is a group of its own, so SIGTERM-ignoring services go down one kill timeout after another (a [group] holding them all stops them together)"

setup() {
    local dir=$1 n=$2 cmd=$3 i name startsecs=1
    [ "$BENCH_RESPAWN" = fast ] && startsecs=0
    mkdir -p "$dir/childlogs"
    {
        # No control socket: nothing here uses supervisorctl.
        printf '[supervisord]\nnodaemon=true\nlogfile=%s\npidfile=%s\nchildlogdir=%s\n' \
            "$dir/supervisord.log" "$dir/supervisord.pid" "$dir/childlogs"
        # minfds: 3 pipes per program; supervisord refuses to start below this limit.
        printf 'loglevel=warn\nminfds=%d\n\n' $((n * 4 + 100))
        for ((i = 1; i <= n; i++)); do
            name=$(svc_name "$i")
            printf '[program:%s]\ncommand=%s\nautorestart=true\nstartsecs=%d\n' "$name" "$cmd" "$startsecs"
            printf 'stopwaitsecs=%s\nredirect_stderr=true\n' "$BENCH_KILL_TIMEOUT"
            if [ "$BENCH_LOG" = 1 ]; then
                mkdir -p "$dir/logs"
                printf 'stdout_logfile=%s\nstdout_logfile_maxbytes=16777215\nstdout_logfile_backups=100\n\n' \
                    "$dir/logs/$name.log"
            else
                printf 'stdout_logfile=NONE\n\n'
            fi
        done
    } >"$dir/supervisord.conf"
}

start() {
    local dir=$1
    supervisord -n -c "$dir/supervisord.conf" >"$dir/manager.out" 2>&1 &
    echo $! >"$dir/manager.pid"
}

wait_running() { wait_marker "$1" "$2"; }

stop() { kill -TERM "$(cat "$1/manager.pid")"; }

manager_pids() { cat "$1/manager.pid"; }

log_dir() { echo "$1/logs"; }
