// SPDX-License-Identifier: MIT
// Job instances as plugins see them (tend/plugin/plugin.hpp's JobChange and InstanceView): what
// they are doing, and how their main process last ended and whether they failed.
#pragma once

#include <string>

#include "dispatch/supervisor.hpp"
#include "tend/plugin/plugin.hpp"

namespace tend::plugin {

// How an instance's main process last ended, and whether it failed: the text JobChange points
// into must outlive the change, so it is kept here.
struct JobOutcome {
    std::string last_exit;  // dispatch::describeExit's words, empty while it has not ended
    int exit_code = -1;
    bool failed = false;
    std::string failure_reason;

    explicit JobOutcome(const dispatch::Job& job);
    // The change as plugins see it, pointing into this outcome and the job.
    JobChange change(const dispatch::Job& job, std::string_view goal, std::string_view state,
                     std::string_view previous_state, std::string_view previous_goal) const;
};

InstanceView instanceView(const dispatch::Job& job);

}  // namespace tend::plugin
