// SPDX-License-Identifier: MIT
// `check-config` off the loop: reading and checking a session's job files (30-50 ms for 1,000)
// runs on a thread of its own, so that requests, exits and events do not wait behind it. One
// thread, started at the first check; checks asked meanwhile wait their turn in order.
//
// A plugin's stanza is still checked on the loop: its code is not thread-safe, and the plugin may
// be unloaded while a check runs. The check thread hands such a stanza to the loop and waits for
// it; a plugin gone by then is reported as gone, and at shutdown the wait is given up.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "conf/check.hpp"
#include "conf/stanza_registry.hpp"
#include "sys/asio.hpp"

namespace tend::control {

class BackgroundChecks {
  public:
    using Done = std::function<void(conf::CheckReport)>;

    // `stanzas` is the live registry; it must outlive this object.
    BackgroundChecks(boost::asio::io_context& io, const conf::StanzaRegistry& stanzas);
    // Gives up every wait for the loop and joins the thread; no check answers after this.
    ~BackgroundChecks();
    BackgroundChecks(const BackgroundChecks&) = delete;
    BackgroundChecks& operator=(const BackgroundChecks&) = delete;

    // Checks `paths` as conf::checkPaths does; `done` runs on the loop with the report.
    void run(std::vector<std::filesystem::path> paths, conf::CheckOptions options, Done done);

  private:
    struct Check {
        conf::StanzaRegistry stanzas;  // taken on the loop when the check was asked for
        std::vector<std::filesystem::path> paths;
        conf::CheckOptions options;
        Done done;
    };
    // What the thread and the handlers it posts to the loop share; those handlers can run after
    // this object has gone, so they hold it, never `this`.
    struct Shared {
        std::mutex mutex;
        std::condition_variable changed;
        std::deque<Check> queue;
        bool stopping = false;
    };
    void work();
    conf::StanzaHandler onTheLoop(const conf::StanzaRegistry::Entry& entry) const;

    boost::asio::io_context& io_;
    const conf::StanzaRegistry& stanzas_;
    std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
    std::thread thread_;
};

}  // namespace tend::control
