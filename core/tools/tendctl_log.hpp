// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace tend::ctl {

// What `tendctl log` shows, once tend has said where the job's log file is.
struct LogView {
    std::string path;
    std::string job;
    std::string instance;
    long lines = -1;  // the last N lines first; every line when negative
    bool follow = false;
    bool json = false;  // one {"job","instance","text"[,"time"]} object a line
};

// Prints the job's log, then, with `follow`, what is appended, across rotation and truncation,
// until tendctl is interrupted. Returns an error text when there is no log to print (empty on
// success).
std::string showLog(const LogView& view);

}  // namespace tend::ctl
