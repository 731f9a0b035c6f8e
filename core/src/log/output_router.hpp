// SPDX-License-Identifier: MIT
// Where job output goes. The supervisor asks for one output per job instance (shared by its
// pre-start, main, post-start ... processes and kept across respawns) and hands the returned
// write end to every process it spawns. The router owns the read end.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace tend::log {

struct OutputSpec {
    std::string file_name;  // relative to the log directory
    std::string job;
    std::string instance;
    bool timestamps = false;
};

// Whole lines one job instance wrote, without their newlines: what output sinks get.
struct CapturedLines {
    std::string job;
    std::string instance;
    std::chrono::system_clock::time_point time;
    std::vector<std::string> lines;
};

// Called on the router's own thread with each batch of lines; it must not block.
using OutputTap = std::function<void(CapturedLines&&)>;

class OutputRouter {
  public:
    virtual ~OutputRouter() = default;
    // Returns a write fd (close-on-exec) feeding `<log dir>/<spec.file_name>`, or -1 with
    // `error` set. The caller closes the fd when the instance goes away; the router drains what
    // is left and closes the file once every copy of the write end is closed.
    virtual int openOutput(const OutputSpec& spec, std::string& error) = 0;
};

}  // namespace tend::log
