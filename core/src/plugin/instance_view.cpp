// SPDX-License-Identifier: MIT
#include "plugin/instance_view.hpp"

namespace tend::plugin {

JobOutcome::JobOutcome(const dispatch::Job& job)
    : failed(job.failed),
      failure_reason(job.failed ? job.stopRecord().failure_detail : std::string()) {
    if (job.last_exit) {
        last_exit = dispatch::describeExit(*job.last_exit);
        exit_code = job.last_exit->signaled ? -1 : job.last_exit->value;
    }
}

JobChange JobOutcome::change(const dispatch::Job& job, std::string_view goal,
                             std::string_view state, std::string_view previous_state,
                             std::string_view previous_goal) const {
    JobChange change;
    change.job = job.cls->name;
    change.instance = job.instance;
    change.goal = goal;
    change.state = state;
    change.previous_state = previous_state;
    change.main_pid = job.mainPid();
    change.previous_goal = previous_goal;
    change.last_exit = last_exit;
    change.exit_code = exit_code;
    change.failed = failed;
    change.failure_reason = failure_reason;
    return change;
}

InstanceView instanceView(const dispatch::Job& job) {
    JobOutcome outcome(job);
    InstanceView view;
    view.job = job.cls->name;
    view.instance = job.instance;
    view.goal = dispatch::goalName(job.goal);
    view.state = dispatch::stateName(job.state);
    view.main_pid = job.mainPid();
    view.respawns = static_cast<int>(job.respawns);
    view.last_exit = std::move(outcome.last_exit);
    view.exit_code = outcome.exit_code;
    view.failed = outcome.failed;
    view.failure_reason = std::move(outcome.failure_reason);
    return view;
}

}  // namespace tend::plugin
