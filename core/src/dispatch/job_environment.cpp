// SPDX-License-Identifier: MIT
// The job environment tables: the global one every job starts with (the session's, imported at
// start-up), and each running instance's own, a layer over the global generation it started
// from, which its later processes (the main process after a pre-start, pre-stop, post-stop)
// inherit; where each value came from; and what has changed
// under a running main process. The tables are the supervisor's, so that the commands that
// change them (env-manager's) can come and go without losing anything.
#include <algorithm>
#include <cctype>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

namespace {

constexpr std::size_t kMaxValueBytes = 64 * 1024;
constexpr std::size_t kMaxVariables = 4096;

bool validName(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

// What is wrong with `KEY=VALUE` (or a bare `KEY`), empty when nothing is.
std::string checkEntry(std::string_view entry) {
    const auto eq = entry.find('=');
    const std::string_view name = entry.substr(0, eq);
    if (!validName(name)) {
        return "invalid variable name '" + std::string(name.substr(0, 64)) +
               "': use letters, digits and '_', not starting with a digit";
    }
    if (eq == std::string_view::npos) {
        return {};
    }
    const std::string_view value = entry.substr(eq + 1);
    if (value.find('\0') != std::string_view::npos || value.find('\n') != std::string_view::npos) {
        return "the value of " + std::string(name) + " holds a NUL or a newline";
    }
    if (value.size() > kMaxValueBytes) {
        return "the value of " + std::string(name) + " is " + std::to_string(value.size()) +
               " bytes; the limit is " + std::to_string(kMaxValueBytes);
    }
    return {};
}

}  // namespace

GlobalEnvironment& Supervisor::writableGlobal() {
    if (global_.use_count() != 1) {
        global_ = std::make_shared<GlobalEnvironment>(*global_);
    }
    // Made non-const above (or by the constructor), and shared with nobody.
    return const_cast<GlobalEnvironment&>(*global_);
}

model::Environment Supervisor::environment(const Job* job) const {
    return job ? job->env.flatten() : global_->env;
}

std::string Supervisor::setEnvironment(Job* job, const std::vector<std::string>& entries,
                                       bool retain, VariableOrigin origin) {
    // Everything is checked before anything changes: a bad operand anywhere changes nothing.
    const auto current = [&](std::string_view name) {
        return job ? job->env.get(name) : global_->env.get(name);
    };
    const std::size_t size = job ? job->env.size() : global_->env.size();
    std::size_t added = 0;
    for (const auto& entry : entries) {
        if (std::string problem = checkEntry(entry); !problem.empty()) {
            return problem;
        }
        added += current(entry.substr(0, entry.find('='))) ? 0 : 1;
    }
    if (size + added > kMaxVariables) {
        return "the environment table is full: " + std::to_string(size) + " + " +
               std::to_string(added) + " variables would pass the limit of " +
               std::to_string(kMaxVariables);
    }
    if (origin.kind.empty()) {
        origin.kind = "plugin";
    }
    origin.time = std::chrono::system_clock::now();
    const auto apply = [&](auto& target, OriginTable* origins) {
        for (const auto& entry : entries) {
            const auto eq = entry.find('=');
            const std::string_view name = std::string_view(entry).substr(0, eq);
            if (!(retain && target.get(name))) {
                const std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
                target.set(name, value);
                if (origins) {
                    VariableOrigin& recorded = (*origins)[std::string(name)];
                    recorded = origin;
                    recorded.value = value;
                }
            }
        }
    };
    if (job) {
        apply(job->env, &job->own_origins);
        return {};
    }
    GlobalEnvironment& global = writableGlobal();
    apply(global.env, &global.origins);
    // As initctl's `set-env --global`: the running instances' tables take it too, as their own
    // layer (their base stays the generation they started from, so that a later unset-env or
    // reset-env of the global table leaves them as it always did).
    for (auto& [class_name, class_entry] : classes_) {
        for (auto& [instance, running] : class_entry->instances) {
            apply(running->env, nullptr);
        }
    }
    return {};
}

std::string Supervisor::unsetEnvironment(Job* job, const std::vector<std::string>& names) {
    for (const auto& name : names) {
        if (!validName(name)) {
            return "invalid variable name '" + name.substr(0, 64) + "'";
        }
        // initctl: an unknown name is an error in the global table, ignored in a job's own.
        if (!job && !global_->env.get(name)) {
            return "No such variable: " + name;
        }
    }
    for (const auto& name : names) {
        if (job) {
            job->env.unset(name);
            job->own_origins.erase(name);
        } else {
            GlobalEnvironment& global = writableGlobal();
            global.env.unset(name);
            global.origins.erase(name);
        }
    }
    return {};
}

void Supervisor::resetEnvironment() {
    global_ = initial_global_;
}

namespace {

std::optional<VariableOrigin> recorded(const OriginTable& origins, std::string_view name,
                                       std::string_view value) {
    const auto it = origins.find(name);
    if (it == origins.end() || it->second.value != value) {
        return std::nullopt;
    }
    return it->second;
}

}  // namespace

std::optional<VariableOrigin> Supervisor::environmentOrigin(const Job* job,
                                                            std::string_view name) const {
    const auto value = job ? job->env.get(name) : global_->env.get(name);
    if (!value) {
        return std::nullopt;
    }
    if (!job) {
        return recorded(global_->origins, name, *value);
    }
    // The layers of an instance's table, the last applied first.
    if (auto own = recorded(job->own_origins, name, *value)) {
        return own;
    }
    for (auto it = job->cls->env.rbegin(); it != job->cls->env.rend(); ++it) {
        if (it->name == name) {
            return VariableOrigin{"env stanza",
                                  it->value ? "env " + it->name + "=" + *it->value
                                            : "env " + it->name + " (tend's own value)",
                                  "",
                                  "",
                                  0,
                                  {},
                                  std::string(*value)};
        }
    }
    if (auto global = recorded(global_->origins, name, *value)) {
        return global;
    }
    if (job->global_at_start) {
        if (auto then = recorded(job->global_at_start->origins, name, *value)) {
            return then;
        }
    }
    return VariableOrigin{"unknown", "", "", "", 0, {}, std::string(*value)};
}

std::vector<std::string> Supervisor::staleEnvironment(const Job& job) const {
    std::vector<std::string> stale;
    const GlobalEnvironment* then = job.global_at_main.get();
    if (!job.mainPid() || !then || then == global_.get()) {
        return stale;
    }
    const auto overridden = [&](std::string_view name) {
        if (job.own_origins.contains(name)) {
            return true;
        }
        if (std::any_of(job.cls->env.begin(), job.cls->env.end(),
                        [&](const model::EnvEntry& entry) { return entry.name == name; })) {
            return true;
        }
        // The instance announced it itself (`set-env --global` from its own processes).
        const auto origin = global_->origins.find(name);
        return origin != global_->origins.end() && origin->second.job == job.cls->name &&
               origin->second.instance == job.instance;
    };
    const auto consider = [&](std::string_view name) {
        if (then->env.get(name) != global_->env.get(name) && !overridden(name)) {
            stale.emplace_back(name);
        }
    };
    for (const auto& [name, origin] : then->origins) {
        consider(name);
    }
    for (const auto& [name, origin] : global_->origins) {
        if (!then->origins.contains(name)) {
            consider(name);
        }
    }
    std::sort(stale.begin(), stale.end());
    return stale;
}

std::vector<std::string> Supervisor::environmentDrift(const Job& job) const {
    std::vector<std::string> lines;
    for (const auto& name : staleEnvironment(job)) {
        if (const auto old = job.global_at_main->env.get(name)) {
            lines.push_back("-" + name + "=" + std::string(*old));
        }
        if (const auto now = global_->env.get(name)) {
            lines.push_back("+" + name + "=" + std::string(*now));
        }
    }
    return lines;
}

}  // namespace tend::dispatch
