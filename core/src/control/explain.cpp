// SPDX-License-Identifier: MIT
#include "control/explain.hpp"

#include <algorithm>
#include <chrono>

#include "control/job_json.hpp"
#include "control/show_config.hpp"
#include "model/signals.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;
using dispatch::Goal;
using dispatch::Job;
using dispatch::State;

namespace {

std::string secondsAgo(sys::TimePoint then, sys::TimePoint now) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
    if (ms < 1000) {
        return std::to_string(ms) + " ms ago";
    }
    return std::to_string(ms / 1000) + " s ago";
}

json exitJson(const sys::ExitStatus& status) {
    return status.signaled ? json{{"signal", model::signalName(status.value)}}
                           : json{{"status", status.value}};
}

// The awaited events that only a plugin that is not loaded emits, with that plugin (nothing when
// which plugins run is unknown).
std::vector<std::pair<std::string, std::string>> missingPlugins(
    const dispatch::Supervisor& supervisor, const std::vector<const grammar::EventMatch*>& awaited,
    const std::optional<std::vector<conf::PluginEvents>>& plugins) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!plugins) {
        return out;
    }
    conf::EventSources sources;
    for (const ClassEntry* other : supervisor.classes()) {
        sources.addJob(*other->cls);
    }
    sources.setLoadedPlugins(*plugins);
    for (const auto* match : awaited) {
        if (const auto plugin = sources.absentPlugin(match->name)) {
            const std::pair<std::string, std::string> item{match->name, *plugin};
            if (std::find(out.begin(), out.end(), item) == out.end()) {
                out.push_back(item);
            }
        }
    }
    return out;
}

}  // namespace

Explanation explainClass(const dispatch::Supervisor& supervisor, const ClassEntry& entry,
                         const Job* only,
                         const std::optional<std::vector<conf::PluginEvents>>& plugins) {
    const model::JobClass& cls = *entry.cls;
    const sys::TimePoint now = supervisor.now();
    Explanation out;
    std::string& text = out.text;
    json& data = out.json;
    data["job"] = cls.name;
    data["deleted"] = entry.deleted;

    // The start condition: what has matched so far and what is still awaited.
    json start_on = nullptr;
    std::vector<std::string> waiting_for;
    std::vector<std::pair<std::string, std::string>> missing_plugins;  // event, plugin
    if (cls.start_on && entry.start_on) {
        const auto unmatched = entry.start_on->unmatched();
        for (const auto* match : unmatched) {
            waiting_for.push_back(matchText(*match));
        }
        missing_plugins = missingPlugins(supervisor, unmatched, plugins);
        json matched = json::array();
        // The live operator's own nodes: unmatched() points into them.
        for (const auto* match : entry.start_on->condition().matches()) {
            if (std::find(unmatched.begin(), unmatched.end(), match) == unmatched.end()) {
                matched.push_back(matchText(*match));
            }
        }
        start_on = {{"expression", cls.start_on->toString()},
                    {"unmatched", waiting_for},
                    {"matched", std::move(matched)}};
        json missing = json::array();
        for (const auto& [event, plugin] : missing_plugins) {
            missing.push_back({{"event", event}, {"plugin", plugin}});
        }
        start_on["plugins_not_loaded"] = std::move(missing);
    }
    data["start_on"] = start_on;
    data["stop_on"] = cls.stop_on ? json(cls.stop_on->toString()) : json(nullptr);
    data["task"] = cls.task;
    json respawn{{"enabled", cls.respawn},
                 {"limit", cls.respawn_limit},
                 {"interval_s", cls.respawn_interval}};
    if (cls.respawn_delay) {
        respawn["delay_initial_ms"] = cls.respawn_delay->initial_ms;
        respawn["delay_max_ms"] = cls.respawn_delay->max_ms;
    }

    text += cls.name;
    if (cls.description) {
        text += ": " + *cls.description;
    }
    text += "\n";
    if (entry.deleted) {
        text += "  its job file is gone: nothing starts it again, and it goes once it stops\n";
    }

    json instances = json::array();
    for (const auto& [name, job_ptr] : entry.instances) {
        const Job& job = *job_ptr;
        if (only && &job != only) {
            continue;
        }
        json item = jobJson(job);
        item["respawns_in_window"] = job.respawn_count;
        item["next_respawn_delay_ms"] = job.backoff_ms;
        if (job.last_exit) {
            item["last_exit"] = exitJson(*job.last_exit);
        }
        if (job.failed) {
            item["failure"] = {{"process", dispatch::failedProcessName(job.failed_process)},
                               {"detail", job.stopRecord().failure_detail}};
        }
        std::string why;
        if (job.goal == Goal::Start && job.state == State::Running) {
            why = "running";
            if (job.mainPid()) {
                why += ", main process " + std::to_string(job.mainPid()) + ", started " +
                       secondsAgo(job.main_started, now);
            } else if (!cls.task && !cls.process(model::ProcessType::Main)) {
                why += " (it has no main process: a job of pre-start/post-stop only)";
            }
        } else if (job.goal == Goal::Respawn) {
            why = "respawning: its main process ended; next start in " +
                  dispatch::formatMillis(job.pending_delay_ms) + " (starts kept " +
                  dispatch::formatMillis(job.backoff_ms) + " apart while it keeps failing)";
        } else if (job.goal == Goal::Start) {
            why = "starting: state " + std::string(dispatch::stateName(job.state));
            if (job.state == State::Spawned) {
                why += cls.expect == model::Expect::Notify
                           ? " (waiting for READY=1 from the main process)"
                           : " (waiting for the main process to fork as `expect` says)";
            }
        } else {
            why = "stopping: state " + std::string(dispatch::stateName(job.state));
        }
        if (job.stop_on) {
            const auto stop_waits = job.stop_on->unmatched();
            if (!stop_waits.empty() && job.goal != Goal::Stop) {
                json stop_waiting = json::array();
                for (const auto* match : stop_waits) {
                    stop_waiting.push_back(matchText(*match));
                }
                item["stop_on_unmatched"] = std::move(stop_waiting);
            }
        }
        item["why"] = why;
        text += "  " + supervisor.statusText(job) + "\n";
        text += "  why: " + why + "\n";
        if (cls.respawn) {
            text += "  respawn: " + std::to_string(job.respawns) + " so far, " +
                    std::to_string(job.respawn_count) + " in the current window (limit " +
                    (cls.respawn_limit == 0 ? std::string("none")
                                            : std::to_string(cls.respawn_limit) + " in " +
                                                  std::to_string(cls.respawn_interval) + " s") +
                    "), starts kept " + dispatch::formatMillis(job.backoff_ms) + " apart\n";
        }
        if (job.last_exit) {
            text += "  last exit: main process " + dispatch::describeExit(*job.last_exit) + "\n";
        }
        if (job.failed) {
            text += "  failed: " + job.stopRecord().failure_detail + "\n";
        }
        instances.push_back(std::move(item));
    }
    data["instances"] = std::move(instances);

    std::string why;
    if (entry.instances.empty()) {
        if (entry.deleted) {
            why = "not running: its job file is gone";
        } else if (!cls.start_on) {
            why = "not running: it has no `start on`, so it starts only with `tendctl start " +
                  cls.name + "`";
        } else if (!waiting_for.empty()) {
            why = "not running: its `start on " + cls.start_on->toString() +
                  "` is still waiting for: ";
            for (std::size_t i = 0; i < waiting_for.size(); ++i) {
                why += (i ? ", " : "") + waiting_for[i];
            }
            for (const auto& [event, plugin] : missing_plugins) {
                why +=
                    "; event '" + event + "' comes from plugin " + plugin + ", which is not loaded";
            }
        } else {
            why = "not running";
        }
        if (entry.last_run) {
            const dispatch::LastRun& last = *entry.last_run;
            json last_json{
                {"instance", last.instance},
                {"failed", last.failed},
                {"ended_ms_ago",
                 std::chrono::duration_cast<std::chrono::milliseconds>(now - last.ended).count()},
                {"respawns", last.respawns}};
            std::string ended = "  last run ended " + secondsAgo(last.ended, now);
            if (last.failed) {
                last_json["failure"] = {
                    {"process", dispatch::failedProcessName(last.failed_process)},
                    {"detail", last.failure_detail}};
                ended += ": it failed (" + last.failure_detail + ")";
            } else if (cls.task) {
                ended += ": the task finished";
            }
            if (last.last_exit) {
                last_json["last_exit"] = exitJson(*last.last_exit);
                if (!last.failed) {  // a failure's detail already says how it ended
                    ended += "; main process " + dispatch::describeExit(*last.last_exit);
                }
            }
            data["last_run"] = std::move(last_json);
            text += "  " + cls.name + " stop/waiting\n  why: " + why + "\n" + ended + "\n";
        } else {
            text += "  " + cls.name + " stop/waiting\n  why: " + why + "\n";
        }
        data["why"] = why;
    }
    if (cls.start_on) {
        text += "  start on: " + cls.start_on->toString() + "\n";
    }
    if (cls.stop_on) {
        text += "  stop on: " + cls.stop_on->toString() + "\n";
    }
    data["respawn"] = std::move(respawn);
    if (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    return out;
}

}  // namespace tend::control
