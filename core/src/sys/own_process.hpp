// SPDX-License-Identifier: MIT
// What /proc says of tend's own process: its children (every thread's, since a child is listed
// under the thread that forked it) and its open descriptors.
#pragma once

#include <sys/types.h>

#include <vector>

namespace tend::sys {

std::vector<pid_t> ownChildren();
// Every descriptor open now, the one used to list them left out.
std::vector<int> openDescriptors();

}  // namespace tend::sys
