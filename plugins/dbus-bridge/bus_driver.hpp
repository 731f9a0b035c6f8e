// SPDX-License-Identifier: MIT
// An sdbus-c++ connection driven by tend's own event loop, through the host's fd watches and
// timers: no thread of its own. After every wake-up it processes every pending message (sd-bus
// handles one per call), then asks again for what sd-bus waits for: readable, writable (when it
// has output queued) and its timeout. Any use of the connection outside a callback of its own
// (adding a match, emitting a signal) must be followed by kick(): a synchronous call can read
// unrelated messages into sd-bus' queue, after which the descriptor is not readable again.
#pragma once

#include <sdbus-c++/IConnection.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <tend/plugin/plugin.hpp>

namespace tend::dbus_bridge {

class BusDriver {
  public:
    // `lost(why)` is called once, from the loop, when the connection fails (the bus went away);
    // the driver does nothing more after it.
    BusDriver(plugin::PluginHost& host, std::unique_ptr<sdbus::IConnection> connection,
              std::function<void(std::string)> lost);
    ~BusDriver();
    BusDriver(const BusDriver&) = delete;
    BusDriver& operator=(const BusDriver&) = delete;

    sdbus::IConnection& connection() { return *connection_; }
    // Processes what is pending and re-arms; call after using the connection directly.
    void kick();
    // Counts each message processed: callbacks for one message (several match rules can match
    // it) see the same number.
    std::uint64_t messageNumber() const { return message_number_; }

  private:
    void process();
    void rearm();

    plugin::PluginHost& host_;
    std::unique_ptr<sdbus::IConnection> connection_;
    std::function<void(std::string)> lost_;
    plugin::Registration watch_;
    plugin::Registration timer_;
    int fd_ = -1;
    bool writable_wanted_ = false;
    bool failed_ = false;
    std::uint64_t message_number_ = 0;
};

}  // namespace tend::dbus_bridge
