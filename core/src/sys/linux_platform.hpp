// SPDX-License-Identifier: MIT
// The real Platform: one Asio io_context, vfork/exec, process groups, reaping as a child
// subreaper (ChildReaper), and the sd_notify socket.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "sys/asio.hpp"
#include "sys/child_reaper.hpp"
#include "sys/job_cgroups.hpp"
#include "sys/platform.hpp"

namespace tend::sys {

struct ChildEvents {
    std::function<void(pid_t, ExitStatus)> exited;
    std::function<void(pid_t)> stopped;
    std::function<void(pid_t, std::string_view)> notified;
};

class LinuxPlatform final : public Platform {
  public:
    explicit LinuxPlatform(boost::asio::io_context& io);
    ~LinuxPlatform() override;

    // Becomes a child subreaper and starts reaping. Call before the first spawn.
    void start(ChildEvents events);
    // Binds the sd_notify datagram socket at `path`. Returns an error text, empty on success.
    std::string listenForNotifications(const std::string& path);

    TimePoint now() const override;
    TimerId startTimer(Millis delay, std::function<void()> callback) override;
    void cancelTimer(TimerId id) override;
    SpawnOutcome spawn(const ProcessSetup& setup) override;
    void signalProcess(pid_t pid, int signal) override;
    void adoptChild(pid_t pid) override { reaper_.track(pid); }
    void signalGroup(pid_t pgid, int signal) override;
    bool groupAlive(pid_t pgid) override;
    pid_t processGroupOf(pid_t pid) override;
    pid_t sessionOf(pid_t pid) override;
    using Platform::adoptedProcesses;
    std::vector<pid_t> adoptedProcesses(std::string_view job, std::string_view instance,
                                        const std::vector<pid_t>& pgids,
                                        std::optional<std::vector<pid_t>>* cgroup_members) override;
    bool cgroupPopulated(std::string_view job, std::string_view instance) override;
    std::vector<pid_t> signalCgroup(std::string_view job, std::string_view instance, int signal,
                                    const std::vector<pid_t>& signalled,
                                    const std::vector<pid_t>* members) override;
    bool killCgroup(std::string_view job, std::string_view instance) override;
    void releaseCgroup(std::string_view job, std::string_view instance) override;
    const JobCgroups& cgroups() const { return cgroups_; }

    // Every process that is tend's child right now (started or re-parented).
    std::vector<pid_t> children() const;
    ChildReaper& reaper() { return reaper_; }

  private:
    // children(), read once for all the handlers of one turn of the loop: a mass stop asks
    // for every job's escapees, and each read of /proc costs time in proportion to the number
    // of children, so reading it per job made stopping N jobs cost N squared.
    const std::vector<pid_t>& childrenThisTurn();
    void onExit(pid_t pid, ExitStatus status);
    void waitForNotification();

    boost::asio::io_context& io_;
    ChildReaper reaper_;  // knows the processes tend started itself, until reaped
    ChildEvents events_;
    std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
    TimerId next_timer_ = 1;
    std::unique_ptr<boost::asio::posix::stream_descriptor> notify_;
    std::optional<std::vector<pid_t>> children_this_turn_;
    std::unordered_set<pid_t> reaped_this_turn_;  // gone since children_this_turn_ was read
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::string notify_path_;
    JobCgroups cgroups_;
    // Jobs with a process that could not join their cgroup: their escapees need the full search.
    std::unordered_set<std::string> partly_outside_cgroup_;
    // Cgroups found empty since tend last spawned into them. Only a spawn fills one again, so an
    // exit's look for the job's leftovers need not read it twice.
    std::unordered_set<std::string> emptied_cgroups_;
};

}  // namespace tend::sys
