// SPDX-License-Identifier: MIT
#include "daemon/reexec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <sstream>
#include <tuple>

#include "conf/job_loader.hpp"
#include "conf/job_printer.hpp"
#include "control/protocol.hpp"
#include "daemon/fault_points.hpp"
#include "daemon/job_adoption.hpp"
#include "daemon/saved_state_json.hpp"
#include "dispatch/supervisor.hpp"
#include "log/file_log_router.hpp"
#include "sys/own_process.hpp"

extern char** environ;

namespace tend::daemon {

namespace fs = std::filesystem;

namespace {

// Long enough for any job's hook on a loaded machine; a job that never settles makes the
// request fail with its name rather than hold it forever.
constexpr auto kRestWait = std::chrono::seconds(30);
constexpr auto kRestPoll = std::chrono::milliseconds(20);
constexpr int kProbeTimeoutMs = 10000;

void setCloseOnExec(int fd, bool on) {
    if (fd >= 0) {
        ::fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
    }
}

// Asio makes sockets without close-on-exec: every descriptor but those the next tend is given
// gets it, or a `monitor` client's connection would stay open, unserved, across the exec.
void closeOnExecAllBut(const std::vector<int>& kept) {
    for (const int fd : sys::openDescriptors()) {
        if (fd > 2 && std::find(kept.begin(), kept.end(), fd) == kept.end()) {
            setCloseOnExec(fd, true);
        }
    }
}

// Writes all of `text`; false when a write fails.
bool writeAll(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

sigset_t sessionSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) {
        sigaddset(&set, signal);
    }
    return set;
}

// Execs `binary` with `args`, keeping `kept` open across the exec and nothing else of tend's
// but its standard streams. Returns only when the exec fails, with why, everything as it was.
std::string execKeeping(const std::string& binary, const std::vector<std::string>& args,
                        const std::vector<int>& kept) {
    std::vector<char*> argv;
    for (const auto& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    closeOnExecAllBut(kept);
    for (const int fd : kept) {
        setCloseOnExec(fd, false);
    }
    // Held until the next tend listens for them: a SIGTERM in between must not kill the
    // process that every job of the session hangs from.
    const sigset_t held = sessionSignals();
    sigset_t before;
    ::sigprocmask(SIG_BLOCK, &held, &before);
    ::execv(binary.c_str(), argv.data());
    const std::string error = "exec " + binary + ": " + std::strerror(errno);
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    for (const int fd : kept) {
        setCloseOnExec(fd, true);
    }
    return error;
}

// Runs `binary --state-version`: an error text unless it prints the version this tend writes.
std::string probeBinary(const std::string& binary) {
    if (::access(binary.c_str(), X_OK) != 0) {
        return "cannot run " + binary + ": " + std::strerror(errno);
    }
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        return std::string("pipe: ") + std::strerror(errno);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    const char* argv[] = {binary.c_str(), "--state-version", nullptr};
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr,
                                      const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
        ::close(out[0]);
        return "cannot run " + binary + ": " + std::strerror(spawned);
    }
    std::string text;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kProbeTimeoutMs);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd wait{out[0], POLLIN, 0};
        if (left <= 0 || ::poll(&wait, 1, static_cast<int>(left)) == 0) {
            ::kill(pid, SIGKILL);
            break;
        }
        char buffer[256];
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || text.size() > 4096) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (text != stateVersionLine()) {
        const std::string said = text.substr(0, text.find('\n'));
        return binary + " does not read this tend's saved state (" +
               (said.empty() ? "it printed nothing for --state-version"
                             : "it says '" + said.substr(0, 80) + "'") +
               ", and this tend writes " +
               stateVersionLine().substr(0, stateVersionLine().size() - 1) + ")";
    }
    return {};
}

// tend's arguments for the next tend: its own, less what an earlier re-exec or the launcher
// added, with the state to take back. --foreground: it is the daemon already.
std::vector<std::string> nextCommandLine(const std::vector<std::string>& own,
                                         const std::string& binary, const fs::path& state,
                                         int listen_fd, int client_fd) {
    std::vector<std::string> out{binary};
    for (std::size_t i = 1; i < own.size(); ++i) {
        if (own[i] == "--resume" || own[i] == "--resume-fds") {
            ++i;
            continue;
        }
        if (own[i] == "--foreground") {
            continue;
        }
        out.push_back(own[i]);
    }
    out.insert(out.end(), {"--foreground", "--resume", state.string(), "--resume-fds",
                           std::to_string(listen_fd) + "," + std::to_string(client_fd)});
    return out;
}

std::string writeStateFile(const fs::path& path, const std::string& text) {
    const std::string partial = path.string() + ".new";
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return "cannot write " + partial + ": " + std::strerror(errno);
    }
    if (!writeAll(fd, text)) {
        const std::string error = "cannot write " + partial + ": " + std::strerror(errno);
        ::close(fd);
        ::unlink(partial.c_str());
        return error;
    }
    ::close(fd);
    if (::rename(partial.c_str(), path.c_str()) != 0) {
        return "cannot write " + path.string() + ": " + std::strerror(errno);
    }
    return {};
}

}  // namespace

std::string stateVersionLine() {
    return "tend-saved-state " + std::to_string(kSavedStateVersion) + "\n";
}

Reexecutor::Reexecutor(boost::asio::io_context& io, ReexecHooks hooks)
    : timer_(io), hooks_(std::move(hooks)) {}

void Reexecutor::request(std::string binary, int client_fd,
                         std::function<void(bool, const std::string&)> reply) {
    if (pending_) {
        reply(false, "a re-exec is under way already");
        return;
    }
    Pending pending;
    pending.binary = binary.empty() ? hooks_.binary : std::move(binary);
    pending.client_fd = client_fd;
    pending.reply = std::move(reply);
    pending.deadline = std::chrono::steady_clock::now() + kRestWait;
    if (const std::string error = probeBinary(pending.binary); !error.empty()) {
        pending.reply(false, "reexec: " + error + "; tend runs on as it was");
        return;
    }
    pending_ = std::move(pending);
    attempt();
}

void Reexecutor::attempt() {
    const std::string busy = hooks_.supervisor->restlessness();
    if (!busy.empty()) {
        if (std::chrono::steady_clock::now() >= pending_->deadline) {
            auto pending = std::move(*pending_);
            pending_.reset();
            pending.reply(false, "reexec: the jobs did not come to rest in " +
                                     std::to_string(kRestWait.count()) + " s (" + busy +
                                     "); tend runs on as it was");
            return;
        }
        timer_.expires_after(kRestPoll);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) {
                attempt();
            }
        });
        return;
    }
    auto pending = std::move(*pending_);
    pending_.reset();
    const std::string error = execNow(pending);
    hooks_.logger->error("re-exec of {} failed: {}; tend runs on as it was", pending.binary, error);
    pending.reply(false, "reexec: " + error + "; tend runs on as it was");
}

void Reexecutor::replaceAfterFailure(const std::string& what) {
    hooks_.logger->critical(
        "a handler of tend's loop failed: {}; tend replaces itself, keeping its jobs, so that "
        "what the handler left undone is set up afresh",
        what);
    if (pending_) {
        return;  // a re-exec is under way: it is what this one would have done
    }
    request({}, -1, [this](bool ok, const std::string& text) {
        if (ok) {
            return;
        }
        hooks_.logger->error("{}; replacing tend without its state: the next one adopts the jobs",
                             text);
        hooks_.router->pause();  // what the pipes hold reaches the logs first
        HungTendExec exec;
        exec.binary = hooks_.binary;
        exec.command_line = hooks_.command_line;
        exec.state_path = hooks_.state_path;
        exec.listen_fd = hooks_.listener_fd();
        std::string error;
        try {
            error = replaceWithoutState(exec, {});
        } catch (const std::exception& e) {
            error = e.what();  // out of memory even for that: the pipes must be read again
        }
        hooks_.router->resume();
        hooks_.logger->critical("tend could not replace itself: {}; it runs on as it is", error);
    });
}

std::string Reexecutor::execNow(const Pending& pending) {
    hooks_.logger->info("re-executing {}", pending.binary);
    std::map<std::string, std::string> plugin_states = hooks_.save_plugins();
    hooks_.stop_plugins();
    const auto handed = hooks_.router->pause();
    std::string error;
    // Saving needs memory, which a re-exec after a failed allocation may not find: tend then
    // runs on as it was, its pipes read and its plugins running again.
    try {
        if (faultArmed("reexec-save-throws")) {
            throw std::bad_alloc();
        }
        dispatch::SavedState state = hooks_.supervisor->save();
        state.plugin_states = std::move(plugin_states);
        std::map<std::tuple<std::string, std::string, log::StreamKind>, int> readers;
        for (const auto& pipe : handed) {
            readers[{pipe.job, pipe.instance, pipe.stream}] = pipe.read_fd;
        }
        std::vector<int> kept{hooks_.listener_fd(), pending.client_fd};
        for (auto& job : state.jobs) {
            const auto find = [&](log::StreamKind stream) {
                const auto it = readers.find({job.name, job.instance, stream});
                return it == readers.end() ? -1 : it->second;
            };
            job.router_out_fd = find(log::StreamKind::Stdout);
            job.router_err_fd = find(log::StreamKind::Stderr);
            if (job.started_with) {
                job.definition = conf::printJobClass(*job.started_with);
            }
            kept.insert(kept.end(),
                        {job.output_fd, job.error_fd, job.router_out_fd, job.router_err_fd});
        }
        error = writeStateFile(hooks_.state_path, encodeSavedState(state));
        if (error.empty()) {
            const std::vector<std::string> args =
                nextCommandLine(hooks_.command_line, pending.binary, hooks_.state_path,
                                hooks_.listener_fd(), pending.client_fd);
            error = execKeeping(pending.binary, args, kept);
            ::unlink(hooks_.state_path.c_str());
        }
    } catch (const std::exception& e) {
        error = std::string("the state could not be saved: ") + e.what();
    }
    hooks_.router->resume();
    hooks_.start_plugins();
    return error;
}

std::string replaceHungTend(const HungTendExec& exec, const std::string& plugin,
                            const std::string& what) {
    // No state to save: the loop that owns it is held.
    return replaceWithoutState(
        exec,
        {"--refuse-plugin", plugin + "=a call into it (" + what + ") did not return in " +
                                exec.limit_text + "; tend replaced itself to run on without it"});
}

std::string replaceWithoutState(const HungTendExec& exec,
                                const std::vector<std::string>& extra_args) {
    // The next tend finds no state file, so it adopts the jobs among its children, and their
    // output pipes, kept open here, by inode.
    ::unlink(exec.state_path.c_str());
    std::vector<int> kept{exec.listen_fd};
    for (const int fd : sys::openDescriptors()) {
        struct stat about {};
        if (fd > 2 && ::fstat(fd, &about) == 0 && S_ISFIFO(about.st_mode)) {
            kept.push_back(fd);
        }
    }
    std::vector<std::string> args = statelessCommandLine(exec);
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return execKeeping(exec.binary, args, kept);
}

std::vector<std::string> statelessCommandLine(const HungTendExec& exec) {
    return nextCommandLine(exec.command_line, exec.binary, exec.state_path, exec.listen_fd, -1);
}

std::optional<dispatch::SavedState> readSavedState(const fs::path& state_path, std::string& error) {
    std::ifstream in(state_path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const bool opened = static_cast<bool>(in);
    std::error_code ignored;
    fs::remove(state_path, ignored);
    if (!opened) {
        error = "cannot read " + state_path.string();
        return std::nullopt;
    }
    return decodeSavedState(text.str(), error);
}

ResumeOutcome resumeJobs(std::optional<dispatch::SavedState> state, const std::string& error,
                         dispatch::Supervisor& supervisor, const conf::StanzaRegistry& registry,
                         spdlog::logger& logger) {
    ResumeOutcome outcome;
    std::vector<dispatch::SavedJob> none;
    for (auto& job : state ? state->jobs : none) {
        if (job.definition.empty()) {
            continue;
        }
        if (const dispatch::ClassEntry* entry = supervisor.findClass(job.name);
            entry && conf::printJobClass(*entry->cls) == job.definition) {
            continue;  // the job file says what the instance runs
        }
        // Read as the job file it was; should it not read, the instance takes the file's
        // current definition, as an instance without a change would.
        const grammar::SourceText source(job.name + ".conf", job.definition);
        conf::LoadResult loaded = conf::loadJob(job.name, source, nullptr, registry);
        if (loaded.job) {
            job.started_with = std::make_shared<const model::JobClass>(std::move(*loaded.job));
        } else {
            logger.warn(
                "{}: the definition it started with does not read back; it now counts "
                "as started with its job file's",
                job.name);
        }
    }
    outcome.carried = state.has_value();
    if (!state) {
        logger.error(
            "cannot take back the saved state: {}; starting afresh and adopting the "
            "running jobs",
            error);
        state = adoptRunningJobs(logger);
    }
    for (const auto& job : state->jobs) {
        for (const int fd : {job.output_fd, job.error_fd, job.router_out_fd, job.router_err_fd}) {
            setCloseOnExec(fd, true);
        }
    }
    const std::vector<std::string> problems = supervisor.restore(*state);
    for (const auto& problem : problems) {
        logger.warn("after the re-exec: {}", problem);
    }
    const std::size_t taken = state->jobs.size() - problems.size();
    std::ostringstream said;
    if (outcome.carried) {
        said << "tend re-executed; " << taken << " job instance(s) carried over";
    } else {
        said << "tend re-executed, but the new tend could not read the saved state (" << error
             << "); it started afresh and adopted " << taken << " running job instance(s)";
    }
    if (!problems.empty()) {
        said << "; " << problems.size() << " could not be (see tend's log)";
    }
    outcome.text = said.str();
    logger.info("{}", outcome.text);
    return outcome;
}

void releaseHeldSignals() {
    const sigset_t held = sessionSignals();
    ::sigprocmask(SIG_UNBLOCK, &held, nullptr);
}

void answerReexec(int client_fd, const ResumeOutcome& outcome) {
    if (client_fd < 0) {
        return;
    }
    const std::string line = control::encodeLine(
        control::okReply(outcome.text, nlohmann::json{{"carried", outcome.carried}}));
    writeAll(client_fd, line);  // a client that has gone misses its answer, nothing more
    ::close(client_fd);
}

}  // namespace tend::daemon
