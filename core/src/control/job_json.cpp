// SPDX-License-Identifier: MIT
#include "control/job_json.hpp"

#include "control/protocol.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;
using dispatch::Goal;
using dispatch::Job;

json jobJson(const Job& job, const dispatch::Supervisor* supervisor) {
    json processes = json::array();
    for (model::ProcessType type : model::kProcessTypes) {
        if (const pid_t pid = job.pids[static_cast<std::size_t>(type)]) {
            processes.push_back({{"process", model::processTypeName(type)}, {"pid", pid}});
        }
    }
    json out{{"job", job.cls->name},
             {"instance", job.instance},
             {"goal", dispatch::goalName(job.goal)},
             {"state", dispatch::stateName(job.state)},
             {"processes", std::move(processes)},
             {"respawns", job.respawns}};
    if (job.goal == Goal::Respawn && job.delay_timer) {
        out["respawn_delay_ms"] = job.pending_delay_ms;
    }
    if (dispatch::Supervisor::definitionChanged(job)) {
        out["definition_changed"] = true;
        out["note"] =
            "definition changed; restart to apply: tendctl restart --reload " + job.cls->name;
    }
    if (job.entry->deleted) {
        out["file_removed"] = true;
    }
    if (supervisor) {
        if (auto stale = supervisor->staleEnvironment(job); !stale.empty()) {
            out["stale_environment"] = std::move(stale);
        }
    }
    return out;
}

json classJson(const ClassEntry& entry, const dispatch::Supervisor* supervisor) {
    json instances = json::array();
    for (const auto& [name, job] : entry.instances) {
        instances.push_back(jobJson(*job, supervisor));
    }
    json out{{"job", entry.cls->name}, {"instances", std::move(instances)}};
    if (!entry.file_error.empty()) {
        out["file_error"] = entry.file_error;
        out["note"] =
            "job file has errors: " + entry.file_error + "; the last good definition is in force";
    }
    return out;
}

json waitingJson(const std::string& job, const std::string& instance) {
    return json{{"job", job},         {"instance", instance},       {"goal", "stop"},
                {"state", "waiting"}, {"processes", json::array()}, {"respawns", 0}};
}

json monitorEventMessage(const model::Event& event) {
    return json{
        {"protocol", kProtocolVersion},
        {"monitor", {{"type", "event"}, {"event", event.name}, {"env", event.env.entries()}}}};
}

json monitorTransitionMessage(const dispatch::Supervisor::Transition& change) {
    json body{{"type", change.goal ? "goal" : "state"},
              {"job", change.job->cls->name},
              {"instance", change.job->instance}};
    if (change.goal) {
        body["from"] = dispatch::goalName(change.old_goal);
        body["to"] = dispatch::goalName(change.new_goal);
    } else {
        body["from"] = dispatch::stateName(change.old_state);
        body["to"] = dispatch::stateName(change.new_state);
        body["goal"] = dispatch::goalName(change.new_goal);
    }
    return json{{"protocol", kProtocolVersion}, {"monitor", std::move(body)}};
}

json monitorExitMessage() {
    return json{{"protocol", kProtocolVersion}, {"monitor", {{"type", "exit"}}}};
}

}  // namespace tend::control
