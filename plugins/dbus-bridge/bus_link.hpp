// SPDX-License-Identifier: MIT
// One bus, session or system, as the bridge uses it: connected while some job wants its signals
// (or the control API wants the session bus), with the match rules the jobs ask for and nothing
// more, found again when it comes late or goes and returns.
//
// Rules are tagged with what their signals become: "signal RULE" a `dbus` event, "name RULE" a
// `dbus-name` event, and, on the system bus, "unit RULE", "sleep RULE", "lock RULE" and
// "network RULE" the `:sys:` events (sys_events.hpp).
//
// Without an address there is nothing to try until the environment changes, which the events
// that follow a set-env (`started dbus`) tell: lookAgain(). A bus that does not answer, or went
// away (said once), is tried again after 1 s, 2 s, ... up to 30 s.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <tend/plugin/plugin.hpp>

#include "bus_driver.hpp"

namespace tend::dbus_bridge {

class BusLink {
  public:
    struct Hooks {
        std::function<std::string()> address;  // empty: not known yet
        std::string waiting_for;               // what an unknown address waits for, for status
        std::function<void(BusLink&)> connected;
        std::function<void()> disconnecting;
    };
    BusLink(plugin::PluginHost& host, std::string bus, Hooks hooks);
    ~BusLink();
    BusLink(const BusLink&) = delete;
    BusLink& operator=(const BusLink&) = delete;

    // What the jobs want of this bus: tagged rules, the names they wait for, and whether to stay
    // connected without any rule (the control API).
    void want(std::set<std::string> rules, std::set<std::string> names, bool keep_connected);
    // An event happened: if the address was unknown, it may be known now.
    void lookAgain();

    bool isConnected() const { return driver_ != nullptr; }
    sdbus::IConnection& connection() { return driver_->connection(); }
    // Processes and re-arms soon, from the loop: after a reply or a signal went out.
    void kickSoon();
    std::string status() const;
    const std::string& bus() const { return bus_; }

  private:
    void syncSoon();  // sync() from the loop, once for however many calls before it runs
    void sync();
    bool connect();
    void lost(const std::string& why);
    void disconnect();
    void announceOwners();
    void onMessage(const std::string& tag, sdbus::Message& message);
    void emit(std::string event, std::vector<std::string> env);

    plugin::PluginHost& host_;
    std::string bus_;
    Hooks hooks_;
    std::set<std::string> rules_;
    std::set<std::string> names_;
    bool keep_connected_ = false;
    std::unique_ptr<BusDriver> driver_;
    std::map<std::string, sdbus::Slot> slots_;
    std::unique_ptr<sdbus::IProxy> systemd_;             // its Subscribe call, answered on the loop
    std::map<std::string, std::uint64_t> last_message_;  // per tag: one event per signal
    std::map<std::string, std::string> unit_states_;     // for :sys:started/stopped transitions
    std::set<std::string> announced_;
    plugin::Registration retry_;
    std::chrono::milliseconds retry_delay_;
    std::string address_;
    std::string state_;
    std::uint64_t events_ = 0;
    bool address_known_ = false;
    bool sync_pending_ = false;
    bool kick_pending_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tend::dbus_bridge
