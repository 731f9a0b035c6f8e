// SPDX-License-Identifier: MIT
#include "control/protocol.hpp"

#include <cstdlib>

namespace tend::control {

std::string defaultSocketPath() {
    if (const char* session = std::getenv("TEND_SESSION"); session && *session) {
        return session;
    }
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime) {
        return std::string(runtime) + "/tend/control";
    }
    return {};
}

}  // namespace tend::control
