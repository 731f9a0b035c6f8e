// SPDX-License-Identifier: MIT
// initctl's status lines: `imapfilter start/running, process 3459`, and the notes tend adds.
#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

using model::ProcessType;

namespace {

// The status note for a job file that does not parse, with its first error
// (`file:line:col: message`); a stanza whose plugin has gone is named.
std::string fileErrorNote(const std::string& error) {
    static constexpr std::string_view kNeeds = "needs plugin ";
    if (const auto at = error.find(kNeeds); at != std::string::npos) {
        const auto start = at + kNeeds.size();
        const auto end = error.find_first_of(", \n", start);
        return " [needs plugin " + error.substr(start, end - start) +
               "; the last good definition is in force]";
    }
    return " [job file has errors: " + error + "; the last good definition is in force]";
}

}  // namespace

std::string Supervisor::statusText(const Job& job) const {
    std::string out = job.displayName() + " " + std::string(goalName(job.goal)) + "/" +
                      std::string(stateName(job.state));
    bool first = true;
    for (ProcessType type : model::kProcessTypes) {
        const pid_t pid = job.pids[processIndex(type)];
        if (!pid) {
            continue;
        }
        const std::string pid_text = std::to_string(pid);
        if (first) {
            if (type == ProcessType::Main || type == ProcessType::PreStart ||
                type == ProcessType::PostStop) {
                out += ", process " + pid_text;
            } else {
                out += ", (" + std::string(model::processTypeName(type)) + ") process " + pid_text;
            }
            first = false;
        } else {
            out += "\n\t" + std::string(model::processTypeName(type)) + " process " + pid_text;
        }
    }
    if (job.goal == Goal::Respawn && job.delay_timer) {
        out += ", respawn delay " + formatMillis(job.pending_delay_ms);
    }
    // Beyond Upstart, after the process lines' first line so that parsers of initctl's format
    // still find `, process PID` where they expect it.
    const auto newline = out.find('\n');
    std::string notes;
    if (job.entry->deleted) {
        notes += " [job file removed; runs until stopped]";
    } else if (definitionChanged(job)) {
        notes += " [definition changed; restart to apply: tendctl restart --reload " +
                 job.cls->name + "]";
    }
    if (!job.entry->file_error.empty()) {
        notes += fileErrorNote(job.entry->file_error);
    }
    if (const auto stale = staleEnvironment(job); !stale.empty()) {
        constexpr std::size_t kNamed = 3;
        notes += " [stale environment: ";
        for (std::size_t i = 0; i < stale.size() && i < kNamed; ++i) {
            notes += (i ? ", " : "") + stale[i];
        }
        if (stale.size() > kNamed) {
            notes += " and " + std::to_string(stale.size() - kNamed) + " more";
        }
        notes += "]";
    }
    out.insert(newline == std::string::npos ? out.size() : newline, notes);
    return out;
}

std::string Supervisor::statusOfClass(const ClassEntry& entry) const {
    if (entry.instances.empty()) {
        return entry.cls->name + " stop/waiting" +
               (entry.file_error.empty() ? "" : fileErrorNote(entry.file_error));
    }
    std::string out;
    for (const auto& [name, job] : entry.instances) {
        if (!out.empty()) {
            out += '\n';
        }
        out += statusText(*job);
    }
    return out;
}

}  // namespace tend::dispatch
