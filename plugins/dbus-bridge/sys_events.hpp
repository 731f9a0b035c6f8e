// SPDX-License-Identifier: MIT
// The system's state as session events, from the system bus: what Upstart's event bridge gave as
// `:sys:<event>`, now that the system's services live behind systemd, logind and NetworkManager.
//   :sys:started UNIT=cups.service           a unit became active (systemd)
//   :sys:stopped UNIT=cups.service RESULT=done|failed
//   :sys:suspend, :sys:resume                logind's PrepareForSleep(true|false)
//   :sys:lock, :sys:unlock                   logind's Lock and Unlock for the session
//   :sys:network-online, :sys:network-offline  NetworkManager's StateChanged (70 = connected
//                                            globally; 20 or less = disconnected or asleep)
// A unit's state comes from its ActiveState in the PropertiesChanged signal of its object
// (/org/freedesktop/systemd1/unit/<escaped name>), which systemd sends to subscribers.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include <tend/plugin/plugin.hpp>

namespace tend::dbus_bridge {

// The tagged rules ("unit RULE", "sleep RULE", ...) for a job's `:sys:` matches. `session` is
// the logind session whose lock and unlock count ($XDG_SESSION_ID; empty: any session's).
std::set<std::string> sysRulesOf(const plugin::JobClassView& job, std::string_view session);

// systemd's object path of a unit: every byte but [A-Za-z0-9] (and a leading digit) as _XX.
std::string unitPath(std::string_view unit);
// The unit a path names, or empty.
std::string unitOfPath(std::string_view path);

// logind's object path of a session id.
std::string sessionPath(std::string_view session);

}  // namespace tend::dbus_bridge
