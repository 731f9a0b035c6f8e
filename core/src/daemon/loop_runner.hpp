// SPDX-License-Identifier: MIT
// tend's loop, run so that a handler that throws ends its own turn, never the session.
//
// What a handler throws reaches the loop only when nothing nearer could answer for it: a control
// request, a plugin call and the log router's thread each catch their own. What is left is a bug
// or an allocation that failed, and a tend that let it end io.run() would leave its jobs to die on
// their broken pipes. Instead the loop runs on and the daemon is told, once per failure: the
// handler may have left its own work undone (a wait it never renewed), which only a fresh tend
// can be sure to redo, so the daemon replaces itself (daemon.cpp).
#pragma once

#include <functional>
#include <string>

#include "sys/asio.hpp"

namespace tend::daemon {

// Runs `io` until it runs out of work. `on_failure` gets what each escaping exception said (its
// what(), or "an exception of an unknown type") and runs on the loop's thread, between turns.
void runThroughFailures(boost::asio::io_context& io,
                        const std::function<void(const std::string& what)>& on_failure);

}  // namespace tend::daemon
