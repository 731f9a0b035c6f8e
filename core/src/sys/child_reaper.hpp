// SPDX-License-Identifier: MIT
// Reaping tend's children so that one child's exit costs the same however many others run.
//
// waitid(P_ALL) walks every child tend has, in the kernel, and says nothing new once it has
// found the one that exited: with 5,000 idle jobs, that walk was most of a restart's cost. So
// each child tend starts or adopts gets a pidfd in an epoll set of the reaper's own: it turns
// readable when that child exits, and waitid(P_PIDFD) reaps just that child. The walk stays for
// what pidfds cannot tell: orphans re-parented to tend (it is a child subreaper), stopped
// children, and children tend holds no pidfd for (descriptors ran short). A SIGCHLD that a
// pidfd's exit explains starts it at the end of an interval after the last walk (signals
// coalesce, so a walk must follow every SIGCHLD); any other starts it at once, so that an
// orphan's exit is seen as soon as before. A crash loop among thousands of idle jobs walks a
// few times a second, not twice per restart.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>

#include "sys/asio.hpp"
#include "sys/platform.hpp"

namespace tend::sys {

class ChildReaper {
  public:
    struct Events {
        std::function<void(pid_t, ExitStatus)> exited;
        std::function<void(pid_t)> stopped;
    };
    using Interval = std::chrono::steady_clock::duration;

    explicit ChildReaper(boost::asio::io_context& io);
    ~ChildReaper();
    ChildReaper(const ChildReaper&) = delete;
    ChildReaper& operator=(const ChildReaper&) = delete;

    // Starts listening for SIGCHLD and for the pidfds; `events` hear of every reaped child.
    void start(Events events);
    // A child tend started, or one an earlier tend in this process started: until it is reaped,
    // it counts as tend's own.
    void track(pid_t pid);
    bool tracked(pid_t pid) const { return children_.contains(pid); }
    // Children tracked without a pidfd: descriptors were short when they started.
    std::size_t withoutPidfd() const { return without_pidfd_; }
    // Waits for every child that has exited or stopped, orphans included: a walk of them all.
    void sweep();
    std::size_t sweeps() const { return sweeps_; }
    // The least time between two walks that SIGCHLD starts while every child has a pidfd.
    void setSweepInterval(Interval interval) { sweep_interval_ = interval; }

  private:
    void waitForSignal();
    void waitForExits();
    void onChildSignal();
    void reapReadyPidfds();
    void forget(pid_t pid);
    void report(const siginfo_t& info);

    boost::asio::io_context& io_;
    boost::asio::signal_set child_signal_;
    boost::asio::posix::stream_descriptor exits_;  // the epoll set of pidfds
    boost::asio::steady_timer sweep_timer_;
    Events events_;
    std::unordered_map<pid_t, int> children_;  // tracked child -> its pidfd, or -1
    std::size_t without_pidfd_ = 0;
    std::size_t sweeps_ = 0;
    bool sweep_due_ = false;
    // Exits reaped (by pidfd or walk) whose SIGCHLD has not been seen yet: what explains one.
    std::size_t exits_awaiting_signal_ = 0;
    bool swept_ = false;
    Interval sweep_interval_ = std::chrono::milliseconds(250);
    std::chrono::steady_clock::time_point last_sweep_{};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tend::sys
