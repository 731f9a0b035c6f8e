// SPDX-License-Identifier: MIT
// vfork, but born in a given cgroup, and without a copy of the parent's descriptor table.
//
// Moving a process into a cgroup after it has started takes a lock that every fork on the
// machine waits behind; a crash loop of 30 jobs moved each new process and stalled the whole
// session's forks for seconds. clone3(CLONE_INTO_CGROUP) starts the child where it belongs and
// moves nothing. glibc 2.36 has no clone3 wrapper, and a child that shares the parent's memory
// cannot return through a generic syscall() wrapper on the parent's stack, so the child starts
// on a stack of its own and calls `entry`, which must never return (it execs or _exits).
//
// vfork also copies the parent's whole descriptor table, and the child's exec closes every copy
// again: with a pipe per job in tend, a spawn cost grew with the jobs running. With
// `share_descriptors` (CLONE_FILES) the child starts on the parent's table itself, and must
// take a private copy of the few low descriptors it needs (close_range's CLOSE_RANGE_UNSHARE)
// before it changes any.
#pragma once

#include <sys/types.h>

namespace tend::sys {

// Whether this build can start a child with clone3 (x86-64 only, for now).
bool canCloneIntoCgroup();

// Like vfork(): the parent resumes once the child has exec'd or exited. `cgroup_dir_fd` -1
// starts the child in the parent's cgroup. Returns the child's pid, or -1 with errno set
// (ENOSYS where unsupported, or the kernel's refusal: EACCES, EBUSY…).
pid_t cloneIntoCgroup(int cgroup_dir_fd, bool share_descriptors, void (*entry)(const void*),
                      const void* argument);

}  // namespace tend::sys
