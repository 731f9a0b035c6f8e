// SPDX-License-Identifier: MIT
// What a rescan of the job files says: its summary, its plan, and their lines in tend's log.
#include <spdlog/spdlog.h>

#include "store/job_store.hpp"

namespace tend::store {

// The job files present, by what became of each (the parts add up to the whole), then the ones
// that went: `3 job files: 1 added, 1 changed, 1 unchanged; 1 removed`.
std::string RescanReport::summary() const {
    const std::size_t accounted =
        added.size() + changed.size() + unchanged + kept.size() + unread.size();
    const std::size_t broken = files > accounted ? files - accounted : 0;
    std::string out = std::to_string(files) + (files == 1 ? " job file: " : " job files: ") +
                      std::to_string(added.size()) + " added, " + std::to_string(changed.size()) +
                      " changed, " + std::to_string(unchanged) + " unchanged";
    if (!kept.empty()) {
        out += ", " + std::to_string(kept.size()) + " with errors (last good definition kept)";
    }
    if (!unread.empty()) {
        out += ", " + std::to_string(unread.size()) + " not read for want of descriptors or memory";
    }
    if (broken) {
        out += ", " + std::to_string(broken) + " with errors (not loaded)";
    }
    out += "; " + std::to_string(removed.size()) + " removed";
    if (listing_cut_short) {
        out +=
            "; a job directory could not be listed for want of descriptors or memory, and "
            "its jobs stay as they are";
    }
    if (!unread.empty() || listing_cut_short) {
        out += "; trying again in " + std::to_string(JobStore::kShortageRetry.count()) + "s";
    }
    return out;
}

std::string RescanReport::planText() const {
    if (plan.empty()) {
        return dry_run ? "nothing would change" : "nothing changed";
    }
    std::string out;
    for (const auto& step : plan) {
        const char* verb = "";
        switch (step.kind) {
        case PlanStep::Kind::Added:
            verb = dry_run ? "would add" : "add";
            break;
        case PlanStep::Kind::Changed:
            verb = dry_run ? "would change" : "change";
            break;
        case PlanStep::Kind::Removed:
            verb = dry_run ? "would remove" : "remove";
            break;
        case PlanStep::Kind::KeptLastGood:
            verb = "keep";
            break;
        case PlanStep::Kind::PendingRemoval:
            verb = "gone";
            break;
        }
        out += std::string(verb) + " " + step.job + ": " + step.detail + "\n";
    }
    out.pop_back();
    return out;
}

void logDiagnostics(spdlog::logger& logger, const RescanReport& report) {
    for (const auto& d : report.diagnostics) {
        const auto level =
            d.severity == grammar::Severity::Error ? spdlog::level::err : spdlog::level::warn;
        if (d.line == 0) {
            logger.log(level, "{}: {}", d.path, d.message);
        } else {
            logger.log(level, "{}:{}:{}: {}", d.path, d.line, d.column, d.message);
        }
    }
}

void logRescan(spdlog::logger& logger, const std::string& why, const RescanReport& report) {
    // Before the early return: a new file that never parsed changes nothing, but its
    // diagnostics are what its author is looking for.
    logDiagnostics(logger, report);
    if (report.empty()) {
        logger.debug("{}: nothing changed ({} job files, {} read)", why, report.files,
                     report.parsed);
        return;
    }
    for (const auto& step : report.plan) {
        const char* verb = "";
        switch (step.kind) {
        case PlanStep::Kind::Added:
            verb = "added";
            break;
        case PlanStep::Kind::Changed:
            verb = "changed";
            break;
        case PlanStep::Kind::Removed:
            verb = "removed";
            break;
        case PlanStep::Kind::KeptLastGood:
            verb = "kept";
            break;
        case PlanStep::Kind::PendingRemoval:
            verb = "missing";
            break;
        }
        logger.info("{}: {} {}: {}", why, verb, step.job, step.detail);
    }
    logger.info("{}: {} ({} read)", why, report.summary(), report.parsed);
}

}  // namespace tend::store
