// SPDX-License-Identifier: MIT
// Fault isolation: every call into a plugin's code goes through PluginManager::guarded. A
// plugin that throws is disabled (from the loop, not from inside its own call stack) and its
// registrations removed; one that blocks the loop past the budget is reported, and disabled
// after repeated overruns; one that never returns is the HangWatch's. Its jobs keep running
// either way.
#pragma once

#include <spdlog/spdlog.h>
#include <chrono>
#include <exception>
#include <string>

#include "plugin/hang_watch.hpp"
#include "plugin/plugin_manager.hpp"
#include "plugin/plugin_record.hpp"

namespace tend::plugin {

template <typename Fn>
bool PluginManager::guarded(PluginRecord& record, const char* what, Fn&& fn,
                            GuardClock::time_point* mark) {
    if (record.failing || (!record.plugin && record.state != PluginState::Starting)) {
        return false;
    }
    const auto start = mark ? *mark : GuardClock::now();
    struct Watched {
        HangWatch* watch;
        HangWatch::Call resumed;
        ~Watched() {
            if (watch) {
                watch->leave(resumed);
            }
        }
    } const watched{hang_watch_.get(), hang_watch_
                                           ? hang_watch_->enter(record.descriptor.name, what)
                                           : HangWatch::Call{}};
    try {
        fn();
    } catch (const std::exception& e) {
        if (mark) {
            *mark = GuardClock::now();  // the next plugin's call starts now, not when this one did
        }
        fail(record, std::string(what) + " threw: " + e.what());
        return false;
    } catch (...) {
        if (mark) {
            *mark = GuardClock::now();
        }
        fail(record, std::string(what) + " threw something that is not a std::exception");
        return false;
    }
    const auto end = GuardClock::now();
    if (mark) {
        *mark = end;
    }
    const auto took = end - start;
    if (took > options_.callback_budget) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
        ++record.overruns;
        logger_->warn("[{}] {} blocked tend's event loop for {} ms (budget {} ms; {} of {})",
                      record.descriptor.name, what, ms, options_.callback_budget.count(),
                      record.overruns, options_.overruns_allowed);
        if (record.overruns >= options_.overruns_allowed) {
            fail(record, "blocked the event loop too often (" + std::to_string(record.overruns) +
                             " times over " + std::to_string(options_.callback_budget.count()) +
                             " ms)");
            return false;
        }
    }
    return true;
}

}  // namespace tend::plugin
