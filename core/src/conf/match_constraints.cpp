// SPDX-License-Identifier: MIT
#include "conf/match_constraints.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <span>

namespace tend::conf {

namespace {

constexpr std::array<std::string_view, 2> kStartingKeys = {"JOB", "INSTANCE"};
constexpr std::array<std::string_view, 3> kStoppingKeys = {"JOB", "INSTANCE", "RESULT"};

// The values tend's supervisor ever puts in these variables of `stopping` and `stopped`.
constexpr std::array<std::string_view, 2> kResults = {"ok", "failed"};
constexpr std::array<std::string_view, 6> kProcesses = {"main",     "pre-start", "post-start",
                                                        "pre-stop", "post-stop", "respawn"};

bool isStopEvent(std::string_view name) {
    return name == "stopping" || name == "stopped";
}

// The keys that positional operands stand for, in order.
std::vector<std::string_view> positionalKeys(std::string_view event) {
    if (isStopEvent(event)) {
        return {kStoppingKeys.begin(), kStoppingKeys.end()};
    }
    if (isLifecycleEvent(event)) {
        return {kStartingKeys.begin(), kStartingKeys.end()};
    }
    return {};
}

bool isLiteral(std::string_view pattern) {
    return pattern.find_first_of("*?[\\") == std::string_view::npos;
}

bool globMatches(const std::string& pattern, std::string_view value) {
    return ::fnmatch(pattern.c_str(), std::string(value).c_str(), 0) == 0;
}

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// "be 'a'" for a literal, "match 'a*'" for a glob: how the reason names a demand.
std::string demand(const KeyOperand& operand) {
    return (isLiteral(operand.pattern) ? "be " : "match ") + quoted(operand.pattern);
}

std::string valueList(std::span<const std::string_view> values) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += i + 1 == values.size() ? " or " : ", ";
        }
        out += quoted(values[i]);
    }
    return out;
}

std::optional<Contradiction> contradictionOnKey(const std::string& key,
                                                const KeyConstraint& constraint) {
    const auto fixed = std::find_if(constraint.must_match.begin(), constraint.must_match.end(),
                                    [](const KeyOperand& op) { return isLiteral(op.pattern); });
    if (fixed != constraint.must_match.end()) {
        // A literal fixes the value, so every other demand on the key is decided by it.
        for (const KeyOperand& other : constraint.must_match) {
            if (&other == &*fixed || globMatches(other.pattern, fixed->pattern)) {
                continue;
            }
            const std::uint32_t at = std::max(other.offset, fixed->offset);
            if (isLiteral(other.pattern)) {
                return Contradiction{key + " cannot be both " + quoted(fixed->pattern) + " and " +
                                         quoted(other.pattern),
                                     at};
            }
            return Contradiction{key + " must be " + quoted(fixed->pattern) +
                                     ", which does not match " + quoted(other.pattern),
                                 at};
        }
        for (const KeyOperand& excluded : constraint.must_not_match) {
            if (globMatches(excluded.pattern, fixed->pattern)) {
                return Contradiction{key + " must be " + quoted(fixed->pattern) + " and must not " +
                                         demand(excluded),
                                     std::max(excluded.offset, fixed->offset)};
            }
        }
        return std::nullopt;
    }
    for (const KeyOperand& excluded : constraint.must_not_match) {
        if (excluded.pattern.find_first_not_of('*') == std::string::npos &&
            !excluded.pattern.empty()) {
            return Contradiction{
                key + " must not match " + quoted(excluded.pattern) + ", which every value does",
                excluded.offset};
        }
        for (const KeyOperand& wanted : constraint.must_match) {
            if (wanted.pattern == excluded.pattern) {
                return Contradiction{key + " must " + demand(wanted) + " and must not",
                                     std::max(wanted.offset, excluded.offset)};
            }
        }
    }
    return std::nullopt;
}

// For keys whose every possible value tend knows, whether none of them is allowed.
std::optional<Contradiction> contradictionInDomain(std::string_view event, const std::string& key,
                                                   const KeyConstraint& constraint) {
    if (!isStopEvent(event)) {
        return std::nullopt;
    }
    std::span<const std::string_view> domain;
    if (key == "RESULT") {
        domain = kResults;
    } else if (key == "PROCESS") {
        domain = kProcesses;
    } else {
        return std::nullopt;
    }
    const bool any = std::any_of(domain.begin(), domain.end(), [&](std::string_view value) {
        return satisfies(constraint, value);
    });
    if (any) {
        return std::nullopt;
    }
    const KeyOperand& first = constraint.must_match.empty() ? constraint.must_not_match.front()
                                                            : constraint.must_match.front();
    return Contradiction{
        "a " + std::string(event) + " event's " + key + " is only ever " + valueList(domain),
        first.offset};
}

}  // namespace

bool isLifecycleEvent(std::string_view name) {
    return name == "starting" || name == "started" || isStopEvent(name);
}

std::map<std::string, KeyConstraint> keyConstraints(const grammar::EventMatch& match) {
    std::map<std::string, KeyConstraint> out;
    const auto keys = positionalKeys(match.name);
    std::size_t position = 0;
    for (const grammar::EventArg& arg : match.args) {
        std::string key = arg.key;
        if (arg.positional()) {
            const std::size_t at = position++;
            if (at >= keys.size()) {
                continue;
            }
            key = keys[at];
        }
        if (arg.value.find('$') != std::string::npos) {
            continue;
        }
        KeyConstraint& constraint = out[key];
        (arg.negated ? constraint.must_not_match : constraint.must_match)
            .push_back({arg.value, arg.offset, arg.positional()});
    }
    return out;
}

bool satisfies(const KeyConstraint& constraint, std::string_view value) {
    return std::all_of(constraint.must_match.begin(), constraint.must_match.end(),
                       [&](const KeyOperand& op) { return globMatches(op.pattern, value); }) &&
           std::none_of(constraint.must_not_match.begin(), constraint.must_not_match.end(),
                        [&](const KeyOperand& op) { return globMatches(op.pattern, value); });
}

std::optional<Contradiction> findContradiction(const grammar::EventMatch& match) {
    for (const auto& [key, constraint] : keyConstraints(match)) {
        if (auto found = contradictionOnKey(key, constraint)) {
            return found;
        }
        if (auto found = contradictionInDomain(match.name, key, constraint)) {
            return found;
        }
    }
    return std::nullopt;
}

std::string matchText(const grammar::EventMatch& match) {
    grammar::EventCondition alone;
    alone.addMatch(match);
    return alone.toString();
}

std::optional<std::string> lifecycleJob(const grammar::EventMatch& match) {
    if (!isLifecycleEvent(match.name)) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < match.args.size(); ++i) {
        const auto& arg = match.args[i];
        const bool names_job = (arg.positional() && i == 0) || (arg.key == "JOB" && !arg.negated);
        if (names_job && arg.value.find_first_of("*?[$\\") == std::string::npos) {
            return arg.value;
        }
    }
    return std::nullopt;
}

}  // namespace tend::conf
