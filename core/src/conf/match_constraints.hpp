// SPDX-License-Identifier: MIT
// What one `start on` / `stop on` event match asks of an event's variables, key by key, and
// whether those demands can ever be met together. `tendctl check-config` uses it to find matches
// that contradict themselves (`started JOB=a JOB!=a`) and the jobs a lifecycle match waits for.
//
// Positional operands are matched against an event's variables in order, so they constrain a
// known key only where the order is fixed: tend's lifecycle events always begin with JOB and
// INSTANCE, and `stopping`/`stopped` follow them with RESULT. Operands that use `$VAR` are
// left out, because what they expand to is known only when an event arrives.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tend/grammar/event_expr.hpp"

namespace tend::conf {

// `starting`, `started`, `stopping`, `stopped`: the events tend emits for every job.
bool isLifecycleEvent(std::string_view name);

struct KeyOperand {
    std::string pattern;  // an fnmatch glob, or a literal when it has no glob characters
    std::uint32_t offset = 0;
    bool positional = false;
};

struct KeyConstraint {
    std::vector<KeyOperand> must_match;      // KEY=PATTERN, or a positional operand
    std::vector<KeyOperand> must_not_match;  // KEY!=PATTERN
};

// The constraints of `match` on each key it names (lifecycle positions translated to their
// keys). Operands with `$` and positions with no fixed key are left out.
std::map<std::string, KeyConstraint> keyConstraints(const grammar::EventMatch& match);

// Whether `value` meets every constraint on its key.
bool satisfies(const KeyConstraint& constraint, std::string_view value);

// Why no event can ever satisfy `match`, pointing at the operand that makes it impossible.
struct Contradiction {
    std::string reason;  // "JOB must be 'a' and must not be 'a'"
    std::uint32_t offset = 0;
};
std::optional<Contradiction> findContradiction(const grammar::EventMatch& match);

// The job a lifecycle match names with a literal (`started dbus`, `stopping JOB=x`), if any.
std::optional<std::string> lifecycleJob(const grammar::EventMatch& match);

// `match` as it is written in a job file: `started JOB=a JOB!=a`.
std::string matchText(const grammar::EventMatch& match);

}  // namespace tend::conf
