// SPDX-License-Identifier: MIT
#include "control/job_json.hpp"

#include "control/protocol.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;
using dispatch::Goal;
using dispatch::Job;

void writeJob(JsonWriter& out, const Job& job, const dispatch::Supervisor* supervisor) {
    // Keys in sorted order, as the nlohmann tree that came before wrote them.
    out.beginObject();
    const bool changed = dispatch::Supervisor::definitionChanged(job);
    if (changed) {
        out.field("definition_changed", true);
    }
    if (job.entry->deleted) {
        out.field("file_removed", true);
    }
    out.field("goal", dispatch::goalName(job.goal));
    out.field("instance", job.instance);
    out.field("job", job.cls->name);
    if (changed) {
        out.field("note", "definition changed; restart to apply: tendctl restart --reload " +
                              job.cls->name);
    }
    out.key("processes").beginArray();
    for (model::ProcessType type : model::kProcessTypes) {
        if (const pid_t pid = job.pids[static_cast<std::size_t>(type)]) {
            out.beginObject()
                .field("pid", static_cast<long long>(pid))
                .field("process", model::processTypeName(type))
                .endObject();
        }
    }
    out.endArray();
    if (job.goal == Goal::Respawn && job.delay_timer) {
        out.field("respawn_delay_ms", static_cast<long long>(job.pending_delay_ms));
    }
    out.field("respawns", static_cast<long long>(job.respawns));
    if (supervisor) {
        if (const auto stale = supervisor->staleEnvironment(job); !stale.empty()) {
            out.key("stale_environment").beginArray();
            for (const auto& name : stale) {
                out.string(name);
            }
            out.endArray();
        }
    }
    out.field("state", dispatch::stateName(job.state));
    out.endObject();
}

void writeClass(JsonWriter& out, const ClassEntry& entry, const dispatch::Supervisor* supervisor) {
    out.beginObject();
    if (!entry.file_error.empty()) {
        out.field("file_error", entry.file_error);
    }
    out.key("instances").beginArray();
    for (const auto& [name, job] : entry.instances) {
        writeJob(out, *job, supervisor);
    }
    out.endArray();
    out.field("job", entry.cls->name);
    if (!entry.file_error.empty()) {
        out.field("note", "job file has errors: " + entry.file_error +
                              "; the last good definition is in force");
    }
    out.endObject();
}

void writeWaiting(JsonWriter& out, const std::string& job, const std::string& instance) {
    out.beginObject()
        .field("goal", "stop")
        .field("instance", instance)
        .field("job", job)
        .key("processes")
        .beginArray()
        .endArray()
        .field("respawns", 0)
        .field("state", "waiting")
        .endObject();
}

json jobJson(const Job& job, const dispatch::Supervisor* supervisor) {
    std::string text;
    JsonWriter out(text);
    writeJob(out, job, supervisor);
    return json::parse(text);
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
