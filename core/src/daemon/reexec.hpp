// SPDX-License-Identifier: MIT
// `tendctl reexec`: tend replaces itself with its binary on disk, and the jobs run on.
//
// The tend that goes waits until every job is at rest (dispatch/reexec_state.cpp), asks the
// binary whether it reads this tend's saved state (`--state-version`), stops its plugins, hands
// over the router's pipes with everything they held written, writes the state to a file in its
// private runtime directory and execs, keeping the control socket, the requesting client's
// connection and every job's output pipes open. The pid stays, so the jobs stay its children.
// The tend that comes reads the state, takes the jobs back and answers the client. When it
// cannot read the state it starts afresh and adopts the jobs it finds among its children (by
// their UPSTART_JOB and UPSTART_INSTANCE, their output pipes by inode). When the exec itself
// fails, the old tend takes its pipes and plugins back and answers with the error.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dispatch/saved_state.hpp"
#include "sys/asio.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}  // namespace tend::dispatch

namespace tend::conf {
class StanzaRegistry;
}

namespace tend::log {
class FileLogRouter;
}

namespace tend::daemon {

struct ReexecHooks {
    dispatch::Supervisor* supervisor = nullptr;
    log::FileLogRouter* router = nullptr;
    std::shared_ptr<spdlog::logger> logger;
    std::function<std::map<std::string, std::string>()> save_plugins;  // their onReexec
    std::function<void()> stop_plugins;
    std::function<void()> start_plugins;  // again, should the exec fail
    std::function<int()> listener_fd;
    std::filesystem::path state_path;
    std::string binary;                     // what runs unless the request names another
    std::vector<std::string> command_line;  // tend's own arguments, argv[0] first
};

class Reexecutor {
  public:
    Reexecutor(boost::asio::io_context& io, ReexecHooks hooks);
    // `binary` empty: the hooks' own. `client_fd` is the requester's connection, answered by
    // the next tend; `reply(ok, text)` answers here when the re-exec does not happen.
    void request(std::string binary, int client_fd,
                 std::function<void(bool ok, const std::string& text)> reply);
    // A handler threw out of tend's loop (`what` it said; daemon/loop_runner.hpp): tend replaces
    // itself with its state, as `tendctl reexec` does, so that whatever that handler left undone
    // is set up afresh. When that cannot be done (the jobs do not come to rest, the state cannot
    // be written), it replaces itself without its state, as after a hung plugin: the next tend
    // adopts the jobs. Should the exec itself fail, tend runs on as it is, saying so.
    void replaceAfterFailure(const std::string& what);

  private:
    struct Pending {
        std::string binary;
        int client_fd = -1;
        std::function<void(bool, const std::string&)> reply;
        std::chrono::steady_clock::time_point deadline;
    };
    void attempt();
    std::string execNow(const Pending& pending);

    boost::asio::steady_timer timer_;
    ReexecHooks hooks_;
    std::optional<Pending> pending_;
};

// A call into `plugin` (`what`, as the fault guard names it) holds tend's loop for good: on the
// hang watch's thread, tend replaces itself with `binary`, telling it not to load the plugin.
// The next tend has no saved state (the loop that owns it is held), so it adopts the running
// jobs and their output pipes. Returns only when the exec fails, with why.
struct HungTendExec {
    std::string binary;
    std::vector<std::string> command_line;  // tend's own, argv[0] first
    std::filesystem::path state_path;
    int listen_fd = -1;
    std::string limit_text;  // "10 s"
};
std::string replaceHungTend(const HungTendExec& exec, const std::string& plugin,
                            const std::string& what);
// The exec under replaceHungTend, with `extra_args` for the next tend: no state, the listener
// and every pipe kept. Returns only when the exec fails, with why.
std::string replaceWithoutState(const HungTendExec& exec,
                                const std::vector<std::string>& extra_args);

// The command line replaceWithoutState execs, `extra_args` not included.
std::vector<std::string> statelessCommandLine(const HungTendExec& exec);

// What `tend --state-version` prints.
std::string stateVersionLine();

// In the next tend: the state at `state_path` (removed once read), read before the plugins
// start so that they get theirs; nothing, with `error` set, when it cannot be read.
std::optional<dispatch::SavedState> readSavedState(const std::filesystem::path& state_path,
                                                   std::string& error);
// Takes the jobs back once the job files are loaded, or, without a state, adopts the jobs it
// finds. Returns the answer for the client that asked.
struct ResumeOutcome {
    bool carried = false;  // false: the state was refused and the jobs adopted
    std::string text;
};
ResumeOutcome resumeJobs(std::optional<dispatch::SavedState> state, const std::string& error,
                         dispatch::Supervisor& supervisor, const conf::StanzaRegistry& registry,
                         spdlog::logger& logger);
// The signals the tend before held for this one: delivered once it listens for them.
void releaseHeldSignals();
// Answers the client that asked for the re-exec, on its connection, and closes it.
void answerReexec(int client_fd, const ResumeOutcome& outcome);

}  // namespace tend::daemon
