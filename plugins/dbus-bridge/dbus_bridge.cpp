// SPDX-License-Identifier: MIT
// dbus-bridge: Upstart's D-Bus bridge as a plugin. Signals on the session bus become `dbus`
// events (SIGNAL, INTERFACE, OBJPATH, SENDER, DESTINATION, ARG0... and BUS=session), so a job can
// say `start on dbus SIGNAL=NameOwnerChanged ARG0=org.freedesktop.secrets`. Beyond Upstart, the
// bus sends only what some job's condition asks for (match_rules.hpp), following hot reload; and
// `dbus-name NAME=... OWNER=...` says when a well-known name appears (OWNER its new owner) or
// goes (OWNER empty), so `start on dbus-name NAME=org.freedesktop.secrets OWNER=?*` waits for a
// keyring.
//
// The bus may come after tend (a `dbus` job starts it and publishes its address with
// `tendctl set-env --global`) and may die and come back: while a job wants D-Bus events and
// there is no connection, the bridge looks for DBUS_SESSION_BUS_ADDRESS in the global job
// environment at each event (no timer: an idle session stays idle) and connects; a bus that does
// not answer, or a lost connection (said once), is tried again after 1 s, 2 s ... up to 30 s.
// With no job asking, it does not connect at all. `tendctl dbus-bridge` says where it is.
#include <sdbus-c++/sdbus-c++.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <tend/plugin/plugin.hpp>

#include "bus_driver.hpp"
#include "control_api.hpp"
#include "match_rules.hpp"

namespace tend::dbus_bridge {
namespace {

using plugin::ClassChange;
using plugin::CommandReply;
using plugin::JobClassView;
using plugin::LogLevel;
using plugin::PluginHost;
using plugin::Registration;

constexpr std::chrono::milliseconds kRetry = std::chrono::seconds(1);
constexpr std::chrono::milliseconds kRetryMax = std::chrono::seconds(30);
constexpr const char* kBus = "session";
// What a rule is for: a `dbus` event, or a `dbus-name` event (the bus's NameOwnerChanged).
constexpr std::string_view kSignalRule = "signal ";
constexpr std::string_view kNameRule = "name ";

// The string-like arguments of a signal from the first: ARG0, ARG1, ... as Upstart's bridge
// gave them (it stopped at the first argument that is not a string, object path or signature).
std::vector<std::string> stringArguments(sdbus::Message& message) {
    std::vector<std::string> out;
    for (;;) {
        std::string type;
        std::string contents;
        try {
            message.peekType(type, contents);
        } catch (const sdbus::Error&) {
            break;
        }
        std::string value;
        if (type == "s") {
            message >> value;
        } else if (type == "o") {
            sdbus::ObjectPath path;
            message >> path;
            value = path;
        } else if (type == "g") {
            sdbus::Signature signature;
            message >> signature;
            value = signature;
        } else {
            break;
        }
        out.push_back(std::move(value));
    }
    return out;
}

class DbusBridge final : public plugin::Plugin {
  public:
    explicit DbusBridge(PluginHost& host) : host_(host) {}

    void start() override {
        api_wanted_ = host_.setting("control-api", "on") != "off";
        registrations_.push_back(host_.onJobChange([this](const plugin::JobChange& change) {
            if (api_) {
                api_->jobChanged(change);
            }
        }));
        registrations_.push_back(
            host_.onJobClass([this](ClassChange change, const JobClassView& job) {
                rules_by_job_.erase(job.name);
                names_by_job_.erase(job.name);
                if (change != ClassChange::Removed) {
                    std::set<std::string> rules;
                    for (const auto& rule : rulesOf(job, kBus)) {
                        rules.insert(std::string(kSignalRule) + rule);
                    }
                    for (const auto& rule : nameRulesOf(job)) {
                        rules.insert(std::string(kNameRule) + rule);
                    }
                    if (!rules.empty()) {
                        rules_by_job_[job.name] = std::move(rules);
                    }
                    if (auto names = namesOf(job); !names.empty()) {
                        names_by_job_[job.name] = std::move(names);
                    }
                }
                scheduleSync();
            }));
        // Without a bus address, each event is the moment to look again: a dbus job publishes
        // the address with set-env --global, and its `started` follows.
        registrations_.push_back(host_.onEvent([this](const plugin::EventView&) {
            if (!driver_ && !address_known_ && (api_wanted_ || !rules_by_job_.empty())) {
                scheduleSync();
            }
        }));
        registrations_.push_back(host_.addCommand(
            "dbus-bridge", [this](const std::vector<std::string>&) { return status(); }));
        sync();
    }

    void stop() override {
        disconnect();
        registrations_.clear();
    }

  private:
    // Class changes come in bursts (a reload): the rules are brought up to date once after.
    void scheduleSync() {
        if (!sync_pending_) {
            sync_pending_ = true;
            host_.post([this] {
                sync_pending_ = false;
                sync();
            });
        }
    }

    std::set<std::string> wantedRules() const {
        std::set<std::string> all;
        for (const auto& [job, rules] : rules_by_job_) {
            all.insert(rules.begin(), rules.end());
        }
        return all;
    }

    std::string busAddress() const {
        for (const auto& entry : host_.environment().value_or(std::vector<std::string>{})) {
            if (entry.starts_with("DBUS_SESSION_BUS_ADDRESS=")) {
                return entry.substr(entry.find('=') + 1);
            }
        }
        return {};
    }

    // Connects when some job wants D-Bus events and the bus is known; installs and removes
    // match rules to follow what the jobs want; disconnects when none wants any.
    void sync() {
        const std::set<std::string> wanted = wantedRules();
        if (wanted.empty() && !api_wanted_) {
            disconnect();
            retry_.reset();
            return;
        }
        if (!driver_ && !connect()) {
            // No address: nothing to try until the environment changes, which the events that
            // follow a set-env (`started dbus`) tell. A bus that does not answer: try again,
            // less and less often.
            if (!address_known_) {
                retry_.reset();
            } else if (!retry_) {
                retry_ = host_.addTimer(retry_delay_, [this] {
                    retry_ = {};
                    retry_delay_ = std::min(retry_delay_ * 2, kRetryMax);
                    sync();
                });
            }
            return;
        }
        retry_.reset();
        retry_delay_ = kRetry;
        for (auto it = slots_.begin(); it != slots_.end();) {
            it = wanted.contains(it->first) ? std::next(it) : slots_.erase(it);
        }
        for (const auto& rule : wanted) {
            if (slots_.contains(rule)) {
                continue;
            }
            const bool name_rule = rule.starts_with(kNameRule);
            const std::string match =
                rule.substr(name_rule ? kNameRule.size() : kSignalRule.size());
            try {
                slots_.emplace(rule, driver_->connection().addMatch(
                                         match, [this, name_rule](sdbus::Message& m) {
                                             name_rule ? onNameOwnerChanged(m) : onSignal(m);
                                         }));
            } catch (const sdbus::Error& error) {
                host_.log(LogLevel::Warn,
                          "cannot add match rule " + rule + ": " + error.getMessage());
            }
        }
        announceOwners();
        if (api_wanted_ && !api_) {
            serveApi();
        }
        driver_->kick();
    }

    // The control API: the object, then the name, so that a caller who sees the name finds the
    // object. A name another tend holds on this bus is said once; the bridge runs on without it.
    void serveApi() {
        try {
            api_ =
                std::make_unique<ControlApi>(driver_->connection(), host_, [this] { kickSoon(); });
            driver_->connection().requestName(kManagerName);
            api_state_ = std::string("serving ") + kManagerName + " at " + kManagerPath;
        } catch (const sdbus::Error& error) {
            api_.reset();
            api_state_ = std::string("not serving ") + kManagerName + ": " + error.getMessage();
            host_.log(LogLevel::Warn, "cannot serve the control API as " +
                                          std::string(kManagerName) +
                                          " on the session bus: " + error.getMessage());
        }
    }

    // After a reply or a signal: the driver processes and re-arms from the loop, not from
    // inside whatever callback sent it.
    void kickSoon() {
        if (!kick_pending_) {
            kick_pending_ = true;
            host_.post([this] {
                kick_pending_ = false;
                if (driver_) {
                    driver_->kick();
                }
            });
        }
    }

    // A name a job waits for that is owned already, when the bridge starts asking about it, is
    // announced as if it had just appeared (as file-bridge announces a file that exists).
    void announceOwners() {
        std::set<std::string> names;
        for (const auto& [job, wanted] : names_by_job_) {
            names.insert(wanted.begin(), wanted.end());
        }
        for (const auto& name : names) {
            if (announced_.contains(name)) {
                continue;
            }
            announced_.insert(name);
            try {
                auto bus = sdbus::createProxy(driver_->connection(), "org.freedesktop.DBus",
                                              "/org/freedesktop/DBus");
                auto call = bus->createMethodCall("org.freedesktop.DBus", "GetNameOwner");
                call << name;
                auto reply = bus->callMethod(call, std::chrono::seconds(5));
                std::string owner;
                reply >> owner;
                emitName(name, owner);
            } catch (const sdbus::Error&) {
                // Not owned now: its event comes when it appears.
            }
        }
        std::erase_if(announced_, [&](const std::string& name) { return !names.contains(name); });
    }

    void emitName(const std::string& name, const std::string& owner) {
        ++signals_;
        host_.emit("dbus-name", {"NAME=" + name, "OWNER=" + owner, std::string("BUS=") + kBus});
    }

    void onNameOwnerChanged(sdbus::Message& message) {
        if (driver_->messageNumber() == last_name_message_) {
            return;
        }
        last_name_message_ = driver_->messageNumber();
        std::string name;
        std::string old_owner;
        std::string new_owner;
        try {
            message >> name >> old_owner >> new_owner;
        } catch (const sdbus::Error&) {
            return;
        }
        if (name.empty() || name.front() == ':') {
            return;  // a connection's own unique name, not a well-known one
        }
        emitName(name, new_owner);
    }

    bool connect() {
        const std::string address = busAddress();
        address_known_ = !address.empty();
        if (address.empty()) {
            state_ = "waiting for DBUS_SESSION_BUS_ADDRESS in the global job environment";
            return false;
        }
        try {
            auto connection = sdbus::createSessionBusConnectionWithAddress(address);
            driver_ = std::make_unique<BusDriver>(host_, std::move(connection),
                                                  [this](const std::string& why) { lost(why); });
        } catch (const sdbus::Error& error) {
            if (state_ != "cannot connect to " + address) {
                host_.log(LogLevel::Warn, "cannot connect to the session bus at " + address + ": " +
                                              error.getMessage() + "; retrying every second");
            }
            state_ = "cannot connect to " + address;
            return false;
        }
        address_ = address;
        last_message_ = 0;  // the new driver counts its messages from 1
        last_name_message_ = 0;
        announced_.clear();
        state_ = "connected to " + address;
        host_.log(LogLevel::Info, "connected to the session bus at " + address);
        return true;
    }

    void lost(const std::string& why) {
        host_.log(LogLevel::Warn, "lost the session bus at " + address_ + " (" + why +
                                      "); reconnecting when it is back");
        disconnect();
        state_ = "lost " + address_ + "; reconnecting";
        sync();
    }

    void disconnect() {
        api_.reset();
        api_state_.clear();
        slots_.clear();
        driver_.reset();
    }

    void onSignal(sdbus::Message& message) {
        // Several rules can match one signal: one event per signal.
        if (driver_->messageNumber() == last_message_) {
            return;
        }
        last_message_ = driver_->messageNumber();
        std::vector<std::string> env{
            "SIGNAL=" + message.getMemberName(), "INTERFACE=" + message.getInterfaceName(),
            "OBJPATH=" + message.getPath(), "SENDER=" + message.getSender()};
        if (const std::string destination = message.getDestination(); !destination.empty()) {
            env.push_back("DESTINATION=" + destination);
        }
        const auto args = stringArguments(message);
        for (std::size_t i = 0; i < args.size(); ++i) {
            env.push_back("ARG" + std::to_string(i) + "=" + args[i]);
        }
        env.push_back(std::string("BUS=") + kBus);
        ++signals_;
        host_.emit("dbus", std::move(env));
    }

    CommandReply status() const {
        std::string text =
            "session bus: " +
            (state_.empty() ? "not needed: no job waits for D-Bus events, and the control API "
                              "is off"
                            : state_);
        if (!api_state_.empty()) {
            text += "\ncontrol API: " + api_state_;
        }
        text += "\nsignals turned into events: " + std::to_string(signals_);
        const auto wanted = wantedRules();
        text += "\nmatch rules (" + std::to_string(wanted.size()) + "):";
        for (const auto& rule : wanted) {
            const bool name_rule = rule.starts_with(kNameRule);
            text += std::string("\n  ") + (name_rule ? "dbus-name: " : "dbus: ") +
                    rule.substr(name_rule ? kNameRule.size() : kSignalRule.size()) +
                    (slots_.contains(rule) ? "" : " (not installed)");
        }
        return CommandReply{true, text, "{}"};
    }

    PluginHost& host_;
    std::map<std::string, std::set<std::string>> rules_by_job_;  // "signal RULE", "name RULE"
    std::map<std::string, std::set<std::string>> names_by_job_;
    std::set<std::string> announced_;  // names whose present owner was announced
    std::unique_ptr<BusDriver> driver_;
    std::unique_ptr<ControlApi> api_;  // before the driver goes, so declared after it
    std::string api_state_;
    bool api_wanted_ = true;
    bool kick_pending_ = false;
    std::map<std::string, sdbus::Slot> slots_;
    Registration retry_;
    std::chrono::milliseconds retry_delay_ = kRetry;
    bool address_known_ = false;
    std::vector<Registration> registrations_;
    std::string address_;
    std::string state_;
    std::uint64_t last_message_ = 0;
    std::uint64_t last_name_message_ = 0;
    std::uint64_t signals_ = 0;
    bool sync_pending_ = false;
};

std::unique_ptr<plugin::Plugin> makeDbusBridge(PluginHost& host) {
    return std::make_unique<DbusBridge>(host);
}

}  // namespace
}  // namespace tend::dbus_bridge

TEND_PLUGIN("dbus-bridge", "1.0", "", "", "", tend::dbus_bridge::makeDbusBridge)
TEND_PLUGIN_EMITS("dbus, dbus-name")
