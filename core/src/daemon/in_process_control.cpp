// SPDX-License-Identifier: MIT
#include "daemon/in_process_control.hpp"

#include <unistd.h>

#include <memory>
#include <string>

#include "control/command_table.hpp"
#include "control/control_server.hpp"
#include "control/protocol.hpp"

namespace tend::daemon {

namespace {

// A plugin's control request, answered as tendctl's would be: the server sees a client of tend's
// own uid and pid, and the first reply that is not progress is the answer. Commands that stream
// are refused, since a plugin has no connection to hold.
class InProcessClient : public control::Client {
  public:
    explicit InProcessClient(std::function<void(nlohmann::json)> reply)
        : reply_(std::move(reply)) {}
    void send(const nlohmann::json& message) override {
        if (answered_ || !message.contains("ok")) {
            return;
        }
        answered_ = true;
        reply_(message);
    }
    control::Peer peer() const override {
        return {static_cast<unsigned>(::geteuid()), static_cast<int>(::getpid())};
    }

  private:
    std::function<void(nlohmann::json)> reply_;
    bool answered_ = false;
};

}  // namespace

void runInProcess(control::ControlServer& server, nlohmann::json request,
                  std::function<void(nlohmann::json)> reply) {
    const std::string command = request.value("command", "");
    for (const auto& spec : control::commandTable()) {
        if (spec.name == command && spec.mode == control::ClientMode::Stream) {
            reply(control::errorReply("bad-request",
                                      "'" + command + "' streams; a plugin cannot hold it"));
            return;
        }
    }
    request["wait"] = !request["options"].value("no_wait", false);
    server.handle(request.dump(), std::make_shared<InProcessClient>(std::move(reply)));
}

}  // namespace tend::daemon
