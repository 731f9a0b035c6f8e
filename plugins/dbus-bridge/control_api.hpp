// SPDX-License-Identifier: MIT
// tend's control API on the session bus (org.tend.Manager1.xml): the name org.tend.Manager1,
// the object /org/tend/Manager. Each method runs the tendctl command of its name through the
// host's runControlCommand, so the bus and tendctl can never differ, and answers later, from the
// loop. Only callers of tend's own uid are served, as on the control socket. Every job state
// change is the JobChanged signal.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <tend/plugin/plugin.hpp>

#include "manager1_adaptor.h"

namespace tend::dbus_bridge {

inline constexpr const char* kManagerName = "org.tend.Manager1";
inline constexpr const char* kManagerPath = "/org/tend/Manager";

// The object and its adaptor: the object must exist before the adaptor registers on it.
struct ManagerObject {
    explicit ManagerObject(sdbus::IConnection& connection)
        : object(sdbus::createObject(connection, kManagerPath)) {}
    std::unique_ptr<sdbus::IObject> object;
};

class ControlApi final : private ManagerObject, public org::tend::Manager1_adaptor {
  public:
    // `kick` runs after a reply or a signal goes out from outside the bus's own callbacks.
    ControlApi(sdbus::IConnection& connection, plugin::PluginHost& host,
               std::function<void()> kick);
    ~ControlApi();

    // Queued, and sent once tend has done what the change belongs to: a job's start goes
    // through four states before its process is spawned, and four signals sent on the way
    // would delay it.
    void jobChanged(const plugin::JobChange& change);

  private:
    struct Change {
        std::string job;
        std::string instance;
        std::string goal;
        std::string state;
        int main_pid;
    };
    void sendChanges();
    // The uid of the caller of the method being served, asked of the bus once per caller: a
    // unique name is never given to another connection while the bus lives.
    uid_t callerUid();

    using Reply = sdbus::Result<std::string, std::string>;
    // Runs `command` for the caller of the method being served.
    void run(Reply&& reply, std::string command, std::vector<std::string> args);

    void Start(Reply&& r, std::string job, std::vector<std::string> env) override;
    void Stop(Reply&& r, std::string job, std::vector<std::string> env) override;
    void Restart(Reply&& r, std::string job, std::vector<std::string> env) override;
    void Status(Reply&& r, std::string job, std::vector<std::string> env) override;
    void List(Reply&& r) override;
    void Emit(Reply&& r, std::string event, std::vector<std::string> env) override;
    void ListEnv(Reply&& r) override;
    void GetEnv(Reply&& r, std::string name) override;
    void SetEnv(Reply&& r, std::string entry) override;
    void UnsetEnv(Reply&& r, std::string name) override;
    void ReloadConfiguration(Reply&& r) override;
    void Run(Reply&& r, std::string command, std::vector<std::string> args) override;

    plugin::PluginHost& host_;
    std::function<void()> kick_;
    std::vector<Change> changes_;
    bool changes_posted_ = false;
    std::unordered_map<std::string, uid_t> caller_uids_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "unknown-job" -> "org.tend.Manager1.Error.UnknownJob".
std::string errorName(const std::string& code);

}  // namespace tend::dbus_bridge
