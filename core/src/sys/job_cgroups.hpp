// SPDX-License-Identifier: MIT
// A cgroup per job, where tend may make them.
//
// A job process that calls setsid() and clears its environment leaves its process group and
// carries nothing tend could find it by; only a cgroup holds it, since a process cannot leave
// one it has no right to write to. Where tend sits in a cgroup2 subtree it may write to (a
// delegated subtree, as `systemd --user` gives its services, or root's), it makes
// `<its cgroup>/tend.<pid>/<job>[@<instance>]` and starts every process of the job there, so
// that a stop reaches the whole tree, and an exit looks only at the job's own processes.
// Elsewhere (no cgroup2, or not writable) every call here is a no-op and the supervisor keeps
// to process groups, sessions and the job's environment (docs/architecture.md, "Escapees").
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace tend::sys {

class JobCgroups {
  public:
    // Finds tend's cgroup2 directory and makes tend's own subtree under it, unless the
    // environment says TEND_CGROUPS=off. unavailableReason() says why not, when not.
    JobCgroups();
    // Removes the job cgroups that are empty, and tend's subtree if it is.
    ~JobCgroups();
    JobCgroups(const JobCgroups&) = delete;
    JobCgroups& operator=(const JobCgroups&) = delete;

    bool available() const { return !root_.empty(); }
    const std::string& root() const { return root_; }
    const std::string& unavailableReason() const { return reason_; }
    // One line for tend's log: where jobs run, or why not in cgroups and what stands in.
    std::string describe() const;

    // `name` or `name@instance`, with what a directory name cannot hold escaped.
    static std::string key(std::string_view job, std::string_view instance);

    // Makes the job's cgroup if needed and opens it, for a child to be started in
    // (clone_into_cgroup.hpp). -1 when cgroups are unavailable or it cannot be made.
    int openDirectoryFor(const std::string& key);
    // Every process in the job's cgroup; empty when it has none, or has no cgroup.
    std::vector<pid_t> processes(const std::string& key) const;
    // Whether the job has a cgroup that still holds a process.
    bool populated(const std::string& key) const;
    // SIGKILL to every process in the job's cgroup at once, through cgroup.kill, which leaves
    // no window for a fork to slip past. False where the kernel has no cgroup.kill (< 5.14).
    bool killAll(const std::string& key) const;
    // Removes the job's cgroup once it is empty (no-op while a process remains).
    void release(const std::string& key);

  private:
    std::string pathOf(const std::string& key) const { return root_ + "/" + key; }

    std::string root_;                      // tend's own subtree; empty when unavailable
    std::unordered_set<std::string> made_;  // job cgroups made and not yet removed
    std::string reason_;
};

// Where cgroup2 is mounted, from /proc/self/mountinfo; empty when it is not.
std::string cgroup2Mount();
// The cgroup2 path of `pid` (`0::/a/b` gives "/a/b"); empty when it has none.
std::string cgroup2PathOf(pid_t pid);

}  // namespace tend::sys
