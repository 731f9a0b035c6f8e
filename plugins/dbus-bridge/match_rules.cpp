// SPDX-License-Identifier: MIT
#include "match_rules.hpp"

#include <array>
#include <utility>

namespace tend::dbus_bridge {

namespace {

// The event's keys, as Upstart's bridge named them, and the match rule's keys they become.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kKeys{{
    {"SIGNAL", "member"},
    {"INTERFACE", "interface"},
    {"OBJPATH", "path"},
    {"SENDER", "sender"},
    {"DESTINATION", "destination"},
}};

bool literal(std::string_view value) {
    return value.find_first_of("*?[$\\") == std::string_view::npos;
}

// ARG0 ... ARG63 to arg0 ... arg63, else empty.
std::string argKey(std::string_view key) {
    if (key.size() < 4 || key.size() > 5 || !key.starts_with("ARG")) {
        return {};
    }
    const std::string_view digits = key.substr(3);
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return {};
        }
    }
    if (std::stoi(std::string(digits)) > 63) {
        return {};
    }
    return "arg" + std::string(digits);
}

}  // namespace

std::string ruleValue(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

std::string matchRule(const plugin::EventMatch& match, std::string_view bus) {
    std::string rule = "type='signal'";
    for (const auto& argument : match.args) {
        if (argument.key == "BUS" && !argument.negated && literal(argument.value) &&
            argument.value != bus) {
            return {};  // for the other bus
        }
    }
    for (const auto& argument : match.args) {
        if (argument.negated || !literal(argument.value)) {
            continue;
        }
        std::string key;
        for (const auto& [name, rule_key] : kKeys) {
            if (argument.key == name) {
                key = rule_key;
            }
        }
        if (key.empty()) {
            key = argKey(argument.key);
        }
        if (!key.empty()) {
            rule += "," + key + "=" + ruleValue(argument.value);
        }
    }
    return rule;
}

std::set<std::string> rulesOf(const plugin::JobClassView& job, std::string_view bus) {
    std::set<std::string> rules;
    for (const auto* match : job.matchesFor("dbus")) {
        if (std::string rule = matchRule(*match, bus); !rule.empty()) {
            rules.insert(std::move(rule));
        }
    }
    return rules;
}

namespace {

// Whether a match is for `bus`: BUS=session (or none) for the session bus, BUS=system for the
// system bus.
bool forBus(const plugin::EventMatch& match, std::string_view bus) {
    for (const auto& argument : match.args) {
        if (argument.key == "BUS" && !argument.negated && literal(argument.value)) {
            return argument.value == bus;
        }
    }
    return bus == "session";
}

// The literal NAME of a dbus-name match, or empty.
std::string literalName(const plugin::EventMatch& match) {
    for (const auto& argument : match.args) {
        if (argument.key == "NAME" && !argument.negated && literal(argument.value)) {
            return argument.value;
        }
    }
    return {};
}

}  // namespace

std::set<std::string> nameRulesOf(const plugin::JobClassView& job, std::string_view bus) {
    std::set<std::string> rules;
    for (const auto* match : job.matchesFor("dbus-name")) {
        if (!forBus(*match, bus)) {
            continue;
        }
        std::string rule =
            "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
            "interface='org.freedesktop.DBus',member='NameOwnerChanged'";
        if (const std::string name = literalName(*match); !name.empty()) {
            rule += ",arg0=" + ruleValue(name);
        }
        rules.insert(std::move(rule));
    }
    return rules;
}

std::set<std::string> namesOf(const plugin::JobClassView& job, std::string_view bus) {
    std::set<std::string> names;
    for (const auto* match : job.matchesFor("dbus-name")) {
        if (!forBus(*match, bus)) {
            continue;
        }
        if (std::string name = literalName(*match); !name.empty()) {
            names.insert(std::move(name));
        }
    }
    return names;
}

}  // namespace tend::dbus_bridge
