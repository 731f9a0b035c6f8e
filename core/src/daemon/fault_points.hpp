// SPDX-License-Identifier: MIT
// Faults a test sets off in a real tend where nothing else can, by TEND_FAULT=NAME: built in only
// with CMake's TEND_FAULT_POINTS (scripts/test turns it on). A tend built for use has none.
//   sigusr1-throws  the SIGUSR1 handler throws std::bad_alloc before it waits for the next signal
#pragma once

#include <cstdlib>
#include <string_view>

namespace tend::daemon {

#ifdef TEND_FAULT_POINTS
inline bool faultArmed(std::string_view name) {
    const char* armed = std::getenv("TEND_FAULT");
    return armed && name == armed;
}
#else
constexpr bool faultArmed(std::string_view /*name*/) {
    return false;
}
#endif

}  // namespace tend::daemon
