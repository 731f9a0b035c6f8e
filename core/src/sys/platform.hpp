// SPDX-License-Identifier: MIT
// The seam between the supervisor and the operating system.
//
// The job state machine never calls fork, kill or a clock directly: it asks a Platform. The
// daemon runs on LinuxPlatform (vfork/exec, process groups, Asio timers); unit tests run
// the same state machine on a fake with a virtual clock, so respawn limits, back-off and kill
// timeouts are tested without sleeping. Results come back the other way, through the
// supervisor's onChildExit / onChildStopped / onNotify.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_class.hpp"

namespace tend::sys {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;
using TimerId = std::uint64_t;

// How a process ended, as waitid reported it.
struct ExitStatus {
    bool signaled = false;
    int value = 0;  // exit code, or the signal that killed it
    friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

// Where a process's stdout and stderr go.
enum class OutputMode : std::uint8_t { Null, Fd, Inherit };

// Everything needed to start one job process, resolved in the parent so that the child only
// makes system calls between vfork and exec.
struct ProcessSetup {
    std::vector<std::string> argv;  // argv[0] is a path, or a bare name searched in env's PATH
    std::vector<std::string> env;
    std::string cwd;
    std::string script;  // a large script, passed to `sh -e` as /proc/self/fd/9
    OutputMode output = OutputMode::Null;
    int output_fd = -1;  // OutputMode::Fd: stdout, and stderr unless error_fd is set
    int error_fd = -1;   // OutputMode::Fd: stderr, when it has a pipe of its own
    std::optional<mode_t> umask;
    std::optional<int> nice;
    std::optional<int> oom_score;
    std::map<int, model::ResourceLimit> limits;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::vector<gid_t> groups;
    // Whose process this is, for the job's cgroup where there are cgroups.
    std::string job;
    std::string instance;
};

struct SpawnOutcome {
    pid_t pid = -1;
    std::string error;  // set when the process could not be started: "chdir /x: No such file…"
    bool joined_cgroup = false;  // it runs in the job's own cgroup
    // The system was short of something that comes back (EAGAIN, ENOMEM, EMFILE, ENFILE): the same
    // start may work a moment later, unlike a missing binary.
    bool short_of_resources = false;
    bool ok() const { return pid > 0; }
};

class Platform {
  public:
    virtual ~Platform() = default;

    virtual TimePoint now() const = 0;
    virtual TimerId startTimer(Millis delay, std::function<void()> callback) = 0;
    virtual void cancelTimer(TimerId id) = 0;

    // Starts a process in a new session (so a new process group whose id is its pid). Returns
    // only once the process has exec'd, or with the reason it could not.
    virtual SpawnOutcome spawn(const ProcessSetup& setup) = 0;
    // Race-free for tend's own children, started or adopted: their pids stay reserved until tend
    // reaps them.
    virtual void signalProcess(pid_t pid, int signal) = 0;
    // A child an earlier tend in this process started (a re-exec kept it): from now on it counts
    // as one tend started itself.
    virtual void adoptChild(pid_t /*pid*/) {}
    virtual void signalGroup(pid_t pgid, int signal) = 0;
    // Whether any process, zombies included, is still in the group.
    virtual bool groupAlive(pid_t pgid) = 0;
    virtual pid_t processGroupOf(pid_t pid) = 0;
    virtual pid_t sessionOf(pid_t pid) = 0;
    // Processes re-parented to tend (it is a child subreaper) that belong to a job: whose process
    // group or session is one of `pgids`, or carrying the job's UPSTART_JOB/UPSTART_INSTANCE in
    // their environment.
    // Where the job's cgroup is where they are looked for, `cgroup_members` (when given) gets
    // every process the look found in it, for a signalCgroup() that follows at once; it stays
    // empty when the look went elsewhere.
    virtual std::vector<pid_t> adoptedProcesses(
        std::string_view job, std::string_view instance, const std::vector<pid_t>& pgids,
        std::optional<std::vector<pid_t>>* cgroup_members) = 0;
    std::vector<pid_t> adoptedProcesses(std::string_view job, std::string_view instance,
                                        const std::vector<pid_t>& pgids) {
        return adoptedProcesses(job, instance, pgids, nullptr);
    }

    // Where jobs run in cgroups of their own (sys/job_cgroups.hpp): whether a process is left
    // in the job's cgroup, tend's child or not, and a signal to every one of them but those
    // whose pid or process group is in `signalled` (a second SIGINT may end a graceful stop).
    // Without cgroups there is nothing to find and nothing to signal.
    virtual bool cgroupPopulated(std::string_view /*job*/, std::string_view /*instance*/) {
        return false;
    }
    // Any signal but SIGKILL is followed by SIGCONT (a stopped process must see it). `members`:
    // the cgroup's processes as adoptedProcesses() just read them, or null to read them here.
    // Returns the processes it signalled one by one (SIGKILL reaches them all at once).
    virtual std::vector<pid_t> signalCgroup(std::string_view /*job*/, std::string_view /*instance*/,
                                            int /*signal*/, const std::vector<pid_t>& /*signalled*/,
                                            const std::vector<pid_t>* /*members*/) {
        return {};
    }
    // SIGKILL to every process in the job's cgroup at once, where each of the job's processes
    // started in it; false (nothing done) where one did not, or without cgroups.
    virtual bool killCgroup(std::string_view /*job*/, std::string_view /*instance*/) {
        return false;
    }
    // The job has ended: its cgroup goes, once empty.
    virtual void releaseCgroup(std::string_view /*job*/, std::string_view /*instance*/) {}
};

}  // namespace tend::sys
