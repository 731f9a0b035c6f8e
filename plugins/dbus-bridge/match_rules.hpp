// SPDX-License-Identifier: MIT
// The D-Bus match rules a session's jobs ask for: one per `start on dbus ...` or `stop on dbus
// ...` match, from its literal keys, so the bus sends tend only the signals some job waits for
// (Upstart's bridge took every signal on the bus). tend's own event matching still judges each
// event in full: a rule only has to let through at least what the match can accept.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <tend/plugin/plugin.hpp>

namespace tend::dbus_bridge {

// `type='signal',interface='org.example.Test',member='Hello',arg0='world'`; empty when the match
// is for another bus than `bus` (BUS=system on the session bus). Keys with a glob, a `$VAR` or a
// `!=` are left out of the rule: the match stays wider than the job's, never narrower.
std::string matchRule(const plugin::EventMatch& match, std::string_view bus);

// The rules of every `dbus` match of a job class, for `bus`.
std::set<std::string> rulesOf(const plugin::JobClassView& job, std::string_view bus);

// The rules for a job's `dbus-name NAME=... OWNER=...` matches: the bus's NameOwnerChanged,
// for the NAME when it is literal (every name otherwise).
std::set<std::string> nameRulesOf(const plugin::JobClassView& job, std::string_view bus);
// The literal NAMEs a job's `dbus-name` matches ask about on `bus`.
std::set<std::string> namesOf(const plugin::JobClassView& job, std::string_view bus);

// A value quoted for a match rule: inside '...', a ' is written '\''.
std::string ruleValue(std::string_view value);

}  // namespace tend::dbus_bridge
