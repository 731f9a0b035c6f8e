// SPDX-License-Identifier: MIT
// Control requests: start, stop, restart and reload of a job, and finding the instance a
// request names, with initctl's error texts.
#include <spdlog/spdlog.h>
#include <algorithm>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

namespace {

bool validEntry(const std::string& entry) {
    const auto eq = entry.find('=');
    return eq != std::string::npos && eq > 0;
}

// "name" or "name (instance)", as status lines show an instance.
std::string displayName(std::string_view name, const std::string& instance) {
    return instance.empty() ? std::string(name) : std::string(name) + " (" + instance + ")";
}

// Why there is nothing to stop. A job without instances has no instance name to tell, so it
// has "already been stopped", as a job on its way out would have; otherwise the instance named
// does not exist.
std::string nothingToStop(std::string_view name, const std::string& instance) {
    return instance.empty() ? "Job has already been stopped: " + std::string(name)
                            : "Unknown instance: " + displayName(name, instance);
}

}  // namespace

model::LayeredEnvironment Supervisor::requestEnvironment(
    const model::JobClass& cls, const std::vector<std::string>& env) const {
    model::LayeredEnvironment out = classEnvironment(cls);
    for (const auto& item : env) {
        out.setEntry(item);
    }
    return out;
}

std::optional<std::string> Supervisor::instanceName(const ClassEntry& entry,
                                                    const std::vector<std::string>& env,
                                                    std::string& error) const {
    return instanceName(entry, requestEnvironment(*entry.cls, env), error);
}

std::optional<std::string> Supervisor::instanceName(const ClassEntry& entry,
                                                    const model::LayeredEnvironment& env,
                                                    std::string& error) const {
    auto instance = model::expandVariables(entry.cls->instance, env);
    if (!instance) {
        error = "Unknown parameter in instance name '" + entry.cls->instance + "'";
        if (entry.cls->seldom->usage) {
            error += "\nUsage: " + *entry.cls->seldom->usage;
        }
    }
    return instance;
}

Job* Supervisor::findInstance(std::string_view name, const std::vector<std::string>& env,
                              std::string& error) {
    const auto it = classes_.find(name);
    if (it == classes_.end()) {
        error = "Unknown job: " + std::string(name);
        return nullptr;
    }
    ClassEntry& entry = *it->second;
    const auto instance = instanceName(entry, env, error);
    if (!instance) {
        return nullptr;
    }
    const auto found = entry.instances.find(*instance);
    if (found == entry.instances.end()) {
        error = "Unknown instance: " + displayName(name, *instance);
        return nullptr;
    }
    return found->second.get();
}

Supervisor::Reply Supervisor::start(std::string_view name, const std::vector<std::string>& env,
                                    Completion done) {
    for (const auto& item : env) {
        if (!validEntry(item)) {
            return {false, "Env must be KEY=VALUE pairs"};
        }
    }
    const auto it = classes_.find(name);
    if (it == classes_.end() || it->second->deleted) {
        return {false, "Unknown job: " + std::string(name)};
    }
    ClassEntry& entry = *it->second;
    model::LayeredEnvironment start_env = requestEnvironment(*entry.cls, env);
    std::string error;
    const auto instance = instanceName(entry, start_env, error);
    if (!instance) {
        return {false, error};
    }
    auto found = entry.instances.find(*instance);
    Job* job = found != entry.instances.end() ? found->second.get() : nullptr;
    if (job && job->goal == Goal::Start) {
        return {false, "Job is already running: " + std::string(name)};
    }
    if (!job) {
        job = &createInstance(entry, *instance);
    }
    if (job->state == State::Waiting || job->goal == Goal::Stop) {
        job->env = std::move(start_env);
        job->global_at_start = global_;
        job->own_origins.clear();
        const auto now = std::chrono::system_clock::now();
        for (const auto& item : env) {
            const auto eq = item.find('=');
            job->own_origins[item.substr(0, eq)] =
                VariableOrigin{"start", "", "", "", 0, now, item.substr(eq + 1)};
        }
        job->start_events.clear();
    }
    if (job->stop_on) {
        job->stop_on->reset();
    }
    if (done) {
        job->waiters.push_back(std::move(done));
    }
    changeGoal(*job, Goal::Start);
    poll();
    return {};
}

Job* Supervisor::instanceToStop(std::string_view name, const std::vector<std::string>& env,
                                Reply& refused) {
    std::string error;
    Job* job = findInstance(name, env, error);
    if (!job) {
        const ClassEntry* entry = findClass(name);
        const auto instance = entry ? instanceName(*entry, env, error) : std::nullopt;
        refused = {false, instance ? nothingToStop(name, *instance) : error};
    } else if (job->goal == Goal::Stop) {
        refused = {false, "Job has already been stopped: " + std::string(name)};
        job = nullptr;
    }
    return job;
}

Supervisor::Reply Supervisor::stop(std::string_view name, const std::vector<std::string>& env,
                                   Completion done) {
    for (const auto& item : env) {
        if (!validEntry(item)) {
            return {false, "Env must be KEY=VALUE pairs"};
        }
    }
    Reply refused;
    Job* job = instanceToStop(name, env, refused);
    if (!job) {
        return refused;
    }
    StopRecord& record = job->recordStop();
    record.stop_env = {};
    for (const auto& item : env) {
        record.stop_env.setEntry(item);
    }
    return stopInstance(*job, std::move(done));
}

Supervisor::Reply Supervisor::changeInstance(std::string_view name, const std::string& instance,
                                             const std::string& command, Completion done) {
    const auto it = classes_.find(name);
    if (it == classes_.end()) {
        return {false, "Unknown job: " + std::string(name)};
    }
    const auto found = it->second->instances.find(instance);
    if (found == it->second->instances.end()) {
        return {false, command == "start" ? "Unknown instance: " + displayName(name, instance)
                                          : nothingToStop(name, instance)};
    }
    Job& job = *found->second;
    if (command == "stop") {
        return stopInstance(job, std::move(done));
    }
    if (command == "start" && job.goal == Goal::Start) {
        return {false, "Job is already running: " + std::string(name)};
    }
    if (command == "restart" && job.goal == Goal::Stop) {
        return {false, "Job has already been stopped: " + std::string(name)};
    }
    if (done) {
        job.waiters.push_back(std::move(done));
    }
    if (command == "restart") {
        changeGoal(job, Goal::Stop);
    }
    changeGoal(job, Goal::Start);
    poll();
    return {};
}

Supervisor::Reply Supervisor::stopInstance(Job& job, Completion done) {
    if (job.goal == Goal::Stop) {
        return {false, "Job has already been stopped: " + job.cls->name};
    }
    if (job.stop_record) {
        job.stop_record->stop_events.clear();
    }
    if (done) {
        job.waiters.push_back(std::move(done));
    }
    changeGoal(job, Goal::Stop);
    poll();
    return {};
}

Supervisor::Reply Supervisor::restart(std::string_view name, const std::vector<std::string>& env,
                                      Completion done, bool adopt_definition) {
    Reply refused;
    Job* job = instanceToStop(name, env, refused);
    if (!job) {
        return refused;
    }
    if (adopt_definition) {
        if (job->entry->deleted) {
            return {false, "Job file is gone, nothing to reload: " + std::string(name)};
        }
        job->adopt_definition = definitionChanged(*job);
    }
    if (done) {
        job->waiters.push_back(std::move(done));
    }
    changeGoal(*job, Goal::Stop);
    changeGoal(*job, Goal::Start);
    poll();
    return {};
}

Supervisor::Reply Supervisor::signalReload(std::string_view name,
                                           const std::vector<std::string>& env) {
    std::string error;
    Job* job = findInstance(name, env, error);
    if (!job) {
        return {false, error};
    }
    if (!job->mainPid()) {
        return {false, "Not running"};
    }
    platform_.signalProcess(job->mainPid(), job->cls->reload_signal);
    return {};
}

}  // namespace tend::dispatch
