// SPDX-License-Identifier: MIT
#include "control_api.hpp"

#include <unistd.h>

#include <cctype>

namespace tend::dbus_bridge {

namespace {

constexpr std::size_t kMaxCallersKept = 1024;

// The code from a refusal's JSON ({"code":"unknown-job",...}), without a JSON library.
std::string codeOf(const std::string& json) {
    const std::string key = "\"code\":\"";
    const auto at = json.find(key);
    if (at == std::string::npos) {
        return "failed";
    }
    const auto start = at + key.size();
    return json.substr(start, json.find('"', start) - start);
}

std::vector<std::string> withFront(std::string front, std::vector<std::string> rest) {
    rest.insert(rest.begin(), std::move(front));
    return rest;
}

}  // namespace

std::string errorName(const std::string& code) {
    std::string name = "org.tend.Manager1.Error.";
    bool upper = true;
    for (char c : code) {
        if (!std::isalnum(static_cast<unsigned char>(c))) {
            upper = true;
            continue;
        }
        name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    return name;
}

ControlApi::ControlApi(sdbus::IConnection& connection, plugin::PluginHost& host,
                       std::function<void()> kick)
    : ManagerObject(connection), Manager1_adaptor(*object), host_(host), kick_(std::move(kick)) {
    object->finishRegistration();
}

ControlApi::~ControlApi() {
    *alive_ = false;
    object->unregister();
}

uid_t ControlApi::callerUid() {
    const sdbus::Message* call = object->getCurrentlyProcessedMessage();
    if (!call) {
        return static_cast<uid_t>(-1);
    }
    const std::string sender = call->getSender();
    if (const auto known = caller_uids_.find(sender); known != caller_uids_.end()) {
        return known->second;
    }
    uid_t uid = static_cast<uid_t>(-1);
    try {
        uid = call->getCredsUid();
    } catch (const sdbus::Error&) {
        return uid;  // not kept: the bus may answer the next time
    }
    if (caller_uids_.size() >= kMaxCallersKept) {
        caller_uids_.clear();  // callers come and go; those still calling are asked again
    }
    caller_uids_.emplace(sender, uid);
    return uid;
}

void ControlApi::run(Reply&& reply, std::string command, std::vector<std::string> args) {
    if (callerUid() != ::geteuid()) {
        reply.returnError(sdbus::Error(
            "org.freedesktop.DBus.Error.AccessDenied",
            "tend serves only its own user (uid " + std::to_string(::geteuid()) + ")"));
        return;
    }
    auto pending = std::make_shared<Reply>(std::move(reply));
    host_.runControlCommand(
        std::move(command), std::move(args), "{}",
        [pending, alive = std::weak_ptr<bool>(alive_),
         kick = kick_](const plugin::CommandReply& answer) {
            if (alive.expired()) {
                return;  // the connection went: nobody to answer
            }
            try {
                if (answer.ok) {
                    pending->returnResults(answer.text, answer.json);
                } else {
                    pending->returnError(sdbus::Error(errorName(codeOf(answer.json)), answer.text));
                }
            } catch (const sdbus::Error&) {
                // The bus went while the command ran: nobody to answer. The link notices the
                // disconnection itself and looks for the bus again.
            }
            kick();
        });
}

void ControlApi::jobChanged(const plugin::JobChange& change) {
    changes_.push_back({std::string(change.job), std::string(change.instance),
                        std::string(change.goal), std::string(change.state), change.main_pid});
    if (changes_posted_) {
        return;
    }
    changes_posted_ = true;
    host_.post([this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.expired()) {
            sendChanges();
        }
    });
}

void ControlApi::sendChanges() {
    changes_posted_ = false;
    std::vector<Change> changes;
    changes.swap(changes_);
    try {
        for (auto& change : changes) {
            emitJobChanged(change.job, change.instance, change.goal, change.state, change.main_pid);
        }
    } catch (const sdbus::Error&) {
        // The bus is gone (at logout the session's dbus job stops before tend): the signals have
        // nobody to reach, and the link notices the disconnection and looks for the bus again.
    }
    kick_();
}

void ControlApi::Start(Reply&& r, std::string job, std::vector<std::string> env) {
    run(std::move(r), "start", withFront(std::move(job), std::move(env)));
}
void ControlApi::Stop(Reply&& r, std::string job, std::vector<std::string> env) {
    run(std::move(r), "stop", withFront(std::move(job), std::move(env)));
}
void ControlApi::Restart(Reply&& r, std::string job, std::vector<std::string> env) {
    run(std::move(r), "restart", withFront(std::move(job), std::move(env)));
}
void ControlApi::Status(Reply&& r, std::string job, std::vector<std::string> env) {
    run(std::move(r), "status", withFront(std::move(job), std::move(env)));
}
void ControlApi::List(Reply&& r) {
    run(std::move(r), "list", {});
}
void ControlApi::Emit(Reply&& r, std::string event, std::vector<std::string> env) {
    run(std::move(r), "emit", withFront(std::move(event), std::move(env)));
}
void ControlApi::ListEnv(Reply&& r) {
    run(std::move(r), "list-env", {"--global"});
}
void ControlApi::GetEnv(Reply&& r, std::string name) {
    run(std::move(r), "get-env", {"--global", std::move(name)});
}
void ControlApi::SetEnv(Reply&& r, std::string entry) {
    run(std::move(r), "set-env", {"--global", std::move(entry)});
}
void ControlApi::UnsetEnv(Reply&& r, std::string name) {
    run(std::move(r), "unset-env", {"--global", std::move(name)});
}
void ControlApi::ReloadConfiguration(Reply&& r) {
    run(std::move(r), "reload-configuration", {});
}
void ControlApi::Run(Reply&& r, std::string command, std::vector<std::string> args) {
    run(std::move(r), std::move(command), std::move(args));
}

}  // namespace tend::dbus_bridge
