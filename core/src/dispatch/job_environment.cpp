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

std::string Supervisor::setEnvironment(Job* job, std::string_view entry, bool retain) {
    if (std::string problem = checkEntry(entry); !problem.empty()) {
        return problem;
    }
    const auto eq = entry.find('=');
    const std::string_view name = entry.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : entry.substr(eq + 1);
    const auto set = [&](model::Environment& table) -> std::string {
        const bool present = table.get(name).has_value();
        if (present && retain) {
            return {};
        }
        if (!present && table.size() >= kMaxVariables) {
            return "the environment table is full (" + std::to_string(kMaxVariables) +
                   " variables)";
        }
        table.set(name, value);
        return {};
    };
    if (job) {
        return set(job->env);
    }
    if (std::string problem = set(options_.global_env); !problem.empty()) {
        return problem;
    }
    // As initctl's `set-env --global`: the running instances' tables take it too.
    for (auto& [class_name, entry_ptr] : classes_) {
        for (auto& [instance, running] : entry_ptr->instances) {
            set(running->env);
        }
    }
    return {};
}

std::string Supervisor::unsetEnvironment(Job* job, std::string_view name) {
    if (!validName(name)) {
        return "invalid variable name '" + std::string(name.substr(0, 64)) + "'";
    }
    model::Environment& table = job ? job->env : options_.global_env;
    if (!table.get(name)) {
        // initctl: an unknown name is an error in the global table, ignored in a job's own.
        return job ? std::string() : "No such variable: " + std::string(name);
    }
    table.unset(name);
    return {};
}

void Supervisor::resetEnvironment() {
    options_.global_env = initial_global_env_;
}

}  // namespace tend::dispatch
