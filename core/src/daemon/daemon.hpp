// SPDX-License-Identifier: MIT
// The tend daemon: loads the job search path, supervises, serves the control socket, and ends
// the session cleanly on SIGTERM.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tend::daemon {

struct DaemonOptions {
    std::vector<std::filesystem::path> job_dirs;  // empty: the XDG search path
    std::vector<std::filesystem::path> plugin_dirs;
    std::filesystem::path runtime_dir;  // holds `control`, `notify` and `tend.pid`
    std::filesystem::path log_dir;      // job logs
    std::filesystem::path cache_dir;    // log_dir defaults to <cache>/tend/log
    std::filesystem::path log_file;     // tend's own log; stderr when empty
    std::string log_level = "info";
    bool foreground = false;
    bool log_timestamps = false;
    bool watch = true;                // hot reload: rescan on inotify events
    unsigned rescan_interval_ms = 0;  // periodic rescan of the job files; 0: none
    std::string version;
    // A desktop session's X display (`--display`, default $DISPLAY): tend emits xsession and
    // desktop-start, and ends the session when its X server goes. Empty: no desktop.
    std::string display;
    pid_t exit_with = 0;
    // A call into a plugin that has not returned after this long (0: never looked at) makes tend
    // replace itself with its binary, keeping the jobs, and the next tend refuses the plugin.
    unsigned plugin_hang_limit_ms = 10000;
    std::map<std::string, std::string>
        refused_plugins;  // `--refuse-plugin NAME=REASON`  // `--exit-with PID`: the session
                          // leader, whose exit ends the session
    // For `tendctl reexec`: tend's arguments (argv[0] first) and its binary (empty: the one
    // running now, from /proc/self/exe).
    std::vector<std::string> command_line;
    std::string binary;
    // Set in the tend a re-exec starts (`--resume FILE --resume-fds LISTEN,CLIENT`): the saved
    // state to take back, the control socket's listening descriptor and the connection of the
    // client that asked.
    std::filesystem::path resume_state;
    int resume_listen_fd = -1;
    int resume_reply_fd = -1;
};

// Runs until the session ends. Returns the process exit status.
int runDaemon(DaemonOptions options);

}  // namespace tend::daemon
