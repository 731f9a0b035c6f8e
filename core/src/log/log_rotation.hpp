// SPDX-License-Identifier: MIT
// The rotation handshake: a log's writer runs a rename between two of its writes, then reopens,
// so that no batch lands half in the old file and half in the new one, and a quiet job does not
// keep writing into a file that was renamed away. Both writers of logs (the job log router and
// tend's own log file) offer it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tend::log {

// Renames the file at `path` away; returns what went wrong, or an empty string. Runs on the
// writer's thread while nothing is written to the file: it must be quick (a rename or two).
using RenameStep = std::function<std::string(const std::string& path)>;
// Learns how the rename went, once the writer will write to a new file at the path. Runs on the
// writer's thread.
using RotationDone = std::function<void(std::string error)>;

// A job log grew across a multiple of the step asked for: its path, whose it is, and its size.
struct LogGrowth {
    std::string path;
    std::string job;
    std::string instance;
    std::uint64_t size = 0;
};
// Called on the router's thread; it must not block.
using GrowthTap = std::function<void(LogGrowth&&)>;

}  // namespace tend::log
