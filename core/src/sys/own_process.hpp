// SPDX-License-Identifier: MIT
// What /proc says of tend's own process: its children (every thread's, since a child is listed
// under the thread that forked it) and its open descriptors; and its descriptor table's size.
#pragma once

#include <sys/types.h>

#include <vector>

namespace tend::sys {

std::vector<pid_t> ownChildren();
// Every descriptor open now, the one used to list them left out.
std::vector<int> openDescriptors();
// Makes the descriptor table hold `count` entries (at most the soft RLIMIT_NOFILE) at once. Call
// it while tend has one thread: once threads share the table, every time it doubles the kernel
// waits for an RCU grace period (expand_fdtable), a wait per doubling in the middle of a start
// of a thousand jobs. The table never shrinks; its entries cost the kernel 8 bytes each.
void growDescriptorTable(int count);

}  // namespace tend::sys
