// SPDX-License-Identifier: MIT
#include "daemon/loop_runner.hpp"

#include <exception>

namespace tend::daemon {

void runThroughFailures(boost::asio::io_context& io,
                        const std::function<void(const std::string& what)>& on_failure) {
    for (;;) {
        std::string what;
        // asio lets a handler's exception out of run() and allows run() again at once, with the
        // rest of the queued work still in place (no restart() needed).
        try {
            io.run();
            return;
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
            what = "an exception of an unknown type";
        }
        try {
            on_failure(what);
        } catch (...) {
            // Telling failed too (no memory left for it, say): the loop must still run on.
        }
    }
}

}  // namespace tend::daemon
