// SPDX-License-Identifier: MIT
#include "file_layer.hpp"

namespace tend::env_manager {

std::optional<std::string> FileLayer::below(const EnvironmentTable& table,
                                            std::string_view name) const {
    const auto current = table.get(std::string(name));
    if (!current || current->kind != kFileOrigin) {
        return current ? std::optional<std::string>(current->value) : std::nullopt;
    }
    const auto it = overridden_.find(name);
    if (it == overridden_.end() || !it->second) {
        return std::nullopt;
    }
    return it->second->value;
}

std::vector<std::string> FileLayer::apply(EnvironmentTable& table,
                                          const std::vector<FileAssignment>& wanted) {
    std::vector<std::string> problems;
    std::map<std::string, const FileAssignment*, std::less<>> last;
    for (const auto& assignment : wanted) {
        last[assignment.name] = &assignment;
    }
    // Lines that have gone: their variables go back to what they overrode, unless someone
    // has changed them since (their origin is no longer the files').
    for (const auto& name : table.names()) {
        const auto current = table.get(name);
        if (!current || current->kind != kFileOrigin || last.contains(name)) {
            continue;
        }
        const auto it = overridden_.find(name);
        const std::string error = it != overridden_.end() && it->second
                                      ? table.set(name, *it->second)
                                      : table.unset(name);
        if (!error.empty()) {
            problems.push_back(current->detail + ":1: " + error);
        }
    }
    for (auto it = overridden_.begin(); it != overridden_.end();) {
        it = last.contains(it->first) ? std::next(it) : overridden_.erase(it);
    }
    std::map<std::string, std::string, std::less<>> applied;
    for (const auto& [name, assignment] : last) {
        const auto current = table.get(name);
        const bool ours = current && current->kind == kFileOrigin;
        const auto before = applied_.find(name);
        const bool unchanged_line = before != applied_.end() && before->second == assignment->value;
        applied[name] = assignment->value;
        if (ours ? current->value == assignment->value && current->detail == assignment->where
                 : unchanged_line) {
            continue;  // as the files have it, or the user's since the line last changed
        }
        if (!ours) {
            overridden_[name] = current;
        }
        const std::string error =
            table.set(name, {assignment->value, kFileOrigin, assignment->where});
        if (!error.empty()) {
            problems.push_back(assignment->where + ":1: " + error);
            applied.erase(name);
            if (!ours) {
                overridden_.erase(name);
            }
        }
    }
    applied_ = std::move(applied);
    return problems;
}

}  // namespace tend::env_manager
