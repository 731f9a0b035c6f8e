// SPDX-License-Identifier: MIT
// The control commands: initctl's job, event and configuration commands with initctl's output,
// plus show-config, log, graph, monitor and explain. Each answers with `output` (what tendctl
// prints) and `data` (the same for scripts).
#include "control/commands.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "conf/check.hpp"
#include "control/control_server.hpp"
#include "control/protocol.hpp"
#include "daemon/job_config.hpp"
#include "daemon/job_watcher.hpp"
#include "model/signals.hpp"
#include "plugin/plugin_manager.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;
using dispatch::Goal;
using dispatch::Job;
using dispatch::State;

namespace {

bool isLifecycleEvent(std::string_view name) {
    return name == "starting" || name == "started" || name == "stopping" || name == "stopped";
}

// The job a lifecycle MATCH names with a literal: `started dbus`, `stopping JOB=x`.
std::optional<std::string> lifecycleJob(const grammar::EventMatch& match) {
    if (!isLifecycleEvent(match.name)) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < match.args.size(); ++i) {
        const auto& arg = match.args[i];
        const bool names_job = (arg.positional() && i == 0) || (arg.key == "JOB" && !arg.negated);
        if (names_job && arg.value.find_first_of("*?[$\\") == std::string::npos) {
            return arg.value;
        }
    }
    return std::nullopt;
}

std::vector<const grammar::EventMatch*> matchesOf(const grammar::EventCondition& condition) {
    std::vector<const grammar::EventMatch*> out;
    for (const auto& node : condition.nodes()) {
        if (node.kind == grammar::EventNode::Kind::Match) {
            out.push_back(&node.match);
        }
    }
    return out;
}

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

// Upstart's `show-config -e` leaf: `starting (job: A, env: K=V)`.
std::string enumeratedLeaf(const grammar::EventMatch& match) {
    std::string job;
    std::string env;
    for (std::size_t i = 0; i < match.args.size(); ++i) {
        const auto& arg = match.args[i];
        if (isLifecycleEvent(match.name) && i == 0 && arg.positional()) {
            job = arg.value;
            continue;
        }
        env += ' ';
        env += arg.positional() ? arg.value : arg.key + (arg.negated ? "!=" : "=") + arg.value;
    }
    // initctl's "(job:%s%s, env:%s)": a space only before a value.
    return match.name + " (job:" + (job.empty() ? "" : " " + job) + ", env:" + env + ")";
}

// initctl brackets every operator: `(starting a and (b or c var=2))`.
void bracketed(const grammar::EventCondition& condition, std::uint32_t index, std::string& out) {
    const grammar::EventNode& node = condition.node(index);
    if (node.kind == grammar::EventNode::Kind::Match) {
        grammar::EventCondition one;
        one.setRoot(one.addMatch(node.match));
        out += one.toString();
        return;
    }
    out += '(';
    bracketed(condition, node.lhs, out);
    out += node.kind == grammar::EventNode::Kind::And ? " and " : " or ";
    bracketed(condition, node.rhs, out);
    out += ')';
}

}  // namespace

std::string matchText(const grammar::EventMatch& match) {
    grammar::EventCondition one;
    one.setRoot(one.addMatch(match));
    return one.toString();
}

json jobJson(const Job& job) {
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
        out["respawn_delay_ms"] = job.backoff_ms;
    }
    if (dispatch::Supervisor::definitionChanged(job)) {
        out["definition_changed"] = true;
        out["note"] =
            "definition changed; restart to apply: tendctl restart --reload " + job.cls->name;
    }
    if (job.entry->deleted) {
        out["file_removed"] = true;
    }
    return out;
}

json classJson(const ClassEntry& entry) {
    json instances = json::array();
    for (const auto& [name, job] : entry.instances) {
        instances.push_back(jobJson(*job));
    }
    json out{{"job", entry.cls->name}, {"instances", std::move(instances)}};
    if (!entry.file_error.empty()) {
        out["file_error"] = entry.file_error;
        out["note"] = "job file has errors; the last good definition is in force";
    }
    return out;
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

std::string showConfigText(const model::JobClass& cls, bool enumerate) {
    std::string out = cls.name + "\n";
    for (const auto& event : cls.emits) {
        out += "  emits " + event + "\n";
    }
    const auto condition = [&](const char* label,
                               const std::optional<grammar::EventCondition>& cond) {
        if (!cond || cond->empty()) {
            return;
        }
        if (!enumerate) {
            std::string text;
            bracketed(*cond, cond->rootIndex(), text);
            out += std::string("  ") + label + " " + text + "\n";
            return;
        }
        for (const auto* match : matchesOf(*cond)) {
            out += std::string("  ") + label + " " + enumeratedLeaf(*match) + "\n";
        }
    };
    condition("start on", cls.start_on);
    condition("stop on", cls.stop_on);
    out.pop_back();
    return out;
}

json showConfigJson(const model::JobClass& cls) {
    const auto condition = [](const std::optional<grammar::EventCondition>& cond) -> json {
        if (!cond || cond->empty()) {
            return nullptr;
        }
        json events = json::array();
        for (const auto* match : matchesOf(*cond)) {
            json args = json::array();
            for (const auto& arg : match->args) {
                json item{{"value", arg.value}};
                if (!arg.positional()) {
                    item["key"] = arg.key;
                    item["negated"] = arg.negated;
                }
                args.push_back(std::move(item));
            }
            events.push_back({{"event", match->name}, {"args", std::move(args)}});
        }
        return json{{"expression", cond->toString()}, {"events", std::move(events)}};
    };
    return json{{"job", cls.name},
                {"emits", cls.emits},
                {"start_on", condition(cls.start_on)},
                {"stop_on", condition(cls.stop_on)}};
}

Graph jobGraph(const dispatch::Supervisor& supervisor) {
    std::set<std::string> jobs;
    for (const ClassEntry* entry : supervisor.classes()) {
        jobs.insert(entry->cls->name);
    }
    json nodes = json::array();
    json edges = json::array();
    std::set<std::string> events;
    std::string dot =
        "digraph tend {\n"
        "  rankdir=LR;\n"
        "  node [shape=box, style=rounded];\n";
    const auto quoted = [](const std::string& text) {
        std::string out = "\"";
        for (char c : text) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        return out + "\"";
    };
    const auto eventNode = [&](const std::string& name) {
        if (events.insert(name).second) {
            nodes.push_back({{"id", "event:" + name}, {"kind", "event"}, {"name", name}});
            dot +=
                "  " + quoted("event:" + name) + " [shape=diamond, label=" + quoted(name) + "];\n";
        }
        return "event:" + name;
    };
    const auto edge = [&](const std::string& from, const std::string& to, const std::string& kind,
                          const std::string& label) {
        edges.push_back({{"from", from}, {"to", to}, {"kind", kind}, {"label", label}});
        dot += "  " + quoted(from) + " -> " + quoted(to) + " [label=" + quoted(label) +
               (kind == "stop" ? ", style=dashed, color=red" : "") + "];\n";
    };
    for (const ClassEntry* entry : supervisor.classes()) {
        const model::JobClass& cls = *entry->cls;
        const std::string id = "job:" + cls.name;
        nodes.push_back({{"id", id}, {"kind", "job"}, {"name", cls.name}});
        dot += "  " + quoted(id) + " [label=" + quoted(cls.name) + "];\n";
        for (const auto& emitted : cls.emits) {
            edge(id, eventNode(emitted), "emits", "emits");
        }
        const auto conditionEdges = [&](const std::optional<grammar::EventCondition>& cond,
                                        const std::string& kind) {
            if (!cond) {
                return;
            }
            for (const auto* match : matchesOf(*cond)) {
                const std::string label = kind + " on " + matchText(*match);
                if (const auto job = lifecycleJob(*match); job && jobs.contains(*job)) {
                    edge("job:" + *job, id, kind, label);
                } else {
                    edge(eventNode(match->name), id, kind, label);
                }
            }
        };
        conditionEdges(cls.start_on, "start");
        conditionEdges(cls.stop_on, "stop");
    }
    dot += "}";
    return {json{{"nodes", std::move(nodes)}, {"edges", std::move(edges)}}, std::move(dot)};
}

Explanation explainClass(const dispatch::Supervisor& supervisor, const ClassEntry& entry,
                         const Job* only) {
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
    if (cls.start_on && entry.start_on) {
        const auto unmatched = entry.start_on->unmatched();
        for (const auto* match : unmatched) {
            waiting_for.push_back(matchText(*match));
        }
        json matched = json::array();
        // The live operator's own nodes: unmatched() points into them.
        for (const auto* match : matchesOf(entry.start_on->condition())) {
            if (std::find(unmatched.begin(), unmatched.end(), match) == unmatched.end()) {
                matched.push_back(matchText(*match));
            }
        }
        start_on = {{"expression", cls.start_on->toString()},
                    {"unmatched", waiting_for},
                    {"matched", std::move(matched)}};
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
                               {"detail", job.failure_detail}};
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
            why = "respawning: its main process ended; back-off " +
                  dispatch::formatMillis(job.backoff_ms);
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
                    "), next delay " + dispatch::formatMillis(job.backoff_ms) + "\n";
        }
        if (job.last_exit) {
            text += "  last exit: main process " + dispatch::describeExit(*job.last_exit) + "\n";
        }
        if (job.failed) {
            text += "  failed: " + job.failure_detail + "\n";
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

// ---------------------------------------------------------------------------------------------
// Dispatch

namespace {

// Holds the client until the answer is out: a client that half-closes its side after a
// request that waits (`start`) still gets the reply, and one that has truly gone costs a
// failed write.
//
// A request with `"options":{"data":false}` gets its reply without `data`: a client that prints
// the text (tendctl without --json) need not read and parse the JSON form as well, which for
// `list` with 1,000 jobs is most of the reply and most of the client's time.
struct Replier {
    std::shared_ptr<Client> client;
    bool omit_data = false;
    Replier(std::shared_ptr<Client> to, const Request& request) : client(std::move(to)) {
        const auto data = request.options.find("data");
        omit_data = data != request.options.end() && *data == false;
    }
    void operator()(const json& message) const {
        if (!omit_data || !message.contains("ok") || !message.contains("data")) {
            client->send(message);
            return;
        }
        json without = json::object();
        for (auto it = message.begin(); it != message.end(); ++it) {
            if (it.key() != "data") {
                without[it.key()] = it.value();
            }
        }
        client->send(without);
    }
};

std::string upstartPriorityName(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return "debug";
    case spdlog::level::info:
        return "info";
    case spdlog::level::warn:
        return "warn";
    case spdlog::level::err:
        return "error";
    case spdlog::level::critical:
    case spdlog::level::off:
    default:
        return "fatal";
    }
}

std::optional<spdlog::level::level_enum> parsePriority(std::string_view name) {
    if (name == "debug" || name == "trace") {
        return spdlog::level::debug;
    }
    if (name == "info" || name == "message") {
        return spdlog::level::info;
    }
    if (name == "warn" || name == "warning") {
        return spdlog::level::warn;
    }
    if (name == "error") {
        return spdlog::level::err;
    }
    if (name == "fatal" || name == "critical") {
        return spdlog::level::critical;
    }
    return std::nullopt;
}

bool flag(const Request& request, const char* name) {
    const auto it = request.options.find(name);
    return it != request.options.end() && it->is_boolean() && it->get<bool>();
}

// `check-config` against this tend's own stanzas, plugins' included, and its own search path:
// what `tendctl check-config` asks for when a tend is running. Relative paths are the client's,
// resolved against the working directory it sends, and reported the way it gave them.
json checkConfigReply(const Request& request, daemon::JobConfig* config) {
    if (!config) {
        return errorReply("unavailable", "this tend has no job directories to check against");
    }
    conf::CheckOptions options;
    options.lint = true;
    if (const auto events = request.options.find("ignore-events");
        events != request.options.end()) {
        if (!events->is_array()) {
            return errorReply("bad-request", "option 'ignore-events' must be a list of events");
        }
        for (const auto& event : *events) {
            if (!event.is_string()) {
                return errorReply("bad-request", "option 'ignore-events' must be a list of events");
            }
            options.assumed_events.push_back(event.get<std::string>());
        }
    }
    std::filesystem::path cwd;
    if (const auto it = request.options.find("cwd"); it != request.options.end()) {
        if (!it->is_string() || !std::filesystem::path(it->get<std::string>()).is_absolute()) {
            return errorReply("bad-request", "option 'cwd' must be an absolute path");
        }
        cwd = it->get<std::string>();
    }
    std::vector<std::filesystem::path> given;
    std::vector<std::filesystem::path> paths;
    for (const auto& arg : request.args) {
        std::filesystem::path path(arg);
        if (path.is_relative()) {
            if (cwd.empty()) {
                return errorReply("bad-argument",
                                  "relative path '" + arg + "' without the option 'cwd'");
            }
            given.push_back(path);
            path = cwd / path;
        }
        paths.push_back(std::move(path));
    }
    std::vector<std::filesystem::path> session;
    for (const auto& dir : config->directories()) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) {
            session.push_back(dir);
        }
    }
    if (paths.empty()) {
        paths = std::move(session);
    } else {
        options.context = std::move(session);
    }
    auto report = conf::checkPaths(paths, config->registry(), options);
    report.showPathsAsGiven(cwd, given);
    const bool warnings_fail = flag(request, "warn");
    const bool failed = report.failed(warnings_fail);
    return okReply(report.text(),
                   json{{"failed", failed}, {"report", report.document(warnings_fail)}});
}

}  // namespace

void ControlServer::jobCommand(Request& request, const std::shared_ptr<Client>& client) {
    const Replier reply(client, request);
    const std::string& command = request.command;
    const auto& args = request.args;
    if (args.empty()) {
        reply(errorReply("missing-argument", "missing job name"));
        return;
    }
    const std::string name = args.front();
    const std::vector<std::string> env(args.begin() + 1, args.end());
    const char* failure = command == "start"  ? "Job failed to start"
                          : command == "stop" ? "Job failed while stopping"
                                              : "Job failed to restart";
    dispatch::Completion done;
    if (request.wait) {
        done = [this, reply, name, env, failure, command](bool failed, const std::string& detail) {
            if (failed) {
                std::string error = failure;
                if (!detail.empty()) {
                    error += " (" + detail + ")";
                }
                reply(errorReply("job-failed", error));
                return;
            }
            std::string ignored;
            const Job* job = supervisor_.findInstance(name, env, ignored);
            if (job && (command != "stop" || job->state != State::Waiting)) {
                reply(okReply(supervisor_.statusText(*job), jobJson(*job)));
                return;
            }
            // The instance has gone (a finished task, a stopped job).
            std::string instance;
            const ClassEntry* entry = supervisor_.findClass(name);
            if (entry && !entry->cls->instance.empty()) {
                model::Environment expanded;
                for (const auto& item : env) {
                    expanded.setEntry(item);
                }
                instance = model::expandVariables(entry->cls->instance, expanded).value_or("");
            }
            const std::string display = instance.empty() ? name : name + " (" + instance + ")";
            reply(okReply(display + " stop/waiting", json{{"job", name},
                                                          {"instance", instance},
                                                          {"goal", "stop"},
                                                          {"state", "waiting"},
                                                          {"processes", json::array()},
                                                          {"respawns", 0}}));
        };
    }
    dispatch::Supervisor::Reply result;
    if (const auto it = request.options.find("instance"); it != request.options.end()) {
        // A bare `start`/`stop` inside a job names its own instance directly.
        if (!it->is_string()) {
            reply(errorReply("bad-request", "\"instance\" must be a string"));
            return;
        }
        result = supervisor_.changeInstance(name, it->get<std::string>(), command, done);
    } else if (command == "start") {
        result = supervisor_.start(name, env, done);
    } else if (command == "stop") {
        result = supervisor_.stop(name, env, done);
    } else {
        result = supervisor_.restart(name, env, done, flag(request, "reload"));
    }
    if (!result.ok) {
        reply(errorReply(errorCodeFor(result.error), result.error));
    } else if (!request.wait) {
        reply(okReply("", json::object()));
    }
}

void ControlServer::stopAll(Request& request, const std::shared_ptr<Client>& client) {
    const Replier reply(client, request);
    std::vector<Job*> running;
    for (const ClassEntry* entry : supervisor_.classes()) {
        for (const auto& [name, job] : entry->instances) {
            if (job->goal != Goal::Stop) {
                running.push_back(job.get());
            }
        }
    }
    struct Tally {
        std::size_t total = 0;
        std::size_t done = 0;
        std::vector<std::string> failed;
        bool progress = false;
    };
    auto tally = std::make_shared<Tally>();
    tally->total = running.size();
    tally->progress = flag(request, "progress");
    const auto finish = [reply, tally] {
        std::string output = "stopped " + std::to_string(tally->total - tally->failed.size()) +
                             " of " + std::to_string(tally->total) + " job instances";
        json data{{"stopped", tally->total - tally->failed.size()},
                  {"total", tally->total},
                  {"failed", tally->failed}};
        if (tally->failed.empty()) {
            reply(okReply(std::move(output), std::move(data)));
        } else {
            json error = errorReply(
                "job-failed", output + "; failed while stopping: " + [&] {
                    std::string list;
                    for (const auto& f : tally->failed) {
                        list += (list.empty() ? "" : ", ") + f;
                    }
                    return list;
                }());
            error["data"] = std::move(data);
            reply(error);
        }
    };
    if (running.empty()) {
        finish();
        return;
    }
    for (Job* job : running) {
        const std::string display = job->displayName();
        dispatch::Completion done;
        if (request.wait) {
            done = [reply, tally, display, finish](bool failed, const std::string&) {
                ++tally->done;
                if (failed) {
                    tally->failed.push_back(display);
                }
                if (tally->progress) {
                    reply(json{{"protocol", kProtocolVersion},
                               {"progress",
                                {{"what", "stopping"},
                                 {"done", tally->done},
                                 {"total", tally->total},
                                 {"item", display}}}});
                }
                if (tally->done == tally->total) {
                    finish();
                }
            };
        }
        // A job that another request is stopping already counts as stopped here.
        if (!supervisor_.stopInstance(*job, done).ok && done) {
            done(false, {});
        }
    }
    if (!request.wait) {
        reply(okReply("", json::object()));
    }
}

void ControlServer::dispatchRequest(Request& request, const std::shared_ptr<Client>& client) {
    const Replier reply(client, request);
    const std::string& command = request.command;
    const auto& args = request.args;
    const auto needJob = [&]() -> const ClassEntry* {
        if (args.empty()) {
            reply(errorReply("missing-argument", "missing job name"));
            return nullptr;
        }
        const ClassEntry* entry = supervisor_.findClass(args.front());
        if (!entry) {
            reply(errorReply("unknown-job", "Unknown job: " + args.front()));
        }
        return entry;
    };

    if (command == "start" || command == "restart") {
        jobCommand(request, client);
    } else if (command == "stop") {
        if (flag(request, "all")) {
            stopAll(request, client);
        } else {
            jobCommand(request, client);
        }
    } else if (command == "reload") {
        if (args.empty()) {
            reply(errorReply("missing-argument", "missing job name"));
            return;
        }
        const auto result = supervisor_.reload(args.front(), {args.begin() + 1, args.end()});
        reply(result.ok ? okReply("", json::object())
                        : errorReply(errorCodeFor(result.error), result.error));
    } else if (command == "status") {
        const ClassEntry* entry = needJob();
        if (!entry) {
            return;
        }
        if (args.size() == 1) {
            reply(okReply(supervisor_.statusOfClass(*entry), classJson(*entry)));
            return;
        }
        std::string error;
        const Job* job =
            supervisor_.findInstance(args.front(), {args.begin() + 1, args.end()}, error);
        if (!job) {
            reply(errorReply(errorCodeFor(error), error));
            return;
        }
        json data{{"job", entry->cls->name}, {"instances", json::array({jobJson(*job)})}};
        reply(okReply(supervisor_.statusText(*job), std::move(data)));
    } else if (command == "list") {
        std::string out;
        json jobs = json::array();
        for (const ClassEntry* entry : supervisor_.classes()) {
            out += supervisor_.statusOfClass(*entry);
            out += '\n';
            jobs.push_back(classJson(*entry));
        }
        if (!out.empty()) {
            out.pop_back();
        }
        reply(okReply(std::move(out), json{{"jobs", std::move(jobs)}}));
    } else if (command == "usage") {
        const ClassEntry* entry = needJob();
        if (!entry) {
            return;
        }
        const std::string usage = entry->cls->usage.value_or("");
        reply(okReply("Usage: " + usage, json{{"job", entry->cls->name}, {"usage", usage}}));
    } else if (command == "emit") {
        if (args.empty() || args.front().empty()) {
            reply(errorReply("missing-argument", "missing event name"));
            return;
        }
        model::Environment env;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i].find('=') == std::string::npos || args[i].front() == '=') {
                reply(errorReply("bad-environment", "Env must be KEY=VALUE pairs"));
                return;
            }
            env.setEntry(args[i]);
        }
        const std::string name = args.front();
        dispatch::Completion done;
        if (request.wait) {
            done = [reply, name](bool failed, const std::string& detail) {
                if (failed) {
                    reply(errorReply(
                        "event-failed",
                        "Event failed" + (detail.empty() ? std::string() : " (" + detail + ")")));
                } else {
                    reply(okReply("", json{{"event", name}}));
                }
            };
        }
        supervisor_.emit(name, std::move(env), done);
        supervisor_.poll();
        if (!request.wait) {
            reply(okReply("", json{{"event", name}}));
        }
    } else if (command == "version") {
        reply(okReply("tend " + context_.version,
                      json{{"version", context_.version}, {"protocol", kProtocolVersion}}));
    } else if (command == "log-priority") {
        if (!args.empty()) {
            const auto level = parsePriority(args.front());
            if (!level) {
                reply(errorReply("bad-argument",
                                 "unknown priority '" + args.front() +
                                     "': use debug, info, message, warn, error or fatal"));
                return;
            }
            logger_->set_level(*level);
            logger_->info("log priority set to {}", args.front());
            // Upstart's `message` shares tend's info level but reads back by its own name.
            priority_name_ = args.front() == "message" ? "message" : upstartPriorityName(*level);
            reply(okReply("", json{{"priority", priority_name_}}));
            return;
        }
        std::string current = upstartPriorityName(logger_->level());
        if (priority_name_ == "message" && current == "info") {
            current = priority_name_;
        }
        reply(okReply(current, json{{"priority", current}}));
    } else if (command == "show-config") {
        const bool enumerate = flag(request, "enumerate");
        std::string out;
        json jobs = json::array();
        if (!args.empty()) {
            const ClassEntry* entry = needJob();
            if (!entry) {
                return;
            }
            out = showConfigText(*entry->cls, enumerate);
            jobs.push_back(showConfigJson(*entry->cls));
        } else {
            for (const ClassEntry* entry : supervisor_.classes()) {
                out += showConfigText(*entry->cls, enumerate) + "\n";
                jobs.push_back(showConfigJson(*entry->cls));
            }
            if (!out.empty()) {
                out.pop_back();
            }
        }
        reply(okReply(std::move(out), json{{"jobs", std::move(jobs)}}));
    } else if (command == "check-config") {
        reply(checkConfigReply(request, context_.config));
    } else if (command == "reload-configuration") {
        if (!context_.config) {
            reply(errorReply("unavailable", "this tend has no job directories to reload"));
            return;
        }
        const bool progress = flag(request, "progress");
        std::size_t last_percent = 0;
        daemon::ReloadOptions options;
        options.dry_run = flag(request, "dry_run");
        options.progress = [&](std::size_t done, std::size_t total) {
            const std::size_t percent = total ? done * 100 / total : 100;
            if (progress && (percent != last_percent || done == total)) {
                last_percent = percent;
                reply(json{{"protocol", kProtocolVersion},
                           {"progress",
                            {{"what", "reading job files"}, {"done", done}, {"total", total}}}});
            }
        };
        const daemon::ReloadReport report = context_.config->reload(options);
        if (!options.dry_run) {
            daemon::logReload(*logger_, "reload-configuration", report);
            supervisor_.poll();
        }
        json plan = json::array();
        for (const auto& step : report.plan) {
            static constexpr const char* kKinds[] = {"added", "changed", "removed",
                                                     "kept_last_good", "pending_removal"};
            plan.push_back({{"kind", kKinds[static_cast<int>(step.kind)]},
                            {"job", step.job},
                            {"detail", step.detail}});
        }
        reply(okReply(report.planText() + "\n" + report.summary(),
                      json{{"dry_run", report.dry_run},
                           {"files", report.files},
                           {"parsed", report.parsed},
                           {"added", report.added},
                           {"changed", report.changed},
                           {"removed", report.removed},
                           {"kept_last_good", report.kept},
                           {"unchanged", report.unchanged},
                           {"errors", report.errors},
                           {"plan", std::move(plan)}}));
    } else if (command == "log") {
        const ClassEntry* entry = needJob();
        if (!entry) {
            return;
        }
        std::string instance;
        if (!entry->cls->instance.empty()) {
            std::string error;
            const Job* job =
                supervisor_.findInstance(args.front(), {args.begin() + 1, args.end()}, error);
            if (job) {
                instance = job->instance;
            } else {
                model::Environment expanded;
                for (std::size_t i = 1; i < args.size(); ++i) {
                    expanded.setEntry(args[i]);
                }
                const auto name = model::expandVariables(entry->cls->instance, expanded);
                if (!name) {
                    reply(errorReply("unknown-parameter", "Unknown parameter in instance name '" +
                                                              entry->cls->instance +
                                                              "'; name the instance's " +
                                                              "variables, e.g. `tendctl log " +
                                                              args.front() + " KEY=VALUE`"));
                    return;
                }
                instance = *name;
            }
        }
        const std::string path =
            context_.log_dir + "/" + dispatch::Supervisor::logFileName(args.front(), instance);
        const bool logged = entry->cls->console == model::Console::Log;
        reply(okReply(path, json{{"job", args.front()},
                                 {"instance", instance},
                                 {"path", path},
                                 {"console_log", logged}}));
    } else if (command == "graph") {
        Graph graph = jobGraph(supervisor_);
        reply(okReply(std::move(graph.dot), std::move(graph.json)));
    } else if (command == "explain") {
        const ClassEntry* entry = needJob();
        if (!entry) {
            return;
        }
        const Job* only = nullptr;
        if (args.size() > 1) {
            std::string error;
            only = supervisor_.findInstance(args.front(), {args.begin() + 1, args.end()}, error);
            if (!only) {
                reply(errorReply(errorCodeFor(error), error));
                return;
            }
        }
        Explanation explanation = explainClass(supervisor_, *entry, only);
        reply(okReply(std::move(explanation.text), std::move(explanation.json)));
    } else if (command == "monitor") {
        monitors_.push_back(client);
        reply(okReply("", json{{"monitoring", true}}));
    } else if (command == "plugins") {
        std::string out;
        json list = json::array();
        if (context_.plugins) {
            for (const auto& plugin : context_.plugins->status()) {
                out += plugin.name + (plugin.version.empty() ? "" : " " + plugin.version) + " " +
                       plugin.state;
                if (!plugin.reason.empty()) {
                    out += ": " + plugin.reason;
                }
                out += " (" + plugin.path + ")\n";
                list.push_back({{"name", plugin.name},
                                {"version", plugin.version},
                                {"state", plugin.state},
                                {"reason", plugin.reason},
                                {"path", plugin.path},
                                {"requires", plugin.requires_plugins},
                                {"provides", plugin.provides},
                                {"load_ms", plugin.load_ms}});
            }
        }
        if (!out.empty()) {
            out.pop_back();
        }
        reply(okReply(std::move(out), json{{"plugins", std::move(list)}}));
    } else {
        plugin::CommandReply answer;
        if (context_.plugins && context_.plugins->runCommand(command, args, answer)) {
            json data = json::parse(answer.json, nullptr, false);
            if (data.is_discarded()) {
                data = json::object();
            }
            if (answer.ok) {
                reply(okReply(answer.text, std::move(data)));
            } else {
                reply(errorReply("failed", answer.text));
            }
            return;
        }
        reply(errorReply("unknown-command", "unknown command '" + command + "'"));
    }
}

}  // namespace tend::control
