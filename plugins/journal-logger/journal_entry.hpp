// SPDX-License-Identifier: MIT
// What journal-logger sends for one line of job output or one state change: the fields of a
// journal entry, built without libsystemd so that the rules are testable alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tend::journal {

// The MESSAGE_ID of every job state change entry (`journalctl MESSAGE_ID=...`).
inline constexpr std::string_view kStateChangeMessageId = "742085a102d540d3af03d0d54d3a7e41";

inline constexpr int kDefaultPriority = 6;  // info
inline constexpr int kStdoutPriority = 6;   // info
inline constexpr int kStderrPriority = 4;   // warning

// A line's syslog priority prefix, as systemd's SyslogLevelPrefix= reads one: `<N>`, `<0N>` or
// `<00N>` with N from 0 to 7 at the very start. `priority` is the level (or the fallback when
// there is no prefix); `message` is the line without it.
struct PrefixedLine {
    int priority = kDefaultPriority;
    std::string_view message;
};
PrefixedLine parsePriorityPrefix(std::string_view line, int fallback = kDefaultPriority);

// Who wrote a line or changed state.
struct JobIdentity {
    std::string_view job;
    std::string_view instance;  // empty for a job without `instance`
    int main_pid = 0;           // 0 when not known
};

// The fields (`KEY=VALUE`, VALUE raw bytes) of the entry for one line of output: MESSAGE,
// PRIORITY (the line's `<N>` prefix, else `priority`: the stream's), SYSLOG_IDENTIFIER,
// TEND_JOB, and TEND_INSTANCE and OBJECT_PID when known.
std::vector<std::string> lineFields(std::string_view line, const JobIdentity& who,
                                    int priority = kStdoutPriority);

// The fields of a state change entry: MESSAGE_ID, MESSAGE ("JOB[ (INSTANCE)] state A -> B"),
// PRIORITY, SYSLOG_IDENTIFIER=tend, TEND_JOB, TEND_INSTANCE, TEND_STATE, TEND_GOAL.
std::vector<std::string> stateFields(const JobIdentity& who, std::string_view previous_state,
                                     std::string_view state, std::string_view goal,
                                     int priority = kDefaultPriority);

// The fields of an entry for one line of tend's own log: MESSAGE, PRIORITY from its level
// (0 debug .. 4 critical, as TendLogLine has it), SYSLOG_IDENTIFIER=tend.
std::vector<std::string> tendLogFields(int level, std::string_view text);

}  // namespace tend::journal
