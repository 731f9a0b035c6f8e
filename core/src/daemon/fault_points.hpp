// SPDX-License-Identifier: MIT
// Faults a test sets off in a real tend where nothing else can, by TEND_FAULT=NAME[,NAME...]:
// built in only with CMake's TEND_FAULT_POINTS (scripts/test turns it on). A tend built for use
// has none.
//   sigusr1-throws      the SIGUSR1 handler throws std::bad_alloc before it waits for the next
//                       signal
//   reexec-save-throws  a re-exec's saving of the state throws std::bad_alloc
#pragma once

#include <cstdlib>
#include <string_view>

namespace tend::daemon {

#ifdef TEND_FAULT_POINTS
inline bool faultArmed(std::string_view name) {
    const char* armed = std::getenv("TEND_FAULT");
    for (std::string_view rest = armed ? armed : ""; !rest.empty();) {
        const auto comma = rest.find(',');
        if (rest.substr(0, comma) == name) {
            return true;
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return false;
}
#else
constexpr bool faultArmed(std::string_view /*name*/) {
    return false;
}
#endif

}  // namespace tend::daemon
