// SPDX-License-Identifier: MIT
// Starting a job process: vfork + exec, with the child doing only system calls. Returns once the
// child has exec'd (vfork suspends the parent until then), so a missing binary, a bad `chdir` or
// a refused `setuid` is a start failure with its reason, never "started, then died".
#pragma once

#include "sys/platform.hpp"

namespace tend::sys {

SpawnOutcome spawnProcess(const ProcessSetup& setup);

// argv[0] resolved against PATH taken from `env` (or a default), the way execvp would.
// Returns the path, or an empty string with `error` set.
std::string resolveExecutable(const std::string& name, const std::vector<std::string>& env,
                              std::string& error);

}  // namespace tend::sys
