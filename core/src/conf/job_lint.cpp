// SPDX-License-Identifier: MIT
#include "conf/job_lint.hpp"

#include <algorithm>

#include "conf/match_constraints.hpp"
#include "model/environment.hpp"

namespace tend::conf {

namespace {

using grammar::EventNode;
using grammar::Severity;

// Why one event match can never be satisfied, if it cannot.
struct MatchProblem {
    FindingKind kind;
    std::string what;  // "unknown event peach"
    std::uint32_t offset;
};

std::optional<MatchProblem> problemOf(const grammar::EventMatch& match,
                                      const EventSources& sources) {
    for (const auto& arg : match.args) {
        if (arg.value.find('$') == std::string::npos) {
            continue;
        }
        if (const auto problem = model::expansionProblem(arg.value)) {
            return MatchProblem{FindingKind::NeverTrue,
                                "'" + matchText(match) + "' can never match: " + *problem,
                                arg.offset};
        }
    }
    if (auto contradiction = findContradiction(match)) {
        return MatchProblem{FindingKind::NeverTrue,
                            "'" + matchText(match) + "' can never match: " + contradiction->reason,
                            contradiction->offset};
    }
    if (!isLifecycleEvent(match.name)) {
        if (sources.canHappen(match.name)) {
            return std::nullopt;
        }
        if (const auto plugin = sources.absentPlugin(match.name)) {
            return MatchProblem{
                FindingKind::PluginNotLoaded,
                "event '" + match.name + "' comes from plugin " + *plugin + ", which is not loaded",
                match.offset};
        }
        return MatchProblem{FindingKind::UnknownEvent, "unknown event " + match.name, match.offset};
    }
    // tend emits lifecycle events for every job, so what can be missing is the job.
    const auto constraints = keyConstraints(match);
    const auto job = constraints.find("JOB");
    if (job == constraints.end() || job->second.must_match.empty()) {
        return std::nullopt;
    }
    const auto& names = sources.jobs();
    if (std::any_of(names.begin(), names.end(),
                    [&](const std::string& name) { return satisfies(job->second, name); })) {
        return std::nullopt;
    }
    const KeyOperand& wanted = job->second.must_match.front();
    if (sources.jobExists(wanted.pattern)) {
        return std::nullopt;  // provided elsewhere (`--provided-jobs`)
    }
    return MatchProblem{FindingKind::UnknownJob, "unknown job " + wanted.pattern, wanted.offset};
}

// Walks one condition: first which subtrees can ever become true, then which impossible
// matches to report and how severely.
class ConditionLint {
  public:
    ConditionLint(const grammar::EventCondition& condition, const EventSources& sources,
                  std::string stanza)
        : condition_(condition),
          stanza_(std::move(stanza)),
          problems_(condition.nodes().size()),
          possible_(condition.nodes().size()) {
        for (std::size_t i = 0; i < problems_.size(); ++i) {
            const EventNode& node = condition.nodes()[i];
            if (node.kind == EventNode::Kind::Match) {
                problems_[i] = problemOf(node.match, sources);
            }
        }
    }

    void report(std::vector<LintFinding>& out) {
        if (!condition_.empty()) {
            report(condition_.rootIndex(), true, out);
        }
    }

  private:
    bool possible(std::uint32_t index) {
        if (!possible_[index]) {
            const EventNode& node = condition_.node(index);
            switch (node.kind) {
            case EventNode::Kind::Match:
                possible_[index] = !problems_[index].has_value();
                break;
            case EventNode::Kind::And:
                possible_[index] = possible(node.lhs) && possible(node.rhs);
                break;
            case EventNode::Kind::Or:
                possible_[index] = possible(node.lhs) || possible(node.rhs);
                break;
            }
        }
        return *possible_[index];
    }

    // `decisive`: the whole condition is impossible because this subtree is. Under an
    // impossible `and`, only the impossible sides are to blame; an impossible `or` has both.
    void report(std::uint32_t index, bool decisive, std::vector<LintFinding>& out) {
        const EventNode& node = condition_.node(index);
        if (node.kind != EventNode::Kind::Match) {
            const bool blamed = decisive && !possible(index);
            report(node.lhs, blamed && !possible(node.lhs), out);
            report(node.rhs, blamed && !possible(node.rhs), out);
            return;
        }
        const auto& problem = problems_[index];
        if (!problem) {
            return;
        }
        LintFinding finding;
        finding.kind = problem->kind;
        finding.severity = decisive ? Severity::Error : Severity::Warning;
        finding.stanza = stanza_;
        finding.offset = problem->offset;
        finding.message = stanza_ + ": " + problem->what;
        if (!decisive) {
            finding.message += " (the rest of the condition can still become true)";
        }
        out.push_back(std::move(finding));
    }

    const grammar::EventCondition& condition_;
    std::string stanza_;
    std::vector<std::optional<MatchProblem>> problems_;  // per node; MATCH nodes only
    std::vector<std::optional<bool>> possible_;          // memo of possible()
};

// A finding about a whole stanza (no operand to point at), which the job runs in spite of.
void warning(std::vector<LintFinding>& out, FindingKind kind, std::string stanza,
             std::string message) {
    LintFinding finding;
    finding.kind = kind;
    finding.severity = Severity::Warning;
    finding.stanza = std::move(stanza);
    finding.message = std::move(message);
    out.push_back(std::move(finding));
}

void ignoredStanza(std::vector<LintFinding>& out, const std::string& stanza,
                   std::string_view effect) {
    warning(out, FindingKind::IgnoredStanza, stanza,
            stanza + ": not applied in a user session; " + std::string(effect));
}

}  // namespace

std::string_view findingKindName(FindingKind kind) {
    switch (kind) {
    case FindingKind::Syntax:
        return "syntax";
    case FindingKind::UnknownEvent:
        return "unknown-event";
    case FindingKind::UnknownJob:
        return "unknown-job";
    case FindingKind::PluginNotLoaded:
        return "plugin-not-loaded";
    case FindingKind::NeverTrue:
        return "never-true";
    case FindingKind::StartEqualsStop:
        return "start-equals-stop";
    case FindingKind::IgnoredStanza:
        return "ignored-stanza";
    case FindingKind::BadExpansion:
        return "bad-expansion";
    }
    return "syntax";
}

std::vector<LintFinding> lintJob(const model::JobClass& job, const EventSources& sources) {
    std::vector<LintFinding> out;
    if (job.start_on) {
        ConditionLint(*job.start_on, sources, "start on").report(out);
    }
    if (job.stop_on) {
        ConditionLint(*job.stop_on, sources, "stop on").report(out);
    }
    if (const auto problem = model::expansionProblem(job.instance);
        problem && !job.instance.empty()) {
        LintFinding finding;
        finding.kind = FindingKind::BadExpansion;
        finding.stanza = "instance";
        finding.message = "instance: '" + job.instance + "' can never expand: " + *problem +
                          "; every start of the job would fail";
        out.push_back(std::move(finding));
    }
    // The supervisor matches `stop on` before `start on`, so one event stops the job and then
    // starts it again: a restart each time, never a stop.
    if (job.start_on && job.stop_on && !job.start_on->empty() && *job.start_on == *job.stop_on) {
        warning(out, FindingKind::StartEqualsStop, "stop on",
                "stop on: the same condition as start on; each time it becomes true the running "
                "job is stopped and started again, so it never stays stopped");
    }
    if (job.console == model::Console::Journal && !sources.pluginLoaded("journal-logger")) {
        warning(out, FindingKind::PluginNotLoaded, "console",
                "console journal: the journal is reached through plugin journal-logger, which is "
                "not loaded; the output goes to the job's log file");
    }
    if (job.seldom->chroot) {
        ignoredStanza(out, "chroot", "the job runs with the session's own root directory");
    }
    if (job.seldom->apparmor_load) {
        ignoredStanza(out, "apparmor load", "no AppArmor profile is loaded");
    }
    if (job.seldom->apparmor_switch) {
        ignoredStanza(out, "apparmor switch", "the job runs under tend's own AppArmor profile");
    }
    if (!job.seldom->cgroups.empty()) {
        ignoredStanza(out, "cgroup", "the job stays in tend's own cgroup");
    }
    return out;
}

}  // namespace tend::conf
