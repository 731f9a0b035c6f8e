// SPDX-License-Identifier: MIT
#include "sys/linux_platform.hpp"
#include "sys/own_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sys/spawn.hpp"

namespace tend::sys {

namespace {

std::string readSmallFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::string out;
    // Large reads: /proc/<pid>/task/<tid>/children walks the list of children again from the
    // start at every read() call.
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
        out.append(buffer, static_cast<std::size_t>(n));
        if (out.size() > (1u << 20)) {
            break;
        }
    }
    ::close(fd);
    return out;
}

struct ProcStat {
    char state = '?';
    pid_t ppid = 0;
    pid_t pgrp = 0;
    pid_t session = 0;
};

std::optional<ProcStat> readStat(pid_t pid) {
    const std::string text = readSmallFile("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = text.rfind(')');
    if (close_paren == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream in(text.substr(close_paren + 1));
    ProcStat stat;
    in >> stat.state >> stat.ppid >> stat.pgrp >> stat.session;
    if (!in) {
        return std::nullopt;
    }
    return stat;
}

bool environHas(pid_t pid, const std::string& job_entry, const std::string& instance_entry) {
    const std::string env = readSmallFile("/proc/" + std::to_string(pid) + "/environ");
    bool job = false;
    bool instance = false;
    std::size_t start = 0;
    while (start < env.size()) {
        std::size_t end = env.find('\0', start);
        if (end == std::string::npos) {
            end = env.size();
        }
        const std::string_view entry(env.data() + start, end - start);
        job = job || entry == job_entry;
        instance = instance || entry == instance_entry;
        start = end + 1;
    }
    return job && instance;
}

}  // namespace

LinuxPlatform::LinuxPlatform(boost::asio::io_context& io) : io_(io), reaper_(io) {}

LinuxPlatform::~LinuxPlatform() {
    if (!notify_path_.empty()) {
        ::unlink(notify_path_.c_str());
    }
}

void LinuxPlatform::start(ChildEvents events) {
    events_ = std::move(events);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    reaper_.start({[this](pid_t pid, ExitStatus status) { onExit(pid, status); },
                   [this](pid_t pid) {
                       if (events_.stopped) {
                           events_.stopped(pid);
                       }
                   }});
}

void LinuxPlatform::onExit(pid_t pid, ExitStatus status) {
    if (children_this_turn_) {
        reaped_this_turn_.insert(pid);
    }
    if (events_.exited) {
        events_.exited(pid, status);
    }
}

std::string LinuxPlatform::listenForNotifications(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return std::string("socket: ") + std::strerror(errno);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        ::close(fd);
        return "notify socket path too long: " + path;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ::unlink(path.c_str());
    const int on = 1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) {
        const std::string error = "bind " + path + ": " + std::strerror(errno);
        ::close(fd);
        return error;
    }
    notify_path_ = path;
    notify_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    waitForNotification();
    return {};
}

void LinuxPlatform::waitForNotification() {
    notify_->async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [this](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            for (;;) {
                char buffer[4096];
                iovec iov{buffer, sizeof buffer - 1};
                alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
                msghdr msg{};
                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                msg.msg_control = control;
                msg.msg_controllen = sizeof control;
                const ssize_t n = ::recvmsg(notify_->native_handle(), &msg, MSG_DONTWAIT);
                if (n < 0) {
                    break;
                }
                pid_t sender = 0;
                for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        ucred cred{};
                        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                        sender = cred.pid;
                    }
                }
                if (sender > 0 && events_.notified) {
                    events_.notified(sender, std::string_view(buffer, static_cast<std::size_t>(n)));
                }
            }
            waitForNotification();
        });
}

TimePoint LinuxPlatform::now() const {
    return Clock::now();
}

TimerId LinuxPlatform::startTimer(Millis delay, std::function<void()> callback) {
    const TimerId id = next_timer_++;
    auto timer = std::make_unique<boost::asio::steady_timer>(io_, delay);
    timer->async_wait(
        [this, id, callback = std::move(callback)](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            timers_.erase(id);
            callback();
        });
    timers_.emplace(id, std::move(timer));
    return id;
}

void LinuxPlatform::cancelTimer(TimerId id) {
    if (const auto it = timers_.find(id); it != timers_.end()) {
        it->second->cancel();
        timers_.erase(it);
    }
}

SpawnOutcome LinuxPlatform::spawn(const ProcessSetup& setup) {
    std::string key;
    int directory = -1;
    if (cgroups_.available() && !setup.job.empty()) {
        key = JobCgroups::key(setup.job, setup.instance);
        directory = cgroups_.openDirectoryFor(key);
        emptied_cgroups_.erase(key);
    }
    const SpawnOutcome outcome = spawnProcess(setup, directory);
    if (directory >= 0) {
        ::close(directory);
    }
    if (outcome.ok()) {
        reaper_.track(outcome.pid);
        if (!key.empty() && !outcome.joined_cgroup) {
            partly_outside_cgroup_.insert(key);  // its escapees need the full search
        }
    }
    return outcome;
}

bool LinuxPlatform::cgroupPopulated(std::string_view job, std::string_view instance) {
    std::string key = JobCgroups::key(job, instance);
    if (cgroups_.populated(key)) {
        return true;
    }
    emptied_cgroups_.insert(std::move(key));
    return false;
}

std::vector<pid_t> LinuxPlatform::signalCgroup(std::string_view job, std::string_view instance,
                                               int signal, const std::vector<pid_t>& signalled,
                                               const std::vector<pid_t>* members) {
    std::vector<pid_t> out;
    if (!cgroups_.available()) {
        return out;
    }
    const std::string key = JobCgroups::key(job, instance);
    if (signal == SIGKILL && cgroups_.killAll(key)) {
        return out;
    }
    const auto listed = [&](pid_t id) {
        return std::find(signalled.begin(), signalled.end(), id) != signalled.end();
    };
    std::vector<pid_t> read_here;
    const auto& candidates = members ? *members : (read_here = cgroups_.processes(key));
    for (const pid_t pid : candidates) {
        if (listed(pid)) {
            continue;
        }
        const auto stat = readStat(pid);
        if (stat && !listed(stat->pgrp) && ::kill(pid, signal) == 0) {
            if (signal != SIGKILL) {
                ::kill(pid, SIGCONT);
            }
            out.push_back(pid);
        }
    }
    return out;
}

bool LinuxPlatform::killCgroup(std::string_view job, std::string_view instance) {
    if (!cgroups_.available()) {
        return false;
    }
    const std::string key = JobCgroups::key(job, instance);
    return !partly_outside_cgroup_.contains(key) && cgroups_.killAll(key);
}

void LinuxPlatform::releaseCgroup(std::string_view job, std::string_view instance) {
    if (cgroups_.available()) {
        const std::string key = JobCgroups::key(job, instance);
        cgroups_.release(key);
        partly_outside_cgroup_.erase(key);
        emptied_cgroups_.erase(key);
    }
}

// kill(), not pidfd_send_signal: tend is the parent of every process it signals by pid (it started
// it, or, as the subreaper, inherited it), and only the ChildReaper waits, so a pid tend has not
// reaped cannot have been reused.
void LinuxPlatform::signalProcess(pid_t pid, int signal) {
    ::kill(pid, signal);
}

void LinuxPlatform::signalGroup(pid_t pgid, int signal) {
    if (pgid > 1) {
        ::kill(-pgid, signal);
    }
}

bool LinuxPlatform::groupAlive(pid_t pgid) {
    return pgid > 1 && (::kill(-pgid, 0) == 0 || errno == EPERM);
}

pid_t LinuxPlatform::processGroupOf(pid_t pid) {
    return ::getpgid(pid);
}

pid_t LinuxPlatform::sessionOf(pid_t pid) {
    return ::getsid(pid);
}

std::vector<pid_t> LinuxPlatform::children() const {
    return ownChildren();
}

// Every handler that runs before the posted reset was queued by events the loop saw before the
// list was read, so a process re-parented to tend by one of those events is already in it.
const std::vector<pid_t>& LinuxPlatform::childrenThisTurn() {
    if (!children_this_turn_) {
        children_this_turn_ = children();
        boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
            if (!alive.expired()) {
                children_this_turn_.reset();
                reaped_this_turn_.clear();
            }
        });
    }
    return *children_this_turn_;
}

std::vector<pid_t> LinuxPlatform::adoptedProcesses(
    std::string_view job, std::string_view instance, const std::vector<pid_t>& pgids,
    std::optional<std::vector<pid_t>>* cgroup_members) {
    std::vector<pid_t> out;
    if (cgroups_.available()) {
        // Every process of the job is in its cgroup: only those need a look, however many
        // other jobs run.
        const std::string key = JobCgroups::key(job, instance);
        if (!partly_outside_cgroup_.contains(key)) {
            if (emptied_cgroups_.contains(key)) {
                if (cgroup_members) {
                    cgroup_members->emplace();
                }
                return out;
            }
            const pid_t self = ::getpid();
            std::vector<pid_t> members = cgroups_.processes(key);
            for (pid_t pid : members) {
                if (reaper_.tracked(pid) || reaped_this_turn_.contains(pid)) {
                    continue;
                }
                const auto stat = readStat(pid);
                if (stat && stat->ppid == self && stat->state != 'Z') {
                    out.push_back(pid);
                }
            }
            std::sort(out.begin(), out.end());
            if (cgroup_members) {
                *cgroup_members = std::move(members);
            }
            return out;
        }
    }
    const std::string job_entry = "UPSTART_JOB=" + std::string(job);
    const std::string instance_entry = "UPSTART_INSTANCE=" + std::string(instance);
    for (pid_t pid : childrenThisTurn()) {
        if (reaper_.tracked(pid) || reaped_this_turn_.contains(pid)) {
            continue;  // started by tend itself, so already known; or reaped since the read
        }
        const auto stat = readStat(pid);
        if (!stat || stat->state == 'Z') {
            continue;  // about to be reaped; its own children are already ours
        }
        const auto listed = [&](pid_t id) {
            return std::find(pgids.begin(), pgids.end(), id) != pgids.end();
        };
        if (listed(stat->pgrp) || listed(stat->session) ||
            environHas(pid, job_entry, instance_entry)) {
            out.push_back(pid);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace tend::sys
