// SPDX-License-Identifier: MIT
// The job commands: start, stop (one instance, or --all), restart, reload (the job's reload
// signal), status, list, usage, explain and log, with initctl's output and error texts.
#include <memory>

#include "control/control_server.hpp"
#include "control/explain.hpp"
#include "control/job_json.hpp"
#include "dispatch/supervisor.hpp"

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

void ControlServer::changeGoal(Request& request, const Replier& reply,
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
            if (const ClassEntry* entry = supervisor_.findClass(name)) {
                instance = supervisor_.instanceName(*entry, env, ignored).value_or("");
            }
            const std::string display = instance.empty() ? name : name + " (" + instance + ")";
            reply(okReply(display + " stop/waiting", waitingJson(name, instance)));
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
        // `adopt`; `reload` is what tendctl sent before the option had its own word.
        const bool adopt = flag(request, "adopt") || flag(request, "reload");
        result = supervisor_.restart(name, env, done, adopt);
    }
    if (!result.ok) {
        reply(errorReply(errorCodeFor(result.error), result.error));
    } else if (!request.wait) {
        reply(okReply("", json::object()));
    }
}

void ControlServer::stop(Request& request, const Replier& reply,
                         const std::shared_ptr<Client>& client) {
    if (flag(request, "all")) {
        stopAll(request, reply, client);
    } else {
        changeGoal(request, reply, client);
    }
}

void ControlServer::stopAll(Request& request, const Replier& reply,
                            const std::shared_ptr<Client>&) {
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
            return;
        }
        std::string list;
        for (const auto& failed : tally->failed) {
            list += (list.empty() ? "" : ", ") + failed;
        }
        json error = errorReply("job-failed", output + "; failed while stopping: " + list);
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
        if (!supervisor_.stopInstance(*job, done).ok && done) {
            done(false, {});
        }
    }
    if (!request.wait) {
        reply(okReply("", json::object()));
    }
}

void ControlServer::signalReload(Request& request, const Replier& reply,
                                 const std::shared_ptr<Client>&) {
    if (request.args.empty()) {
        reply(errorReply("missing-argument", "missing job name"));
        return;
    }
    const auto result = supervisor_.signalReload(request.args.front(), envOf(request));
    reply(result.ok ? okReply("", json::object())
                    : errorReply(errorCodeFor(result.error), result.error));
}

void ControlServer::status(Request& request, const Replier& reply, const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(request, reply);
    if (!entry) {
        return;
    }
    if (request.args.size() == 1) {
        reply(okReply(supervisor_.statusOfClass(*entry), classJson(*entry)));
        return;
    }
    std::string error;
    const Job* job = supervisor_.findInstance(request.args.front(), envOf(request), error);
    if (!job) {
        reply(errorReply(errorCodeFor(error), error));
        return;
    }
    json data{{"job", entry->cls->name}, {"instances", json::array({jobJson(*job)})}};
    reply(okReply(supervisor_.statusText(*job), std::move(data)));
}

void ControlServer::list(Request&, const Replier& reply, const std::shared_ptr<Client>&) {
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
}

void ControlServer::usage(Request& request, const Replier& reply, const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(request, reply);
    if (!entry) {
        return;
    }
    const std::string usage = entry->cls->usage.value_or("");
    reply(okReply("Usage: " + usage, json{{"job", entry->cls->name}, {"usage", usage}}));
}

void ControlServer::explain(Request& request, const Replier& reply,
                            const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(request, reply);
    if (!entry) {
        return;
    }
    const Job* only = nullptr;
    if (request.args.size() > 1) {
        std::string error;
        only = supervisor_.findInstance(request.args.front(), envOf(request), error);
        if (!only) {
            reply(errorReply(errorCodeFor(error), error));
            return;
        }
    }
    Explanation explanation = explainClass(supervisor_, *entry, only);
    reply(okReply(std::move(explanation.text), std::move(explanation.json)));
}

// Where the job's log is; tendctl reads it itself.
void ControlServer::logFile(Request& request, const Replier& reply,
                            const std::shared_ptr<Client>&) {
    const ClassEntry* entry = needJob(request, reply);
    if (!entry) {
        return;
    }
    const std::string& name = request.args.front();
    std::string instance;
    if (!entry->cls->instance.empty()) {
        std::string error;
        if (const Job* job = supervisor_.findInstance(name, envOf(request), error)) {
            instance = job->instance;
        } else if (const auto expanded = supervisor_.instanceName(*entry, envOf(request), error)) {
            instance = *expanded;  // not running now: its log is still there
        } else {
            reply(errorReply("unknown-parameter", error +
                                                      "\nName the instance's variables, e.g. "
                                                      "`tendctl log " +
                                                      name + " KEY=VALUE`"));
            return;
        }
    }
    const std::string path =
        context_.log_dir + "/" + dispatch::Supervisor::logFileName(name, instance);
    const bool logged = entry->cls->console == model::Console::Log;
    reply(okReply(
        path,
        json{{"job", name}, {"instance", instance}, {"path", path}, {"console_log", logged}}));
}

}  // namespace tend::control
