// SPDX-License-Identifier: MIT
// The global job environment tend starts with: what a desktop session's jobs need of tend's own
// environment, and nothing else.
#pragma once

#include "model/environment.hpp"

namespace tend::daemon {

// The names of `kSessionImports` (session_environment.cpp) from tend's own environment, and a
// PATH when it has none.
model::Environment sessionEnvironment();

}  // namespace tend::daemon
