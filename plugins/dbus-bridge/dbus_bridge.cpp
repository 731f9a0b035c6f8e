// SPDX-License-Identifier: MIT
// dbus-bridge: Upstart's D-Bus and event bridges as a plugin (bus_link.hpp does the buses).
//   - Signals become `dbus SIGNAL=... INTERFACE=... OBJPATH=... SENDER=... [DESTINATION=...]
//     ARG0=... BUS=session|system` events, so a job can say
//     `start on dbus SIGNAL=NameOwnerChanged ARG0=org.freedesktop.secrets`; beyond Upstart, the
//     bus sends only what some job's condition asks for (match_rules.hpp), following hot reload.
//   - `dbus-name NAME=... OWNER=...` says when a well-known name appears (OWNER its new owner)
//     or goes (OWNER empty): `start on dbus-name NAME=org.freedesktop.secrets OWNER=?*` waits
//     for a keyring.
//   - The system's state reaches the session as `:sys:` events (sys_events.hpp).
//   - tend's control API is served on the session bus as org.tend.Manager1 (control_api.hpp).
// The session bus's address is DBUS_SESSION_BUS_ADDRESS in the global job environment (a
// `dbus` job publishes it with set-env --global); the system bus's is tend's own
// DBUS_SYSTEM_BUS_ADDRESS, else the standard socket when it exists. `tendctl dbus-bridge` says
// where each bus is.
#include <sdbus-c++/sdbus-c++.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <tend/plugin/plugin.hpp>

#include "bus_link.hpp"
#include "control_api.hpp"
#include "match_rules.hpp"
#include "sys_events.hpp"

namespace tend::dbus_bridge {
namespace {

using plugin::ClassChange;
using plugin::CommandReply;
using plugin::JobClassView;
using plugin::LogLevel;
using plugin::PluginHost;
using plugin::Registration;

constexpr const char* kSystemSocket = "/run/dbus/system_bus_socket";

// What one job wants of one bus.
struct Wants {
    std::set<std::string> rules;
    std::set<std::string> names;
};

class DbusBridge final : public plugin::Plugin {
  public:
    explicit DbusBridge(PluginHost& host)
        : host_(host),
          session_(host, "session",
                   {[this] { return globalVariable("DBUS_SESSION_BUS_ADDRESS"); },
                    "DBUS_SESSION_BUS_ADDRESS in the global job environment",
                    [this](BusLink& link) { serveApi(link); }, [this] { api_.reset(); }}),
          system_(host, "system",
                  {[] { return systemBusAddress(); },
                   std::string("the system bus (") + kSystemSocket + ")", nullptr, nullptr}) {}

    void start() override {
        api_wanted_ = host_.setting("control-api", "on") != "off";
        session_id_ = globalVariable("XDG_SESSION_ID");
        registrations_.push_back(host_.onJobChange([this](const plugin::JobChange& change) {
            if (api_) {
                api_->jobChanged(change);
            }
        }));
        registrations_.push_back(
            host_.onJobClass([this](ClassChange change, const JobClassView& job) {
                session_wants_.erase(job.name);
                system_wants_.erase(job.name);
                if (change != ClassChange::Removed) {
                    record(job, "session", session_wants_);
                    record(job, "system", system_wants_);
                    for (auto& rule : sysRulesOf(job, session_id_)) {
                        system_wants_[job.name].rules.insert(std::move(rule));
                    }
                }
                update();
            }));
        // Without a bus address, each event is the moment to look again: a dbus job publishes
        // the address with set-env --global, and its `started` follows.
        registrations_.push_back(host_.onEvent([this](const plugin::EventView&) {
            session_.lookAgain();
            system_.lookAgain();
        }));
        registrations_.push_back(host_.addCommand(
            "dbus-bridge", [this](const std::vector<std::string>&) { return status(); }));
        update();
    }

    void stop() override {
        api_.reset();
        registrations_.clear();
    }

  private:
    static void record(const JobClassView& job, const std::string& bus,
                       std::map<std::string, Wants>& wants) {
        Wants wanted;
        for (const auto& rule : rulesOf(job, bus)) {
            wanted.rules.insert("signal " + rule);
        }
        for (const auto& rule : nameRulesOf(job, bus)) {
            wanted.rules.insert("name " + rule);
        }
        wanted.names = namesOf(job, bus);
        if (!wanted.rules.empty()) {
            wants[job.name] = std::move(wanted);
        }
    }

    static std::string systemBusAddress() {
        if (const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS"); address && *address) {
            return address;
        }
        std::error_code ec;
        return std::filesystem::exists(kSystemSocket, ec)
                   ? std::string("unix:path=") + kSystemSocket
                   : std::string();
    }

    std::string globalVariable(const std::string& name) const {
        for (const auto& entry : host_.environment().value_or(std::vector<std::string>{})) {
            if (entry.size() > name.size() && entry.starts_with(name) &&
                entry[name.size()] == '=') {
                return entry.substr(name.size() + 1);
            }
        }
        return {};
    }

    void update() {
        const auto all = [](const std::map<std::string, Wants>& wants) {
            Wants merged;
            for (const auto& [job, wanted] : wants) {
                merged.rules.insert(wanted.rules.begin(), wanted.rules.end());
                merged.names.insert(wanted.names.begin(), wanted.names.end());
            }
            return merged;
        };
        Wants session = all(session_wants_);
        Wants system = all(system_wants_);
        session_.want(std::move(session.rules), std::move(session.names), api_wanted_);
        system_.want(std::move(system.rules), std::move(system.names), false);
    }

    // The control API: the object, then the name, so that a caller who sees the name finds the
    // object. A name another tend holds on this bus is said once; the bridge runs on without it.
    void serveApi(BusLink& link) {
        if (!api_wanted_) {
            return;
        }
        try {
            api_ = std::make_unique<ControlApi>(link.connection(), host_,
                                                [&link] { link.kickSoon(); });
            link.connection().requestName(kManagerName);
            api_state_ = std::string("serving ") + kManagerName + " at " + kManagerPath;
        } catch (const sdbus::Error& error) {
            api_.reset();
            api_state_ = std::string("not serving ") + kManagerName + ": " + error.getMessage();
            host_.log(LogLevel::Warn, "cannot serve the control API as " +
                                          std::string(kManagerName) +
                                          " on the session bus: " + error.getMessage());
        }
    }

    CommandReply status() const {
        std::string text = session_.status();
        text += "\n  control API: " + (!api_wanted_ ? std::string("off")
                                       : api_       ? api_state_
                                                    : "not served: not connected");
        text += "\n" + system_.status();
        return CommandReply{true, text, "{}"};
    }

    PluginHost& host_;
    std::map<std::string, Wants> session_wants_;
    std::map<std::string, Wants> system_wants_;
    std::unique_ptr<ControlApi> api_;
    BusLink session_;  // after api_: destroyed first, so the API goes before its connection
    BusLink system_;
    std::vector<Registration> registrations_;
    std::string api_state_;
    std::string session_id_;
    bool api_wanted_ = true;
};

std::unique_ptr<plugin::Plugin> makeDbusBridge(PluginHost& host) {
    return std::make_unique<DbusBridge>(host);
}

}  // namespace
}  // namespace tend::dbus_bridge

TEND_PLUGIN("dbus-bridge", "1.0", "", "", "", tend::dbus_bridge::makeDbusBridge)
TEND_PLUGIN_EMITS("dbus, dbus-name, :sys:*")
