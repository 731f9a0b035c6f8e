// SPDX-License-Identifier: MIT
// Names and descriptions of goals, states, failures and exits.
#include "dispatch/job.hpp"

#include "model/signals.hpp"

namespace tend::dispatch {

std::string_view failedProcessName(FailedProcess process) {
    switch (process) {
    case FailedProcess::None:
        return "";
    case FailedProcess::Main:
        return "main";
    case FailedProcess::PreStart:
        return "pre-start";
    case FailedProcess::PostStart:
        return "post-start";
    case FailedProcess::PreStop:
        return "pre-stop";
    case FailedProcess::PostStop:
        return "post-stop";
    case FailedProcess::Respawn:
        return "respawn";
    }
    return "";
}

std::string describeExit(sys::ExitStatus status) {
    if (status.signaled) {
        return "killed by " + model::signalName(status.value) + " signal";
    }
    return "terminated with status " + std::to_string(status.value);
}

std::string formatMillis(std::uint32_t ms) {
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string_view goalName(Goal goal) {
    switch (goal) {
    case Goal::Stop:
        return "stop";
    case Goal::Start:
        return "start";
    case Goal::Respawn:
        return "respawn";
    }
    return "stop";
}

std::string_view stateName(State state) {
    switch (state) {
    case State::Waiting:
        return "waiting";
    case State::Starting:
        return "starting";
    case State::PreStart:
        return "pre-start";
    case State::Spawned:
        return "spawned";
    case State::PostStart:
        return "post-start";
    case State::Running:
        return "running";
    case State::PreStop:
        return "pre-stop";
    case State::Stopping:
        return "stopping";
    case State::Killed:
        return "killed";
    case State::PostStop:
        return "post-stop";
    }
    return "waiting";
}

const StopRecord& Job::stopRecord() const {
    static const StopRecord none;
    return stop_record ? *stop_record : none;
}

StopRecord& Job::recordStop() {
    if (!stop_record) {
        stop_record = std::make_unique<StopRecord>();
    }
    return *stop_record;
}

std::string Job::displayName() const {
    return instance.empty() ? cls->name : cls->name + " (" + instance + ")";
}

}  // namespace tend::dispatch
