// SPDX-License-Identifier: MIT
#include "journal_selection.hpp"

namespace tend::journal {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace

std::string JobSelection::applySetting(std::string_view text) {
    text = trim(text);
    if (text.empty() || text == "all") {
        all_ = true;
        names_.clear();
        return {};
    }
    std::set<std::string, std::less<>> names;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view name = trim(text.substr(0, comma));
        if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
            return "setting jobs: expected 'all' or job names separated by commas, not '" +
                   std::string(text) + "'";
        }
        names.emplace(name);
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
        if (trim(text).empty()) {
            return "setting jobs: a job name is missing after the last comma";
        }
    }
    all_ = false;
    names_ = std::move(names);
    return {};
}

std::optional<bool> JobSelection::parseStanza(const std::vector<std::string>& args,
                                              std::string* error) {
    if (args.size() == 1 && (args[0] == "on" || args[0] == "off")) {
        return args[0] == "on";
    }
    if (error) {
        *error = "journal: expected 'on' or 'off'";
    }
    return std::nullopt;
}

void JobSelection::setOverride(const std::string& job, std::optional<bool> on) {
    if (on) {
        overrides_[job] = *on;
    } else {
        overrides_.erase(job);
    }
}

bool JobSelection::selected(std::string_view job) const {
    if (const auto it = overrides_.find(job); it != overrides_.end()) {
        return it->second;
    }
    return all_ || names_.contains(job);
}

}  // namespace tend::journal
