// SPDX-License-Identifier: MIT
// Jobs and job changes as JSON: the `data` of status, list and start replies, and the lines
// `monitor` streams. The field names are the ones docs/control.md promises; add fields, never
// rename them.
#pragma once

#include <nlohmann/json.hpp>

#include "control/json_writer.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::control {

// {"job","instance","goal","state","processes":[{"process","pid"}],"respawns"}, and with a
// supervisor "stale_environment" when the main process runs with one.
void writeJob(JsonWriter& out, const dispatch::Job& job,
              const dispatch::Supervisor* supervisor = nullptr);
// {"job","instances":[writeJob...]}; a job with no instance has none.
void writeClass(JsonWriter& out, const dispatch::ClassEntry& entry,
                const dispatch::Supervisor* supervisor = nullptr);
// initctl's answer for an instance that is not there: `NAME stop/waiting`, as JSON.
void writeWaiting(JsonWriter& out, const std::string& job, const std::string& instance);
// writeJob's object as a value, for an answer that adds to it (explain).
nlohmann::json jobJson(const dispatch::Job& job, const dispatch::Supervisor* supervisor = nullptr);

// Stream lines for `monitor`.
nlohmann::json monitorEventMessage(const model::Event& event);
nlohmann::json monitorTransitionMessage(const dispatch::Supervisor::Transition& change);
// The last line: tend is exiting, the session has ended and every job has stopped.
nlohmann::json monitorExitMessage();

}  // namespace tend::control
