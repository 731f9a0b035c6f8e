// SPDX-License-Identifier: MIT
// sd-bus waits for a reply in ppoll(), which any signal tend handles (SIGCHLD, as its jobs end)
// interrupts whatever the handler's flags. A blocking call that fails with EINTR has not been
// refused; it is made again, a few times, before it counts as a failure.
#pragma once

#include <sdbus-c++/Error.h>

namespace tend::dbus_bridge {

inline constexpr int kInterruptedTries = 5;

inline bool isInterrupted(const sdbus::Error& error) {
    return error.getName() == "System.Error.EINTR";
}

template <class Call>
auto retryInterrupted(Call&& call) {
    for (int attempt = 1;; ++attempt) {
        try {
            return call();
        } catch (const sdbus::Error& error) {
            if (!isInterrupted(error) || attempt == kInterruptedTries) {
                throw;
            }
        }
    }
}

}  // namespace tend::dbus_bridge
