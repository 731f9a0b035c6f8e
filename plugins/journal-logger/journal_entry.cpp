// SPDX-License-Identifier: MIT
#include "journal_entry.hpp"

namespace tend::journal {

PrefixedLine parsePriorityPrefix(std::string_view line, int fallback) {
    PrefixedLine out{fallback, line};
    if (line.size() < 3 || line[0] != '<') {
        return out;
    }
    const std::size_t close = line.find('>');
    // One to three digits between the brackets, as systemd's syslog_parse_priority() takes
    // them without a facility: the value must be a level, 0 to 7.
    if (close == std::string_view::npos || close < 2 || close > 4) {
        return out;
    }
    int value = 0;
    for (std::size_t i = 1; i < close; ++i) {
        if (line[i] < '0' || line[i] > '9') {
            return out;
        }
        value = value * 10 + (line[i] - '0');
    }
    if (value > 7) {
        return out;
    }
    return {value, line.substr(close + 1)};
}

namespace {

std::string field(std::string_view key, std::string_view value) {
    std::string out;
    out.reserve(key.size() + 1 + value.size());
    out.append(key).append(1, '=').append(value);
    return out;
}

void addIdentity(std::vector<std::string>& fields, const JobIdentity& who) {
    fields.push_back(field("TEND_JOB", who.job));
    if (!who.instance.empty()) {
        fields.push_back(field("TEND_INSTANCE", who.instance));
    }
}

}  // namespace

std::vector<std::string> lineFields(std::string_view line, const JobIdentity& who, int priority) {
    const PrefixedLine parsed = parsePriorityPrefix(line, priority);
    std::vector<std::string> fields;
    fields.reserve(6);
    fields.push_back(field("MESSAGE", parsed.message));
    fields.push_back(field("PRIORITY", std::to_string(parsed.priority)));
    fields.push_back(field("SYSLOG_IDENTIFIER", who.job));
    addIdentity(fields, who);
    if (who.main_pid > 0) {
        fields.push_back(field("OBJECT_PID", std::to_string(who.main_pid)));
    }
    return fields;
}

std::vector<std::string> stateFields(const JobIdentity& who, std::string_view previous_state,
                                     std::string_view state, std::string_view goal, int priority) {
    std::string name(who.job);
    if (!who.instance.empty()) {
        name.append(" (").append(who.instance).append(")");
    }
    std::vector<std::string> fields;
    fields.push_back(field("MESSAGE_ID", kStateChangeMessageId));
    fields.push_back(field(
        "MESSAGE", name + " state " + std::string(previous_state) + " -> " + std::string(state)));
    fields.push_back(field("PRIORITY", std::to_string(priority)));
    fields.push_back(field("SYSLOG_IDENTIFIER", "tend"));
    addIdentity(fields, who);
    fields.push_back(field("TEND_STATE", state));
    fields.push_back(field("TEND_GOAL", goal));
    if (who.main_pid > 0) {
        fields.push_back(field("OBJECT_PID", std::to_string(who.main_pid)));
    }
    return fields;
}

std::vector<std::string> tendLogFields(int level, std::string_view text) {
    // debug, info, warning, error, critical as syslog's 7, 6, 4, 3, 2.
    static constexpr int kPriorities[] = {7, 6, 4, 3, 2};
    const int priority = kPriorities[level < 0 ? 0 : level > 4 ? 4 : level];
    return {field("MESSAGE", text), field("PRIORITY", std::to_string(priority)),
            field("SYSLOG_IDENTIFIER", "tend")};
}

}  // namespace tend::journal
