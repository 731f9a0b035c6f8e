// SPDX-License-Identifier: MIT
#include "control/command_handlers.hpp"

#include "dispatch/supervisor.hpp"

namespace tend::control {

const std::unordered_map<std::string_view, CommandHandler>& commandHandlers() {
    static const std::unordered_map<std::string_view, CommandHandler> table{
        {"start", &commands::changeGoal},
        {"stop", &commands::stop},
        {"restart", &commands::changeGoal},
        {"reload", &commands::signalReload},
        {"status", &commands::status},
        {"list", &commands::list},
        {"usage", &commands::usage},
        {"explain", &commands::explain},
        {"log", &commands::logFile},
        {"emit", &commands::emit},
        {"monitor", &commands::monitor},
        {"reload-configuration", &commands::rescanJobFiles},
        {"show-config", &commands::showConfig},
        {"check-config", &commands::checkConfig},
        {"graph", &commands::graph},
        {"log-priority", &commands::logPriority},
        {"plugins", &commands::plugins},
        {"version", &commands::version},
        {"reexec", &commands::reexec},
    };
    return table;
}

const dispatch::ClassEntry* needJob(CommandContext& c, const Request& request,
                                    const Replier& reply) {
    if (request.args.empty()) {
        reply(errorReply("missing-argument", "missing job name"));
        return nullptr;
    }
    const dispatch::ClassEntry* entry = c.supervisor.findClass(request.args.front());
    if (!entry) {
        reply(errorReply("unknown-job", "Unknown job: " + request.args.front()));
    }
    return entry;
}

}  // namespace tend::control
