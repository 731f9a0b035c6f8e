// SPDX-License-Identifier: MIT
// The event commands: emit (waiting for the jobs the event starts or stops), and monitor, which
// streams every event and job change to the client while it stays.
#include "control/command_handlers.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::control {

using json = nlohmann::json;

namespace commands {

void emit(CommandContext& c, Request& request, const Replier& reply,
          const std::shared_ptr<Client>&) {
    const auto& args = request.args;
    if (args.empty() || args.front().empty()) {
        reply(errorReply("missing-argument", "missing event name"));
        return;
    }
    model::Environment env;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i].find('=') == std::string::npos || args[i].front() == '=') {
            reply(errorReply("bad-environment", "Env must be KEY=VALUE pairs"));
            return;
        }
        env.setEntry(args[i]);
    }
    const std::string name = args.front();
    dispatch::Completion done;
    if (request.wait) {
        done = [reply, name](bool failed, const std::string& detail) {
            if (failed) {
                reply(errorReply(
                    "event-failed",
                    "Event failed" + (detail.empty() ? std::string() : " (" + detail + ")")));
            } else {
                reply(okReply("", json{{"event", name}}));
            }
        };
    }
    c.supervisor.emit(name, std::move(env), done);
    c.supervisor.poll();
    if (!request.wait) {
        reply(okReply("", json{{"event", name}}));
    }
}

void monitor(CommandContext& c, Request&, const Replier& reply,
             const std::shared_ptr<Client>& client) {
    c.monitors.push_back(client);
    reply(okReply("", json{{"monitoring", true}}));
}

}  // namespace commands

}  // namespace tend::control
