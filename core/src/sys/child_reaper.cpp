// SPDX-License-Identifier: MIT
#include "sys/child_reaper.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace tend::sys {

namespace {

// waitid's P_PIDFD (Linux 5.4), spelt out for C libraries that predate it.
constexpr auto kByPidfd = static_cast<idtype_t>(3);

int openEpoll() {
    return ::epoll_create1(EPOLL_CLOEXEC);
}

// A pidfd for `pid`, or -1. Not when it would take one of the last descriptors: those are for
// jobs' pipes, logs and clients, and a child without a pidfd is still reaped (by the walk).
int pidfdFor(pid_t pid) {
#ifdef SYS_pidfd_open
    rlimit files{};
    rlim_t headroom = 0;
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
        headroom = std::max<rlim_t>(256, files.rlim_cur / 8);
        if (files.rlim_cur <= 2 * headroom) {
            return -1;  // so few descriptors that even a moment's loan of one could cost a job's
        }
    }
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
        return -1;
    }
    if (headroom > 0 && static_cast<rlim_t>(fd) + headroom >= files.rlim_cur) {
        ::close(fd);
        return -1;
    }
    return fd;
#else
    (void)pid;
    return -1;
#endif
}

}  // namespace

ChildReaper::ChildReaper(boost::asio::io_context& io)
    : io_(io), child_signal_(io), exits_(io), sweep_timer_(io) {}

ChildReaper::~ChildReaper() {
    for (const auto& [pid, fd] : children_) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

void ChildReaper::start(Events events) {
    events_ = std::move(events);
    if (const int epoll = openEpoll(); epoll >= 0) {
        exits_.assign(epoll);
        waitForExits();
    }
    child_signal_.add(SIGCHLD);
    waitForSignal();
}

void ChildReaper::track(pid_t pid) {
    int fd = exits_.is_open() ? pidfdFor(pid) : -1;
    if (fd >= 0) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = static_cast<std::uint64_t>(pid);
        if (::epoll_ctl(exits_.native_handle(), EPOLL_CTL_ADD, fd, &event) < 0) {
            ::close(fd);
            fd = -1;
        }
    }
    const auto [it, added] = children_.emplace(pid, fd);
    if (!added) {  // tracked twice (adopted after a re-exec that had tracked it): keep the first
        if (fd >= 0) {
            ::close(fd);
        }
        return;
    }
    if (fd < 0) {
        ++without_pidfd_;
    }
}

void ChildReaper::forget(pid_t pid) {
    const auto it = children_.find(pid);
    if (it == children_.end()) {
        return;
    }
    if (it->second >= 0) {
        ::close(it->second);  // which also takes it out of the epoll set
    } else {
        --without_pidfd_;
    }
    children_.erase(it);
}

void ChildReaper::waitForSignal() {
    child_signal_.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec) {
            return;
        }
        onChildSignal();
        waitForSignal();
    });
}

void ChildReaper::waitForExits() {
    exits_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                          if (ec) {
                              return;
                          }
                          reapReadyPidfds();
                          waitForExits();
                      });
}

void ChildReaper::onChildSignal() {
    // Whichever of the signal and the pidfd the loop saw first, a known child's exit is counted
    // by now.
    reapReadyPidfds();
    const bool explained = exits_awaiting_signal_ > 0;
    if (explained) {
        --exits_awaiting_signal_;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!explained || without_pidfd_ > 0 || !swept_ || now - last_sweep_ >= sweep_interval_) {
        sweep();
        if (!explained && exits_awaiting_signal_ > 0) {
            --exits_awaiting_signal_;  // this signal was for one of the exits the walk found
        }
        return;
    }
    if (sweep_due_) {
        return;  // the walk to come starts after this signal, so it will see this child
    }
    sweep_due_ = true;
    sweep_timer_.expires_at(last_sweep_ + sweep_interval_);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && sweep_due_) {
            // Coalesced signals leave exits that no SIGCHLD will claim; start counting afresh
            // after this walk, which answers for every signal before it.
            exits_awaiting_signal_ = 0;
            sweep();
        }
    });
}

void ChildReaper::reapReadyPidfds() {
    std::array<epoll_event, 64> ready{};
    for (;;) {
        const int count =
            ::epoll_wait(exits_.native_handle(), ready.data(), static_cast<int>(ready.size()), 0);
        if (count <= 0) {
            return;
        }
        for (int i = 0; i < count; ++i) {
            const auto pid = static_cast<pid_t>(ready[static_cast<std::size_t>(i)].data.u64);
            const auto it = children_.find(pid);
            if (it == children_.end() || it->second < 0) {
                continue;  // reaped by a walk earlier in this batch
            }
            siginfo_t info{};
            if (::waitid(kByPidfd, static_cast<id_t>(it->second), &info, WEXITED | WNOHANG) < 0) {
                if (errno == ECHILD) {
                    forget(pid);  // not ours to wait for any more: nothing will report it
                }
                continue;
            }
            if (info.si_pid != 0) {
                report(info);
            }
        }
        if (count < static_cast<int>(ready.size())) {
            return;
        }
    }
}

void ChildReaper::sweep() {
    ++sweeps_;
    sweep_due_ = false;
    swept_ = true;
    last_sweep_ = std::chrono::steady_clock::now();
    // SIGCHLD coalesces: one signal may stand for many children.
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WNOHANG) < 0 || info.si_pid == 0) {
            return;
        }
        report(info);
    }
}

void ChildReaper::report(const siginfo_t& info) {
    const pid_t pid = info.si_pid;
    if (info.si_code == CLD_STOPPED || info.si_code == CLD_TRAPPED) {
        if (events_.stopped) {
            events_.stopped(pid);
        }
        return;
    }
    // Before the handler: it may start a process that gets this very pid.
    forget(pid);
    ++exits_awaiting_signal_;  // its SIGCHLD, when it comes, is explained
    ExitStatus status;
    status.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    status.value = info.si_status;
    if (events_.exited) {
        events_.exited(pid, status);
    }
}

}  // namespace tend::sys
