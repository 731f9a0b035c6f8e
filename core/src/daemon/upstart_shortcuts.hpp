// SPDX-License-Identifier: MIT
// Whether tend is installed with its Upstart shortcuts: `initctl`, found on the PATH, is this
// installation's tendctl (the tend-upstart package, or a link the user made). Upstart job files
// that call `initctl` inside their scripts then work unchanged, and some test UPSTART_SESSION
// before they do, so tend sets it for its jobs too.
#pragma once

#include <string>

namespace tend::daemon {

// `path_variable`: the PATH jobs get. tendctl is looked for beside the running tend.
bool upstartShortcutsInstalled(const std::string& path_variable);

}  // namespace tend::daemon
