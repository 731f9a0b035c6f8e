// SPDX-License-Identifier: MIT
#include "bus_link.hpp"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <map>

#include "interrupted_calls.hpp"
#include "sys_events.hpp"

namespace tend::dbus_bridge {

using plugin::LogLevel;

namespace {

constexpr std::chrono::milliseconds kRetry = std::chrono::seconds(1);
constexpr std::chrono::milliseconds kRetryMax = std::chrono::seconds(30);

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

std::string tagOf(const std::string& rule) {
    return rule.substr(0, rule.find(' '));
}

}  // namespace

BusLink::BusLink(plugin::PluginHost& host, std::string bus, Hooks hooks)
    : host_(host), bus_(std::move(bus)), hooks_(std::move(hooks)), retry_delay_(kRetry) {}

BusLink::~BusLink() {
    *alive_ = false;
    disconnect();
}

void BusLink::want(std::set<std::string> rules, std::set<std::string> names, bool keep_connected) {
    rules_ = std::move(rules);
    names_ = std::move(names);
    keep_connected_ = keep_connected;
    syncSoon();
}

void BusLink::lookAgain() {
    // Called for every event: only a look, never a copy of what the jobs want (with 1,000 jobs
    // waiting for signals, copying their rules here was most of what an event cost tend).
    if (!driver_ && !address_known_ && (keep_connected_ || !rules_.empty())) {
        syncSoon();
    }
}

void BusLink::syncSoon() {
    // Class changes come in bursts (a reload), events too: one sync after each burst.
    if (!sync_pending_) {
        sync_pending_ = true;
        host_.post([this, alive = std::weak_ptr<bool>(alive_)] {
            if (!alive.expired()) {
                sync_pending_ = false;
                sync();
            }
        });
    }
}

void BusLink::sync() {
    if (rules_.empty() && !keep_connected_) {
        disconnect();
        retry_.reset();
        state_.clear();
        return;
    }
    if (!driver_ && !connect()) {
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
        it = rules_.contains(it->first) ? std::next(it) : slots_.erase(it);
    }
    bool rule_failed = false;
    for (const auto& rule : rules_) {
        if (slots_.contains(rule)) {
            continue;
        }
        const std::string tag = tagOf(rule);
        try {
            slots_.emplace(rule, retryInterrupted([&] {
                               return connection().addMatch(rule.substr(tag.size() + 1),
                                                            [this, tag](sdbus::Message& message) {
                                                                onMessage(tag, message);
                                                            });
                           }));
        } catch (const sdbus::Error& error) {
            host_.log(LogLevel::Warn, "cannot add match rule " + rule + " on the " + bus_ +
                                          " bus: " + error.getMessage() + "; trying again later");
            rule_failed = true;
        }
    }
    if (rule_failed) {
        // Nothing else would look again while the jobs want the same rules.
        retry_ = host_.addTimer(retry_delay_, [this] {
            retry_ = {};
            retry_delay_ = std::min(retry_delay_ * 2, kRetryMax);
            sync();
        });
    }
    announceOwners();
    driver_->kick();
}

namespace {

// Whether a client connection to `address` can be opened, and why not. sdbus-c++ 1.2 leaks the
// sd_bus it made when that fails (1.8 KB a try, while the session bus is gone), so the first
// try is made here, where a failure frees what it made.
std::string busUnreachable(const std::string& address) {
    const auto tryOnce = [&] {
        sd_bus* bus = nullptr;
        int r = sd_bus_new(&bus);
        if (r >= 0) {
            r = sd_bus_set_address(bus, address.c_str());
        }
        if (r >= 0) {
            r = sd_bus_set_bus_client(bus, 1);
        }
        if (r >= 0) {
            r = sd_bus_start(bus);
        }
        sd_bus_close_unref(bus);
        return r;
    };
    int r = tryOnce();
    for (int attempt = 1; r == -EINTR && attempt < kInterruptedTries; ++attempt) {
        r = tryOnce();
    }
    return r < 0 ? std::string("Failed to open bus (") + std::strerror(-r) + ")" : "";
}

}  // namespace

bool BusLink::connect() {
    const std::string address = hooks_.address();
    address_known_ = !address.empty();
    if (address.empty()) {
        state_ = "waiting for " + hooks_.waiting_for;
        return false;
    }
    const auto cannotConnect = [&](const std::string& why) {
        if (state_ != "cannot connect to " + address) {
            host_.log(LogLevel::Warn, "cannot connect to the " + bus_ + " bus at " + address +
                                          ": " + why + "; trying again later");
        }
        state_ = "cannot connect to " + address;
        return false;
    };
    if (const std::string why = busUnreachable(address); !why.empty()) {
        return cannotConnect(why);
    }
    try {
        // Any bus at a known address: the session's, or the system's (which tests replace).
        auto connection =
            retryInterrupted([&] { return sdbus::createSessionBusConnectionWithAddress(address); });
        driver_ = std::make_unique<BusDriver>(host_, std::move(connection),
                                              [this](const std::string& why) { lost(why); });
    } catch (const sdbus::Error& error) {
        return cannotConnect(error.getMessage());
    }
    address_ = address;
    last_message_.clear();  // the new driver counts its messages from 1
    announced_.clear();
    state_ = "connected to " + address;
    host_.log(LogLevel::Info, "connected to the " + bus_ + " bus at " + address);
    if (bus_ == "system" && std::any_of(rules_.begin(), rules_.end(), [](const std::string& rule) {
            return rule.starts_with("unit ");
        })) {
        // systemd sends its units' changes only to subscribers; a system without it has none.
        // Asynchronous: the loop must not wait on systemd.
        try {
            systemd_ = sdbus::createProxy(connection(), "org.freedesktop.systemd1",
                                          "/org/freedesktop/systemd1");
            systemd_->callMethodAsync("Subscribe")
                .onInterface("org.freedesktop.systemd1.Manager")
                .uponReplyInvoke([](const sdbus::Error*) {});
        } catch (const sdbus::Error&) {
        }
    }
    if (hooks_.connected) {
        hooks_.connected(*this);
    }
    return true;
}

void BusLink::lost(const std::string& why) {
    host_.log(LogLevel::Warn, "lost the " + bus_ + " bus at " + address_ + " (" + why +
                                  "); reconnecting when it is back");
    disconnect();
    state_ = "lost " + address_ + "; reconnecting";
    sync();
}

void BusLink::disconnect() {
    if (driver_ && hooks_.disconnecting) {
        hooks_.disconnecting();
    }
    slots_.clear();
    systemd_.reset();
    driver_.reset();
}

void BusLink::kickSoon() {
    if (!kick_pending_) {
        kick_pending_ = true;
        host_.post([this, alive = std::weak_ptr<bool>(alive_)] {
            if (alive.expired()) {
                return;
            }
            kick_pending_ = false;
            if (driver_) {
                driver_->kick();
            }
        });
    }
}

// A name a job waits for that is owned already, when the bridge starts asking about it, is
// announced as if it had just appeared (as file-bridge announces a file that exists).
void BusLink::announceOwners() {
    for (const auto& name : names_) {
        if (!announced_.insert(name).second) {
            continue;
        }
        try {
            auto bus =
                sdbus::createProxy(connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus");
            std::string owner;
            bus->callMethod("GetNameOwner")
                .onInterface("org.freedesktop.DBus")
                .withTimeout(std::chrono::seconds(5))
                .withArguments(name)
                .storeResultsTo(owner);
            emit("dbus-name", {"NAME=" + name, "OWNER=" + owner});
        } catch (const sdbus::Error&) {
            // Not owned now: its event comes when it appears.
        }
    }
    std::erase_if(announced_, [&](const std::string& name) { return !names_.contains(name); });
}

void BusLink::emit(std::string event, std::vector<std::string> env) {
    ++events_;
    if (!event.starts_with(":sys:")) {
        env.push_back("BUS=" + bus_);
    }
    host_.emit(std::move(event), std::move(env));
}

void BusLink::onMessage(const std::string& tag, sdbus::Message& message) {
    // Several rules can match one signal: one event per signal and kind.
    auto& last = last_message_[tag];
    if (last == driver_->messageNumber()) {
        return;
    }
    last = driver_->messageNumber();
    try {
        if (tag == "signal") {
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
            emit("dbus", std::move(env));
        } else if (tag == "name") {
            std::string name, old_owner, new_owner;
            message >> name >> old_owner >> new_owner;
            if (!name.empty() && name.front() != ':') {  // not a connection's unique name
                emit("dbus-name", {"NAME=" + name, "OWNER=" + new_owner});
            }
        } else if (tag == "unit") {
            std::string interface;
            std::map<std::string, sdbus::Variant> changed;
            message >> interface >> changed;
            const auto state = changed.find("ActiveState");
            const std::string unit = unitOfPath(message.getPath());
            if (state == changed.end() || unit.empty()) {
                return;
            }
            const std::string now = state->second.get<std::string>();
            std::string& before = unit_states_[unit];
            if (now == before) {
                return;
            }
            before = now;
            if (now == "active") {
                emit(":sys:started", {"UNIT=" + unit});
            } else if (now == "inactive" || now == "failed") {
                emit(":sys:stopped", {"UNIT=" + unit, std::string("RESULT=") +
                                                          (now == "failed" ? "failed" : "done")});
            }
        } else if (tag == "sleep") {
            bool sleeping = false;
            message >> sleeping;
            emit(sleeping ? ":sys:suspend" : ":sys:resume", {});
        } else if (tag == "lock") {
            emit(message.getMemberName() == "Lock" ? ":sys:lock" : ":sys:unlock", {});
        } else if (tag == "network") {
            std::uint32_t state = 0;
            message >> state;
            if (state == 70) {
                emit(":sys:network-online", {"STATE=" + std::to_string(state)});
            } else if (state <= 20) {
                emit(":sys:network-offline", {"STATE=" + std::to_string(state)});
            }
        }
    } catch (const sdbus::Error& error) {
        host_.log(LogLevel::Debug, "a " + tag + " signal on the " + bus_ +
                                       " bus was not what it should be: " + error.getMessage());
    }
}

std::string BusLink::status() const {
    std::string text = bus_ + " bus: " + (state_.empty() ? "not needed" : state_);
    text += "\n  events from it: " + std::to_string(events_);
    text += "\n  match rules (" + std::to_string(rules_.size()) + "):";
    for (const auto& rule : rules_) {
        const std::string tag = tagOf(rule);
        text += "\n    " + tag + ": " + rule.substr(tag.size() + 1) +
                (slots_.contains(rule) ? "" : " (not installed)");
    }
    return text;
}

}  // namespace tend::dbus_bridge
