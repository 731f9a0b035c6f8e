// SPDX-License-Identifier: MIT
// The checks of `tendctl check-config` beyond syntax: what a job that parses still gets wrong once
// it is set among the other jobs of the session (docs/jobs.md, "check-config", has an example of
// each):
//   - unknown-event: a `start on` / `stop on` event that nothing emits;
//   - unknown-job: a lifecycle event for a job that does not exist (`started grape`);
//   - never-true: an event match that contradicts itself (`started JOB=a JOB!=a`);
//   - start-equals-stop: `stop on` the very condition of `start on`, which restarts the job;
//   - ignored-stanza: `chroot`, `apparmor`, `cgroup`, which a user session does not apply;
//   - bad-expansion: an `instance` with a malformed `${...}`, which fails every start.
//
// A match that can never happen is an error when it leaves the whole condition unable to become
// true, which is what Upstart's check-config reported; it is a warning when an `or` still offers
// another way, which Upstart reported only with --warn.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/event_sources.hpp"
#include "model/job_class.hpp"
#include "tend/grammar/diagnostic.hpp"

namespace tend::conf {

enum class FindingKind : std::uint8_t {
    Syntax,  // whatever loading the file reported
    UnknownEvent,
    UnknownJob,
    PluginNotLoaded,  // an event only a plugin that is not loaded emits, or `console journal`
    NeverTrue,
    StartEqualsStop,
    IgnoredStanza,
    BadExpansion,  // an `instance` whose ${...} can never expand
};

// The stable names of --json: "syntax", "unknown-event", ...
std::string_view findingKindName(FindingKind kind);

struct LintFinding {
    FindingKind kind = FindingKind::Syntax;
    grammar::Severity severity = grammar::Severity::Error;
    // The stanza it is about, as written: "start on", "stop on", "chroot", "apparmor load",
    // "apparmor switch", "cgroup", "console".
    std::string stanza;
    // For `start on` / `stop on`, the byte offset of the event or operand at fault in the file
    // the condition was read from; empty to point at the stanza itself.
    std::optional<std::uint32_t> offset;
    std::string message;  // "start on: unknown event peach"
};

std::vector<LintFinding> lintJob(const model::JobClass& job, const EventSources& sources);

}  // namespace tend::conf
