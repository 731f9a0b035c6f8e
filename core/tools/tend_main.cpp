// SPDX-License-Identifier: MIT
// tend: the per-user session manager. `tend` supervises the session; `tend --check` checks job
// files without running anything.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "conf/check.hpp"
#include "conf/job_printer.hpp"
#include "control/protocol.hpp"
#include "daemon/daemon.hpp"
#include "daemon/reexec.hpp"
#include "sys/spawn.hpp"

namespace {

constexpr const char* kUsage =
    "usage: tend [OPTIONS]\n"
    "       tend --check [--json | --print] PATH...\n"
    "       tend --version\n"
    "\n"
    "  --jobs-dir DIR    read jobs from DIR (repeatable; replaces the XDG search path)\n"
    "  --plugins-dir DIR load plugins from DIR\n"
    "  --runtime-dir DIR control socket directory (default $XDG_RUNTIME_DIR/tend, and\n"
    "                    $XDG_RUNTIME_DIR/tend/display-N for the desktop on display :N)\n"
    "  --log-dir DIR     job logs (default $XDG_CACHE_HOME/tend/log)\n"
    "  --cache-dir DIR   cache root; job logs go to DIR/tend/log\n"
    "  --log-file FILE   tend's own log (default: stderr)\n"
    "  --log-level LEVEL debug, info, warn or error (default info)\n"
    "  --log-timestamps  prefix every captured job output line with the time\n"
    "  --foreground      stay attached; without it tend returns once it is ready\n"
    "  --watch on|off    notice job file changes with inotify (default on); off for\n"
    "                    filesystems without it: reload with tendctl reload-configuration\n"
    "  --rescan-interval SECONDS  also re-read the job files this often (default: never)\n"
    "  --display DISPLAY the desktop session's X display (default $DISPLAY; none: not a\n"
    "                    desktop): tend emits xsession and desktop-start, and ends the\n"
    "                    session, with desktop-end, when its X server goes\n"
    "  --exit-with PID   end the session when process PID (the session's leader) exits\n"
    "  --plugin-hang-limit SECONDS  a call into a plugin that has not returned after\n"
    "                    SECONDS (default 10; 0: never) makes tend replace itself, keeping\n"
    "                    the jobs, and run on without that plugin; so does a plugin's crash\n"
    "                    in such a call (0: not caught)\n"
    "  --refuse-plugin NAME=REASON  do not load plugin NAME, saying REASON (what a tend\n"
    "                    that replaced itself passes on)\n"
    "  --state-version   print the version of the saved state this tend takes back after\n"
    "                    `tendctl reexec`, and exit\n"
    "  --print-socket    print the control socket these options give, and exit (for\n"
    "                    TEND_SESSION in a session's startup script)\n"
    "\n"
    "  --check PATH...  check job files (or directories of them) without running anything;\n"
    "                   exit 0 when clean, 1 when any file has an error\n"
    "  --json           print the diagnostics as JSON on stdout\n"
    "  --print          print each job that loads in canonical form on stdout\n";

// A count of seconds (fractions allowed, up to a day) as milliseconds; exits with the usage
// status when `text` is none.
unsigned millisecondsOf(const char* option, const char* text) {
    char* end = nullptr;
    const double seconds = std::strtod(text, &end);
    if (!end || *end || !(seconds >= 0) || seconds > 86400) {
        std::fprintf(stderr, "tend: %s needs seconds, not '%s'\n", option, text);
        std::exit(2);
    }
    return static_cast<unsigned>(seconds * 1000);
}

}  // namespace

int main(int argc, char** argv) {
    tend::sys::reserveSpawnSlots();
    bool check = false;
    bool json = false;
    bool print = false;
    bool print_socket = false;
    std::vector<std::filesystem::path> paths;
    tend::daemon::DaemonOptions daemon;
    daemon.version = TEND_VERSION;
    if (const char* display = std::getenv("DISPLAY"); display) {
        daemon.display = display;
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "tend: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--jobs-dir") {
            daemon.job_dirs.emplace_back(value());
        } else if (arg == "--plugins-dir") {
            daemon.plugin_dirs.emplace_back(value());
        } else if (arg == "--runtime-dir") {
            daemon.runtime_dir = value();
        } else if (arg == "--log-dir") {
            daemon.log_dir = value();
        } else if (arg == "--cache-dir") {
            daemon.cache_dir = value();
        } else if (arg == "--log-file") {
            daemon.log_file = value();
        } else if (arg == "--log-level") {
            daemon.log_level = value();
            static const char* const kLevels[] = {"trace", "debug", "info",  "message",
                                                  "warn",  "error", "fatal", "critical"};
            if (std::find(std::begin(kLevels), std::end(kLevels), daemon.log_level) ==
                std::end(kLevels)) {
                std::fprintf(stderr, "tend: unknown log level '%s'\n", daemon.log_level.c_str());
                return 2;
            }
        } else if (arg == "--log-timestamps") {
            daemon.log_timestamps = true;
        } else if (arg == "--foreground") {
            daemon.foreground = true;
        } else if (arg == "--watch") {
            const std::string_view mode = value();
            if (mode != "on" && mode != "off") {
                std::fprintf(stderr, "tend: --watch takes on or off, not '%s'\n", argv[i]);
                return 2;
            }
            daemon.watch = mode == "on";
        } else if (arg == "--rescan-interval") {
            daemon.rescan_interval_ms = millisecondsOf(arg.data(), value());
        } else if (arg == "--plugin-hang-limit") {
            daemon.plugin_hang_limit_ms = millisecondsOf(arg.data(), value());
        } else if (arg == "--refuse-plugin") {
            const std::string text = value();
            const auto equals = text.find('=');
            if (equals == 0 || equals == std::string::npos) {
                std::fprintf(stderr, "tend: --refuse-plugin needs NAME=REASON, not '%s'\n",
                             text.c_str());
                return 2;
            }
            daemon.refused_plugins[text.substr(0, equals)] = text.substr(equals + 1);
        } else if (arg == "--display") {
            daemon.display = value();
            if (daemon.display == "none") {
                daemon.display.clear();
            }
        } else if (arg == "--exit-with") {
            const char* text = value();
            char* end = nullptr;
            const long pid = std::strtol(text, &end, 10);
            if (!end || *end || pid <= 0 || pid > 4194304) {
                std::fprintf(stderr, "tend: --exit-with needs a process id, not '%s'\n", text);
                return 2;
            }
            daemon.exit_with = static_cast<pid_t>(pid);
        } else if (arg == "--print-socket") {
            print_socket = true;
        } else if (arg == "--check") {
            check = true;
        } else if (arg == "--json") {
            json = true;
        } else if (arg == "--print") {
            print = true;
        } else if (arg == "--version") {
            std::printf("tend %s\n", TEND_VERSION);
            return 0;
        } else if (arg == "--state-version") {
            std::fputs(tend::daemon::stateVersionLine().c_str(), stdout);
            return 0;
        } else if (arg == "--resume") {
            daemon.resume_state = value();
        } else if (arg == "--resume-fds") {
            const std::string text = value();
            if (std::sscanf(text.c_str(), "%d,%d", &daemon.resume_listen_fd,
                            &daemon.resume_reply_fd) != 2) {
                std::fprintf(stderr, "tend: --resume-fds needs LISTEN,CLIENT, not '%s'\n",
                             text.c_str());
                return 2;
            }
        } else if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg.starts_with("-")) {
            std::fprintf(stderr, "tend: unknown option '%s'\n%s", argv[i], kUsage);
            return 2;
        } else {
            paths.emplace_back(arg);
        }
    }
    if (print_socket) {
        const std::string dir = daemon.runtime_dir.empty()
                                    ? tend::control::sessionRuntimeDir(daemon.display)
                                    : daemon.runtime_dir.string();
        if (dir.empty()) {
            std::fprintf(stderr, "tend: XDG_RUNTIME_DIR is not set; pass --runtime-dir DIR\n");
            return 1;
        }
        std::printf("%s/control\n", dir.c_str());
        return 0;
    }
    if (!check) {
        if (!paths.empty()) {
            std::fprintf(stderr, "tend: unexpected argument '%s'\n%s", paths.front().c_str(),
                         kUsage);
            return 2;
        }
        daemon.command_line.assign(argv, argv + argc);
        return tend::daemon::runDaemon(std::move(daemon));
    }
    if (paths.empty()) {
        std::fprintf(stderr, "tend: --check needs at least one file or directory\n%s", kUsage);
        return 2;
    }
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    const auto report = tend::conf::checkPaths(paths, registry);
    if (print) {
        for (const auto& file : report.files) {
            if (file.job_class) {
                std::printf("# %s (%s)\n%s\n", file.job.c_str(), file.path.c_str(),
                            tend::conf::printJobClass(*file.job_class).c_str());
            }
        }
    }
    if (json) {
        std::fputs(report.json().c_str(), stdout);
    } else {
        std::fputs(report.text().c_str(), stderr);
    }
    return report.errorCount() == 0 ? 0 : 1;
}
