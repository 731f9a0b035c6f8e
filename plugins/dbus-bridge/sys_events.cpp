// SPDX-License-Identifier: MIT
#include "sys_events.hpp"

#include <cstdio>

#include "match_rules.hpp"

namespace tend::dbus_bridge {

namespace {

constexpr std::string_view kUnitPrefix = "/org/freedesktop/systemd1/unit/";

std::string escaped(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool digit = c >= '0' && c <= '9';
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (letter || (digit && i > 0)) {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "_%02x", c);
            out += hex;
        }
    }
    return out.empty() ? "_" : out;
}

std::string literalArgument(const plugin::EventMatch& match, std::string_view key) {
    for (const auto& argument : match.args) {
        if (argument.key == key && !argument.negated &&
            argument.value.find_first_of("*?[$\\") == std::string::npos) {
            return argument.value;
        }
    }
    return {};
}

}  // namespace

std::string unitPath(std::string_view unit) {
    return std::string(kUnitPrefix) + escaped(unit);
}

std::string unitOfPath(std::string_view path) {
    if (!path.starts_with(kUnitPrefix)) {
        return {};
    }
    std::string_view rest = path.substr(kUnitPrefix.size());
    std::string out;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        unsigned value = 0;
        if (rest[i] == '_' && i + 2 < rest.size() &&
            std::sscanf(std::string(rest.substr(i + 1, 2)).c_str(), "%2x", &value) == 1) {
            out += static_cast<char>(value);
            i += 2;
        } else {
            out += rest[i];
        }
    }
    return out;
}

std::string sessionPath(std::string_view session) {
    return "/org/freedesktop/login1/session/" + escaped(session);
}

std::set<std::string> sysRulesOf(const plugin::JobClassView& job, std::string_view session) {
    std::set<std::string> rules;
    for (const auto& match : job.matches) {
        const std::string& event = match.event;
        if (event == ":sys:started" || event == ":sys:stopped") {
            std::string rule =
                "type='signal',sender='org.freedesktop.systemd1',"
                "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                "arg0='org.freedesktop.systemd1.Unit'";
            const std::string unit = literalArgument(match, "UNIT");
            rule += unit.empty() ? ",path_namespace='/org/freedesktop/systemd1/unit'"
                                 : ",path=" + ruleValue(unitPath(unit));
            rules.insert("unit " + rule);
        } else if (event == ":sys:suspend" || event == ":sys:resume") {
            rules.insert(
                "sleep type='signal',sender='org.freedesktop.login1',"
                "path='/org/freedesktop/login1',interface='org.freedesktop.login1.Manager',"
                "member='PrepareForSleep'");
        } else if (event == ":sys:lock" || event == ":sys:unlock") {
            std::string rule =
                "type='signal',sender='org.freedesktop.login1',"
                "interface='org.freedesktop.login1.Session'";
            if (!session.empty()) {
                rule += ",path=" + ruleValue(sessionPath(session));
            }
            rules.insert("lock " + rule + ",member='Lock'");
            rules.insert("lock " + rule + ",member='Unlock'");
        } else if (event == ":sys:network-online" || event == ":sys:network-offline") {
            rules.insert(
                "network type='signal',sender='org.freedesktop.NetworkManager',"
                "path='/org/freedesktop/NetworkManager',"
                "interface='org.freedesktop.NetworkManager',member='StateChanged'");
        }
    }
    return rules;
}

}  // namespace tend::dbus_bridge
