// SPDX-License-Identifier: MIT
// The job environment tables: the global one every job starts with (the session's, imported at
// start-up), and each running instance's own, which its later processes (the main process after
// a pre-start, pre-stop, post-stop) inherit. The tables are the supervisor's, so that the
// commands that change them (env-manager's) can come and go without losing anything.
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

const model::Environment& Supervisor::environment(const Job* job) const {
    return job ? job->env : options_.global_env;
}

std::string Supervisor::setEnvironment(Job* job, const std::vector<std::string>& entries,
                                       bool retain) {
    // Everything is checked before anything changes: a bad operand anywhere changes nothing.
    model::Environment& table = job ? job->env : options_.global_env;
    std::size_t added = 0;
    for (const auto& entry : entries) {
        if (std::string problem = checkEntry(entry); !problem.empty()) {
            return problem;
        }
        added += table.get(entry.substr(0, entry.find('='))) ? 0 : 1;
    }
    if (table.size() + added > kMaxVariables) {
        return "the environment table is full: " + std::to_string(table.size()) + " + " +
               std::to_string(added) + " variables would pass the limit of " +
               std::to_string(kMaxVariables);
    }
    const auto apply = [&](model::Environment& target) {
        for (const auto& entry : entries) {
            const auto eq = entry.find('=');
            const std::string_view name = std::string_view(entry).substr(0, eq);
            if (!(retain && target.get(name))) {
                target.set(name, eq == std::string::npos ? "" : entry.substr(eq + 1));
            }
        }
    };
    apply(table);
    if (!job) {
        // As initctl's `set-env --global`: the running instances' tables take it too.
        for (auto& [class_name, class_entry] : classes_) {
            for (auto& [instance, running] : class_entry->instances) {
                apply(running->env);
            }
        }
    }
    return {};
}

std::string Supervisor::unsetEnvironment(Job* job, const std::vector<std::string>& names) {
    model::Environment& table = job ? job->env : options_.global_env;
    for (const auto& name : names) {
        if (!validName(name)) {
            return "invalid variable name '" + name.substr(0, 64) + "'";
        }
        // initctl: an unknown name is an error in the global table, ignored in a job's own.
        if (!job && !table.get(name)) {
            return "No such variable: " + name;
        }
    }
    for (const auto& name : names) {
        table.unset(name);
    }
    return {};
}

void Supervisor::resetEnvironment() {
    options_.global_env = initial_global_env_;
}

}  // namespace tend::dispatch
