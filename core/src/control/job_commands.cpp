// SPDX-License-Identifier: MIT
// The job commands: start, stop (one instance, or --all), restart, reload (the job's reload
// signal), status, list, usage, explain and log, with initctl's output and error texts.
#include <memory>

#include "control/command_handlers.hpp"
#include "control/explain.hpp"
#include "control/job_json.hpp"
#include "dispatch/supervisor.hpp"
#include "model/comma_list.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;
using dispatch::Goal;
using dispatch::Job;
using dispatch::State;

namespace {

std::vector<std::string> envOf(const Request& request) {
    return {request.args.begin() + 1, request.args.end()};
}

}  // namespace

namespace commands {

void changeGoal(CommandContext& c, Request& request, const Replier& reply,
                const std::shared_ptr<Client>&) {
    const std::string& command = request.command;
    if (request.args.empty()) {
        reply(errorReply("missing-argument", "missing job name"));
        return;
    }
    const std::string name = request.args.front();
    const std::vector<std::string> env = envOf(request);
    const char* failure = command == "start"  ? "Job failed to start"
                          : command == "stop" ? "Job failed while stopping"
                                              : "Job failed to restart";
    dispatch::Completion done;
    if (request.wait) {
        done = [supervisor = &c.supervisor, reply, name, env, failure, command](
                   bool failed, const std::string& detail) {
            if (failed) {
                std::string error = failure;
                if (!detail.empty()) {
                    error += " (" + detail + ")";
                }
                reply(errorReply("job-failed", error));
                return;
            }
            std::string ignored;
            const Job* job = supervisor->findInstance(name, env, ignored);
            if (job && (command != "stop" || job->state != State::Waiting)) {
                reply.ok(supervisor->statusText(*job),
                         [&](JsonWriter& out) { writeJob(out, *job, supervisor); });
                return;
            }
            // The instance has gone (a finished task, a stopped job).
            std::string instance;
            if (const ClassEntry* entry = supervisor->findClass(name)) {
                instance = supervisor->instanceName(*entry, env, ignored).value_or("");
            }
            const std::string display = instance.empty() ? name : name + " (" + instance + ")";
            reply.ok(display + " stop/waiting",
                     [&](JsonWriter& out) { writeWaiting(out, name, instance); });
        };
    }
    dispatch::Supervisor::Reply result;
    if (const auto it = request.options.find("instance"); it != request.options.end()) {
        // A bare `start`/`stop` inside a job names its own instance directly.
        if (!it->is_string()) {
            reply(errorReply("bad-request", "\"instance\" must be a string"));
            return;
        }
        result = c.supervisor.changeInstance(name, it->get<std::string>(), command, done);
    } else if (command == "start") {
        result = c.supervisor.start(name, env, done);
    } else if (command == "stop") {
        result = c.supervisor.stop(name, env, done);
    } else {
        // `adopt`; `reload` is what tendctl sent before the option had its own word.
        const bool adopt = flag(request, "adopt") || flag(request, "reload");
        result = c.supervisor.restart(name, env, done, adopt);
    }
    if (!result.ok) {
        reply(errorReply(errorCodeFor(result.error), result.error));
    } else if (!request.wait) {
        reply(okReply("", json::object()));
    }
}

void stop(CommandContext& c, Request& request, const Replier& reply,
          const std::shared_ptr<Client>& client) {
    if (flag(request, "all")) {
        stopAll(c, request, reply, client);
    } else {
        changeGoal(c, request, reply, client);
    }
}

void stopAll(CommandContext& c, Request& request, const Replier& reply,
             const std::shared_ptr<Client>&) {
    std::vector<Job*> running;
    for (const ClassEntry* entry : c.supervisor.classes()) {
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
            return;
        }
        json error = errorReply(
            "job-failed", output + "; failed while stopping: " + model::commaList(tally->failed));
        error["data"] = std::move(data);
        reply(error);
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
        if (!c.supervisor.stopInstance(*job, done).ok && done) {
            done(false, {});
        }
    }
    if (!request.wait) {
        reply(okReply("", json::object()));
    }
}

void signalReload(CommandContext& c, Request& request, const Replier& reply,
                  const std::shared_ptr<Client>&) {
    if (request.args.empty()) {
        reply(errorReply("missing-argument", "missing job name"));
        return;
    }
    const auto result = c.supervisor.signalReload(request.args.front(), envOf(request));
    reply(result.ok ? okReply("", json::object())
                    : errorReply(errorCodeFor(result.error), result.error));
}

void status(CommandContext& c, Request& request, const Replier& reply,
            const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(c, request, reply);
    if (!entry) {
        return;
    }
    if (request.args.size() == 1) {
        reply.ok(c.supervisor.statusOfClass(*entry),
                 [&](JsonWriter& out) { writeClass(out, *entry, &c.supervisor); });
        return;
    }
    std::string error;
    const Job* job = c.supervisor.findInstance(request.args.front(), envOf(request), error);
    if (!job) {
        reply(errorReply(errorCodeFor(error), error));
        return;
    }
    reply.ok(c.supervisor.statusText(*job), [&](JsonWriter& out) {
        out.beginObject().key("instances").beginArray();
        writeJob(out, *job, &c.supervisor);
        out.endArray().field("job", entry->cls->name).endObject();
    });
}

void list(CommandContext& c, Request&, const Replier& reply, const std::shared_ptr<Client>&) {
    std::string text;
    const auto classes = c.supervisor.classes();
    for (const ClassEntry* entry : classes) {
        text += c.supervisor.statusOfClass(*entry);
        text += '\n';
    }
    if (!text.empty()) {
        text.pop_back();
    }
    reply.ok(text, [&](JsonWriter& out) {
        out.beginObject().key("jobs").beginArray();
        for (const ClassEntry* entry : classes) {
            writeClass(out, *entry, &c.supervisor);
        }
        out.endArray().endObject();
    });
}

void usage(CommandContext& c, Request& request, const Replier& reply,
           const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(c, request, reply);
    if (!entry) {
        return;
    }
    const std::string usage = entry->cls->seldom->usage.value_or("");
    reply(okReply("Usage: " + usage, json{{"job", entry->cls->name}, {"usage", usage}}));
}

void explain(CommandContext& c, Request& request, const Replier& reply,
             const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(c, request, reply);
    if (!entry) {
        return;
    }
    const Job* only = nullptr;
    if (request.args.size() > 1) {
        std::string error;
        only = c.supervisor.findInstance(request.args.front(), envOf(request), error);
        if (!only) {
            reply(errorReply(errorCodeFor(error), error));
            return;
        }
    }
    std::optional<std::vector<conf::PluginEvents>> plugins;
    if (c.context.plugin_events) {
        plugins = c.context.plugin_events();
    }
    Explanation explanation = explainClass(c.supervisor, *entry, only, plugins);
    reply(okReply(std::move(explanation.text), std::move(explanation.json)));
}

// Where the job's log is; tendctl reads it itself.
void logFile(CommandContext& c, Request& request, const Replier& reply,
             const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(c, request, reply);
    if (!entry) {
        return;
    }
    const std::string& name = request.args.front();
    std::string instance;
    if (!entry->cls->instance.empty()) {
        // The instance's name names its log, whether or not it runs now.
        std::string error;
        if (const auto expanded = c.supervisor.instanceName(*entry, envOf(request), error)) {
            instance = *expanded;
        } else {
            reply(errorReply("unknown-parameter", error +
                                                      "\nName the instance's variables, e.g. "
                                                      "`tendctl log " +
                                                      name + " KEY=VALUE`"));
            return;
        }
    }
    const std::string path =
        c.context.log_dir + "/" + dispatch::Supervisor::logFileName(name, instance);
    const bool logged = model::capturesOutput(entry->cls->console);
    reply(okReply(path, json{{"job", name},
                             {"instance", instance},
                             {"path", path},
                             {"console_log", logged},
                             {"console", model::consoleName(entry->cls->console)}}));
}

}  // namespace commands

}  // namespace tend::control
