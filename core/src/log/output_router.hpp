// SPDX-License-Identifier: MIT
// Where job output goes. The supervisor asks for one output per job instance (shared by its
// pre-start, main, post-start ... processes and kept across respawns) and hands the returned
// write end to every process it spawns. The router owns the read end.
#pragma once

#include <string>

namespace tend::log {

class OutputRouter {
  public:
    virtual ~OutputRouter() = default;
    // Returns a write fd (close-on-exec) feeding `<log dir>/<file_name>`, or -1 with `error`
    // set. The caller closes the fd when the instance goes away; the router drains what is
    // left and closes the file once every copy of the write end is closed.
    virtual int openOutput(const std::string& file_name, bool timestamps, std::string& error) = 0;
};

}  // namespace tend::log
