// SPDX-License-Identifier: MIT
#include "daemon/daemon.hpp"
#include "daemon/crash_exec.hpp"
#include "daemon/fault_points.hpp"
#include "daemon/in_process_control.hpp"
#include "daemon/leftovers.hpp"
#include "daemon/loop_runner.hpp"
#include "daemon/reexec.hpp"
#include "daemon/session_environment.hpp"
#include "daemon/session_watch.hpp"
#include "daemon/upstart_shortcuts.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <optional>
#include <set>
#include <sstream>

#include "conf/job_loader.hpp"
#include "conf/search_path.hpp"
#include "control/command_table.hpp"
#include "control/control_server.hpp"
#include "control/protocol.hpp"
#include "dispatch/supervisor.hpp"
#include "log/file_log_router.hpp"
#include "log/tend_log_file.hpp"
#include "log/tend_log_tap.hpp"
#include "plugin/plugin_dirs.hpp"
#include "plugin/plugin_manager.hpp"
#include "store/job_store.hpp"
#include "store/job_watcher.hpp"
#include "sys/linux_platform.hpp"
#include "sys/own_process.hpp"

extern char** environ;

namespace tend::daemon {

namespace fs = std::filesystem;

namespace {

// A pipe and a pidfd for each of a thousand `console log` jobs, and tend's own (see
// sys::growDescriptorTable): 64 KiB of the kernel's memory.
constexpr int kDescriptorTableAtStart = 8192;

std::string envOr(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? std::string(value) : fallback;
}

// Creates `dir` mode 0700, or checks that an existing one is ours and private.
std::string preparePrivateDirectory(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return "cannot create " + dir.string() + ": " + ec.message();
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        return "cannot stat " + dir.string() + ": " + std::strerror(errno);
    }
    if (st.st_uid != ::geteuid()) {
        return dir.string() + " belongs to uid " + std::to_string(st.st_uid) + ", not to uid " +
               std::to_string(::geteuid());
    }
    if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
        return "cannot make " + dir.string() + " private (0700): " + std::strerror(errno);
    }
    return {};
}

bool socketAnswers(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    const bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return answers;
}

std::shared_ptr<spdlog::logger> makeLogger(const DaemonOptions& options,
                                           std::shared_ptr<log::TendLogFile>& file,
                                           const std::shared_ptr<log::TendLogTap>& tap,
                                           std::string& error) {
    std::shared_ptr<spdlog::logger> logger;
    try {
        if (options.log_file.empty()) {
            logger = spdlog::stderr_logger_mt("tend");
        } else {
            file = std::make_shared<log::TendLogFile>(options.log_file.string());
            logger = std::make_shared<spdlog::logger>("tend", file);
        }
    } catch (const spdlog::spdlog_ex& e) {
        error = std::string("cannot open tend's log: ") + e.what();
        return nullptr;
    }
    logger->sinks().push_back(tap);  // plugins' log sinks, when there are any
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e tend[%P] %l: %v");
    const auto level = spdlog::level::from_str(options.log_level == "message" ? "info"
                                               : options.log_level == "fatal" ? "critical"
                                                                              : options.log_level);
    logger->set_level(level);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    return logger;
}

}  // namespace

int runDaemon(DaemonOptions options) {
    const std::string home = envOr("HOME", "/");
    if (options.binary.empty()) {
        std::error_code ec;
        options.binary = fs::read_symlink("/proc/self/exe", ec).string();
        // Replaced by an upgrade: the path now holds the new binary, which is the point.
        if (constexpr std::string_view kDeleted = " (deleted)";
            options.binary.ends_with(kDeleted)) {
            options.binary.resize(options.binary.size() - kDeleted.size());
        }
    }
    if (options.runtime_dir.empty()) {
        const std::string runtime = envOr("XDG_RUNTIME_DIR", "");
        if (runtime.empty()) {
            std::fprintf(stderr,
                         "tend: XDG_RUNTIME_DIR is not set; pass --runtime-dir DIR (a private "
                         "directory for the control socket)\n");
            return 1;
        }
        options.runtime_dir = control::sessionRuntimeDir(options.display);
        if (!options.display.empty()) {
            // The directory the desktops' directories are in is as private as theirs.
            if (const std::string error = preparePrivateDirectory(control::sessionRuntimeDir({}));
                !error.empty()) {
                std::fprintf(stderr, "tend: %s\n", error.c_str());
                return 1;
            }
        }
    }
    if (options.log_dir.empty()) {
        fs::path cache = options.cache_dir;
        if (cache.empty()) {
            cache = envOr("XDG_CACHE_HOME", "");
            if (cache.empty() || cache.is_relative()) {
                cache = fs::path(home) / ".cache";
            }
        }
        options.log_dir = cache / "tend" / "log";
    }
    if (options.job_dirs.empty()) {
        options.job_dirs = conf::defaultJobDirectories();
    }

    if (const std::string error = preparePrivateDirectory(options.runtime_dir); !error.empty()) {
        std::fprintf(stderr, "tend: %s\n", error.c_str());
        return 1;
    }
    const std::string socket_path = (options.runtime_dir / "control").string();
    // A re-exec: this process was tend a moment ago, and its jobs and socket are still there.
    const bool resuming = !options.resume_state.empty();
    if (!resuming && socketAnswers(socket_path)) {
        // One tend per session: the second says which is the first rather than fight it.
        std::ifstream pid_in(options.runtime_dir / "tend.pid");
        long first = 0;
        pid_in >> first;
        std::fprintf(stderr, "tend: tend is already running for this session (pid %ld) on %s\n",
                     first, socket_path.c_str());
        return 1;
    }

    // Without --foreground, the launcher gets its exit status once the socket is up.
    int ready_fd = -1;
    if (!options.foreground) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            std::perror("tend: pipe");
            return 1;
        }
        const pid_t child = ::fork();
        if (child < 0) {
            std::perror("tend: fork");
            return 1;
        }
        if (child > 0) {
            ::close(fds[1]);
            char byte = 0;
            const bool ready = ::read(fds[0], &byte, 1) == 1 && byte == 'R';
            return ready ? 0 : 1;
        }
        ::close(fds[0]);
        ready_fd = fds[1];
        const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull >= 0) {
            ::dup2(devnull, 0);
            ::close(devnull);
        }
    }

    std::string error;
    std::shared_ptr<log::TendLogFile> log_file;
    const auto log_tap = std::make_shared<log::TendLogTap>();
    auto logger = makeLogger(options, log_file, log_tap, error);
    if (!logger) {
        std::fprintf(stderr, "tend: %s\n", error.c_str());
        return 1;
    }
    ::signal(SIGPIPE, SIG_IGN);

    // Each job instance with `console log` costs tend a pipe; 1,024 descriptors would cap a
    // session at about a thousand jobs. Jobs still start with the limit the session had.
    std::optional<model::ResourceLimit> session_files_limit;
    if (rlimit files{};
        ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        model::ResourceLimit original;
        original.soft = files.rlim_cur == RLIM_INFINITY ? model::kUnlimited : files.rlim_cur;
        original.hard = files.rlim_max == RLIM_INFINITY ? model::kUnlimited : files.rlim_max;
        session_files_limit = original;
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    // Before the log router's thread starts: a pipe and a pidfd a job for a thousand jobs.
    sys::growDescriptorTable(kDescriptorTableAtStart);

    boost::asio::io_context io;
    sys::LinuxPlatform platform(io);
    logger->info("{}", platform.cgroups().describe());
    log::FileLogRouter router(options.log_dir, logger);

    dispatch::SupervisorOptions supervisor_options;
    // list-env sorts with strcoll(3), as initctl did: in the session's collation order.
    std::setlocale(LC_COLLATE, "");
    supervisor_options.global_env = sessionEnvironment();
    supervisor_options.session = socket_path;
    if (const auto path = supervisor_options.global_env.get("PATH");
        path && upstartShortcutsInstalled(std::string(*path))) {
        // In Upstart's own form, a D-Bus address; tendctl (as initctl) reads it back.
        supervisor_options.upstart_session = "unix:path=" + socket_path;
    }
    supervisor_options.notify_socket = (options.runtime_dir / "notify").string();
    supervisor_options.default_cwd = home;
    supervisor_options.log_timestamps = options.log_timestamps;
    if (session_files_limit) {
        supervisor_options.default_limits[RLIMIT_NOFILE] = *session_files_limit;
    }
    dispatch::Supervisor supervisor(platform, &router, supervisor_options, logger);

    platform.start({
        [&](pid_t pid, sys::ExitStatus status) { supervisor.onChildExit(pid, status); },
        [&](pid_t pid) { supervisor.onChildStopped(pid); },
        [&](pid_t pid, std::string_view text) { supervisor.onNotify(pid, text); },
    });
    if (const std::string notify_error =
            platform.listenForNotifications(supervisor_options.notify_socket);
        !notify_error.empty()) {
        logger->warn("expect notify jobs cannot report readiness: {}", notify_error);
    }

    if (!resuming) {
        endLeftovers(socket_path, *logger);
    }
    store::JobStore store(supervisor, options.job_dirs, logger);

    // Plugins start before the job files are read, so that files using a plugin's stanzas
    // parse the first time; bridges still hear of every class as it is added. Their events
    // and commands are there before the control socket and `startup`.
    plugin::PluginManagerOptions plugin_options;
    plugin_options.dirs = options.plugin_dirs;
    plugin_options.watch = options.watch;  // --watch off: no inotify on plugin directories either
    if (plugin_options.dirs.empty()) {
        plugin_options.dirs = plugin::defaultPluginDirectories();
    }
    bool jobs_loaded = false;
    plugin_options.stanzas = &store.registry();
    plugin_options.stanzas_changed = [&] {
        if (!jobs_loaded) {
            return;  // the first read is still to come
        }
        store::RescanOptions reread;
        reread.reread_all = true;
        store::logRescan(*logger, "plugin stanzas changed", store.rescan(reread));
        supervisor.poll();
    };
    plugin_options.set_log_tap = [log_tap](log::TendLogTap::Tap tap) {
        log_tap->setTap(std::move(tap));
    };
    control::ControlServer* control_server = nullptr;  // there once the socket is
    plugin_options.run_control = [&control_server](nlohmann::json request,
                                                   std::function<void(nlohmann::json)> reply) {
        if (!control_server) {
            reply(control::errorReply("unavailable", "tend is not ready for commands yet"));
            return;
        }
        runInProcess(*control_server, std::move(request), std::move(reply));
    };
    plugin_options.set_output_tap = [&router](log::OutputTap tap) {
        router.setTap(std::move(tap));
    };
    plugin_options.set_carrier = [&router](bool present, bool by_default) {
        router.setCarrier(present, by_default);
    };
    plugin_options.append_job_log = [&router](std::string path, std::vector<std::string> lines) {
        router.appendLines(std::move(path), std::move(lines));
    };
    plugin_options.log_dir = options.log_dir;
    plugin_options.tend_log_file = log_file ? log_file->path() : std::string();
    plugin_options.rotate_log = [&router, log_file](std::string path, log::RenameStep rename,
                                                    log::RotationDone done) {
        if (log_file && path == log_file->path()) {
            log_file->rotate(rename, done);
        } else {
            router.rotate(std::move(path), std::move(rename), std::move(done));
        }
    };
    plugin_options.set_growth_tap = [&router](std::uint64_t step, log::GrowthTap tap) {
        router.setGrowthTap(step, std::move(tap));
    };
    plugin_options.refused = options.refused_plugins;
    plugin_options.hang_limit = std::chrono::milliseconds(options.plugin_hang_limit_ms);
    plugin_options.on_hang = [&options, &control_server, &router](const std::string& plugin,
                                                                  const std::string& what) {
        // On the hang watch's thread, with the loop held: no logging (the call that holds the
        // loop may hold the logger's lock). The router is a thread of its own: it writes what
        // the pipes hold, so that the next tend goes on where it stopped.
        router.pause();
        HungTendExec exec{options.binary, options.command_line,
                          options.runtime_dir / "reexec-state",
                          control_server ? control_server->listenerDescriptor() : -1, ""};
        std::ostringstream limit;
        limit << options.plugin_hang_limit_ms / 1000.0 << " s";
        exec.limit_text = limit.str();
        const std::string error = replaceHungTend(exec, plugin, what);
        router.resume();  // the jobs' output goes on reaching their logs, at least
        const std::string line = "tend: plugin " + plugin + " holds tend's loop in " + what +
                                 ", and tend could not replace itself: " + error + "\n";
        [[maybe_unused]] const auto n = ::write(2, line.data(), line.size());
    };
    plugin::PluginManager plugins(io, supervisor, logger, plugin_options);
    std::string saved_error;
    std::optional<dispatch::SavedState> saved =
        resuming ? readSavedState(options.resume_state, saved_error) : std::nullopt;
    if (saved) {
        plugins.setCarriedStates(saved->plugin_states);
    }
    plugins.start();

    {
        const store::RescanReport loaded = store.rescan();
        jobs_loaded = true;
        store::logDiagnostics(*logger, loaded);
        const std::size_t broken = loaded.files - loaded.added.size();
        logger->info("loaded {} job(s) from {} director{}{}", loaded.added.size(),
                     options.job_dirs.size(), options.job_dirs.size() == 1 ? "y" : "ies",
                     broken ? ", " + std::to_string(broken) + " file(s) with errors" : "");
    }
    const ResumeOutcome resumed =
        resuming ? resumeJobs(std::move(saved), saved_error, supervisor, store.registry(), *logger)
                 : ResumeOutcome{};
    store::WatchOptions watch_options;
    watch_options.inotify = options.watch;
    watch_options.rescan_interval = std::chrono::milliseconds(options.rescan_interval_ms);
    store::JobWatcher watcher(io, store, supervisor, logger, watch_options);
    watcher.start();

    control::ControlContext control_context;
    control_context.plugin_list = [&plugins] {
        const auto status = plugins.status();
        return control::CommandResult{true, plugin::pluginsText(status),
                                      nlohmann::json{{"plugins", plugin::pluginsJson(status)}}};
    };
    control_context.plugin_command = [&plugins](const control::PluginCall& call,
                                                std::function<void(control::CommandResult)> reply) {
        plugin::CommandCall plugin_call{call.args, call.peer.uid, call.peer.pid,
                                        call.job,  call.instance, call.json};
        return plugins.runCommand(call.name, plugin_call, [reply](plugin::CommandReply answer) {
            nlohmann::json data = nlohmann::json::parse(answer.json, nullptr, false);
            if (data.is_discarded()) {
                data = nlohmann::json::object();
            }
            reply(control::CommandResult{answer.ok, std::move(answer.text), std::move(data)});
        });
    };
    control_context.plugin_events = [&plugins] { return plugins.loadedEvents(); };
    control_context.rescan_plugins = [&plugins] { plugins.rescan(); };
    ReexecHooks reexec_hooks;
    reexec_hooks.supervisor = &supervisor;
    reexec_hooks.router = &router;
    reexec_hooks.logger = logger;
    reexec_hooks.save_plugins = [&plugins] { return plugins.saveForReexec(); };
    reexec_hooks.stop_plugins = [&plugins] { plugins.stopAll(); };
    reexec_hooks.start_plugins = [&plugins] { plugins.startAgain(); };
    reexec_hooks.listener_fd = [&control_server] { return control_server->listenerDescriptor(); };
    reexec_hooks.state_path = options.runtime_dir / "reexec-state";
    reexec_hooks.binary = options.binary;
    reexec_hooks.command_line = options.command_line;
    Reexecutor reexecutor(io, std::move(reexec_hooks));
    control_context.reexec = [&reexecutor](std::string binary, int client_fd,
                                           std::function<void(bool, const std::string&)> reply) {
        reexecutor.request(std::move(binary), client_fd, std::move(reply));
    };
    control_context.supervisor = &supervisor;
    control_context.store = &store;
    control_context.logger = logger;
    control_context.version = options.version;
    control_context.log_dir = options.log_dir.string();
    control::ControlServer server(io, std::move(control_context));
    control_server = &server;
    if (const std::string listen_error =
            resuming && options.resume_listen_fd >= 0
                ? server.adoptListener(socket_path, options.resume_listen_fd)
                : server.listen(socket_path);
        !listen_error.empty()) {
        logger->critical("{}", listen_error);
        return 1;
    }
    const CrashExec crash_exec(
        {options.binary, options.command_line, options.runtime_dir / "reexec-state",
         server.listenerDescriptor(), ""},
        plugins);
    const fs::path pid_file = options.runtime_dir / "tend.pid";
    std::ofstream(pid_file) << ::getpid() << '\n';

    bool ending = false;
    bool finished = false;
    boost::asio::steady_timer deadline(io);
    auto finish = [&] {
        if (finished) {
            return;
        }
        finished = true;
        // Whatever the jobs left behind (re-parented to tend) goes with the session, but for
        // what `session linger` jobs run.
        const std::vector<pid_t> lingering = supervisor.lingeringPids();
        for (pid_t pid : platform.children()) {
            if (std::find(lingering.begin(), lingering.end(), pid) == lingering.end()) {
                ::kill(pid, SIGKILL);
            }
        }
        // Monitors see the session to its end: every job's last change, then that tend exits.
        server.farewell([&] { io.stop(); });
    };
    // A desktop session (a display) ends with `desktop-end` before `session-end`, whether the
    // X server went, the leader exited, a signal came or a job emitted desktop-end itself.
    const bool desktop = !options.display.empty();
    bool desktop_end_seen = false;
    std::function<void(const std::string&, bool)> endSession = [&](const std::string& reason,
                                                                   bool signal) {
        if (ending) {
            if (signal) {
                logger->warn("second {} while ending the session; killing every job now", reason);
                supervisor.killEverything();
            }
            return;
        }
        ending = true;
        logger->info("{}: ending the session", reason);
        unsigned longest = 0;
        for (const auto* entry : supervisor.classes()) {
            longest = std::max(longest, entry->cls->kill_timeout);
        }
        // Jobs stop in rounds (those started on another first), each of which may take a
        // kill timeout.
        const auto rounds = static_cast<unsigned>(supervisor.stopRounds());
        deadline.expires_after(std::chrono::seconds(longest * rounds + 5));
        deadline.async_wait([&](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            logger->warn("jobs still running at the shutdown deadline; killing them");
            supervisor.killEverything();
            // The killed jobs' last changes come as tend reaps them: the session ends then
            // (stopEverything's callback), or a moment later should one not go.
            deadline.expires_after(std::chrono::seconds(1));
            deadline.async_wait([&](const boost::system::error_code& late) {
                if (!late) {
                    finish();
                }
            });
        });
        const auto sessionEnd = [&] {
            model::Environment env;
            env.set("TYPE", "shutdown");
            supervisor.emit("session-end", std::move(env), [&](bool, const std::string&) {
                supervisor.stopEverything([&] {
                    deadline.cancel();
                    finish();
                });
            });
        };
        if (desktop && !desktop_end_seen) {
            desktop_end_seen = true;
            supervisor.emit("desktop-end", {},
                            [sessionEnd](bool, const std::string&) { sessionEnd(); });
        } else {
            sessionEnd();
        }
        supervisor.poll();
    };
    supervisor.eventObservers().add([&](const model::Event& event) {
        if (event.name == "desktop-end" && desktop && !ending) {
            desktop_end_seen = true;  // emitted by a job or `tendctl emit desktop-end`
            boost::asio::post(io, [&] { endSession("desktop-end", false); });
        }
    });
    SessionWatch session_watch(io, [&](const std::string& reason) { endSession(reason, false); });
    if (desktop) {
        if (const std::string error = session_watch.watchDisplay(options.display); !error.empty()) {
            logger->warn("{}; the session ends on a signal, desktop-end or its leader's exit",
                         error);
        }
    }
    if (options.exit_with > 0) {
        if (const std::string error = session_watch.watchLeader(options.exit_with);
            !error.empty()) {
            logger->error("{}", error);
            return 1;
        }
    }
    boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    // A stray `kill -USR1` would otherwise end tend and, with it, every job of the session.
    signals.add(SIGUSR1);
    signals.add(SIGUSR2);
    std::function<void()> waitSignal = [&] {
        signals.async_wait([&](const boost::system::error_code& ec, int signal) {
            if (ec) {
                return;
            }
            if (signal == SIGUSR1 && faultArmed("sigusr1-throws")) {
                throw std::bad_alloc();  // before the wait for the next signal, as a failure here
            }
            if (signal == SIGUSR1 || signal == SIGUSR2) {
                logger->warn("{}: ignored (tend has no use for it)",
                             signal == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
            } else if (signal == SIGHUP) {
                // As Upstart did: SIGHUP re-reads the job files (reload-configuration).
                logger->info("SIGHUP: reloading the configuration");
                plugins.rescan();
                store::logRescan(*logger, "SIGHUP", store.rescan());
                supervisor.poll();
            } else {
                endSession(signal == SIGINT ? "SIGINT" : "SIGTERM", true);
            }
            waitSignal();
        });
    };
    waitSignal();
    releaseHeldSignals();  // a re-exec held them until now

    logger->info("tend {} ready; control socket {}", options.version, socket_path);
    if (ready_fd >= 0) {
        const char byte = 'R';
        [[maybe_unused]] auto n = ::write(ready_fd, &byte, 1);
        ::close(ready_fd);
    }
    if (resuming) {
        answerReexec(options.resume_reply_fd, resumed);
    } else {
        supervisor.emit("startup", {});
    }
    if (desktop && !resuming) {
        // As Upstart's session emitted them (its xsession-init job, then the desktop's own).
        model::Environment xsession;
        const auto& global = supervisor_options.global_env;
        xsession.set("SESSION", std::string(global.get("DESKTOP_SESSION").value_or("")));
        xsession.set("SESSIONTYPE", std::string(global.get("SESSIONTYPE").value_or("")));
        supervisor.emit("xsession", std::move(xsession));
        supervisor.emit("desktop-start", {});
    }
    supervisor.poll();

    runThroughFailures(
        io, [&reexecutor](const std::string& what) { reexecutor.replaceAfterFailure(what); });

    std::error_code ec;
    fs::remove(pid_file, ec);
    logger->info("session ended");
    return 0;
}

}  // namespace tend::daemon
