// SPDX-License-Identifier: MIT
#include "daemon/session_environment.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace tend::daemon {
namespace {

// What a desktop session's jobs need of tend's own environment: the global table starts with
// these alone (a trailing `*` takes every name with that prefix), so that whatever else tend
// was started with (its launcher's job identity, a terminal's leftovers) stays tend's.
// env-manager's `import` setting adds names. Documented in docs/control.md.
constexpr std::array<std::string_view, 19> kSessionImports{"DISPLAY",
                                                           "XAUTHORITY",
                                                           "WAYLAND_DISPLAY",
                                                           "DBUS_SESSION_BUS_ADDRESS",
                                                           "SSH_AUTH_SOCK",
                                                           "XDG_*",
                                                           "PATH",
                                                           "HOME",
                                                           "USER",
                                                           "LOGNAME",
                                                           "SHELL",
                                                           "TERM",
                                                           "LANG",
                                                           "LANGUAGE",
                                                           "LC_*",
                                                           "DESKTOP_SESSION",
                                                           "GDMSESSION",
                                                           "SESSIONTYPE",
                                                           "SESSION_MANAGER"};

bool imported(std::string_view name) {
    return std::any_of(kSessionImports.begin(), kSessionImports.end(), [&](std::string_view p) {
        return p.ends_with('*') ? name.starts_with(p.substr(0, p.size() - 1)) : name == p;
    });
}

}  // namespace

model::Environment sessionEnvironment() {
    model::Environment env;
    for (char** entry = environ; *entry; ++entry) {
        const std::string_view text(*entry);
        const auto eq = text.find('=');
        if (eq != std::string_view::npos && imported(text.substr(0, eq))) {
            env.setEntry(text);
        }
    }
    if (!env.get("PATH")) {
        env.set("PATH", "/usr/local/bin:/usr/bin:/bin");
    }
    return env;
}

}  // namespace tend::daemon
