// SPDX-License-Identifier: MIT
// Starting a job process: vfork (or clone3 sharing the descriptor table) + exec, with the child
// doing only system calls. Returns once the
// child has exec'd (vfork suspends the parent until then), so a missing binary, a bad `chdir` or
// a refused `setuid` is a start failure with its reason, never "started, then died".
#pragma once

#include "sys/platform.hpp"

namespace tend::sys {

// `cgroup_dir_fd`: the cgroup the process starts in (an open directory), or -1 for tend's own.
SpawnOutcome spawnProcess(const ProcessSetup& setup, int cgroup_dir_fd = -1);

// Reserves the few low descriptors a child is handed its streams in, so that a spawn copies
// those and not tend's whole table. Call it first thing in main, while the lowest numbers are
// free; the first spawn reserves them otherwise, wherever the numbers are by then.
void reserveSpawnSlots();

// argv[0] resolved against PATH taken from `env` (or a default), the way execvp would.
// Returns the path, or an empty string with `error` set.
std::string resolveExecutable(const std::string& name, const std::vector<std::string>& env,
                              std::string& error);

}  // namespace tend::sys
