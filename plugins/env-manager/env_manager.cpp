// SPDX-License-Identifier: MIT
// env-manager: initctl's environment commands over tend's job environment tables. Run inside a
// job's process (tendctl says which), they act on that instance's own table, so that a
// `set-env` in a pre-start reaches the main process; `--global`, or a caller outside any job,
// reaches the global table that every job starts with. It also fills the global table: the
// names of the `import` setting from tend's own environment, and the environment.d files.
// `env explain` and `env diff` say where values come from and what has gone stale. The tables
// are tend's: unloading this plugin loses nothing.
#include <tend/plugin/plugin.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "env_arguments.hpp"
#include "env_explain.hpp"
#include "environment_directory.hpp"
#include "session_import.hpp"

extern char** environ;

namespace tend::env_manager {
namespace {

using json = nlohmann::json;
using plugin::CommandCall;
using plugin::CommandReply;
using plugin::CommandResponder;
using plugin::PluginHost;

CommandReply failure(std::string text) {
    return CommandReply{false, std::move(text), "{}"};
}

CommandReply success(std::string text, const json& data) {
    return CommandReply{true, std::move(text),
                        data.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::string_view nameOf(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

std::optional<std::string> valueIn(const std::vector<std::string>& table, std::string_view name) {
    for (const auto& entry : table) {
        if (nameOf(entry) == name && entry.size() > name.size()) {
            return entry.substr(name.size() + 1);
        }
    }
    return std::nullopt;
}

// Which table a call acts on: an instance's own, or (empty job) the global one.
struct Scope {
    std::string job;
    std::string instance;
    json describe() const {
        return job.empty() ? json{{"scope", "global"}}
                           : json{{"scope", "job"}, {"job", job}, {"instance", instance}};
    }
};

class EnvManager final : public plugin::Plugin {
  public:
    explicit EnvManager(PluginHost& host) : host_(host) {}

    void start() override {
        importSession();
        const std::string dir = host_.setting("directory");
        directory_ = std::make_unique<EnvironmentDirectory>(
            host_, dir.empty() ? defaultEnvironmentDirectory() : std::filesystem::path(dir));
        directory_->start();
        serve("list-env", &EnvManager::listEnv);
        serve("get-env", &EnvManager::getEnv);
        serve("set-env", &EnvManager::setEnv);
        serve("unset-env", &EnvManager::unsetEnv);
        serve("reset-env", &EnvManager::resetEnv);
        commands_.push_back(host_.addCommand("env", [this](const std::vector<std::string>& args) {
            return envCommand(host_, args);
        }));
    }

  private:
    using Command = CommandReply (EnvManager::*)(const Scope&, const EnvArguments&);

    // tend's own environment is the session's: what it imported itself, and what the `import`
    // setting adds. A value already in the table (set since) stays.
    void importSession() {
        const auto entries = importedEntries(host_.setting("import"), environ);
        for (const auto& entry : entries) {
            plugin::EnvironmentOrigin origin;
            origin.kind = "session";
            origin.detail = "env-manager's import setting";
            if (std::string problem = host_.setEnvironmentFrom(origin, {entry}, true);
                !problem.empty()) {
                host_.log(plugin::LogLevel::Warn, "import: " + problem);
            }
        }
    }

    void serve(const char* name, Command command) {
        commands_.push_back(
            host_.serveCommand(name, [this, name = std::string(name), command](
                                         const CommandCall& call, CommandResponder reply) {
                const EnvArguments args = parseEnvArguments(name, call.args);
                if (!args.error.empty()) {
                    reply(failure(args.error));
                    return;
                }
                const Scope scope =
                    args.global ? Scope{} : Scope{call.job, call.job.empty() ? "" : call.instance};
                caller_ = &call;
                reply((this->*command)(scope, args));
                caller_ = nullptr;
            }));
    }

    std::optional<std::vector<std::string>> table(const Scope& scope) const {
        return host_.environment(scope.job, scope.instance);
    }

    CommandReply noInstance(const Scope& scope) const {
        return failure("no running instance of " + scope.job +
                       (scope.instance.empty() ? "" : " (" + scope.instance + ")") +
                       ": use --global for the global table");
    }

    CommandReply listEnv(const Scope& scope, const EnvArguments&) {
        auto entries = table(scope);
        if (!entries) {
            return noInstance(scope);
        }
        sortForListing(*entries);
        std::string text;
        for (const auto& entry : *entries) {
            text += (text.empty() ? "" : "\n") + entry;
        }
        json data = scope.describe();
        data["env"] = *entries;
        return success(std::move(text), data);
    }

    CommandReply getEnv(const Scope& scope, const EnvArguments& args) {
        if (args.operands.empty()) {
            return failure("get-env: missing variable name");
        }
        const auto entries = table(scope);
        if (!entries) {
            return noInstance(scope);
        }
        const std::string& name = args.operands.front();
        const auto value = valueIn(*entries, name);
        if (!value) {
            return failure("No such variable: " + name);
        }
        json data = scope.describe();
        data["name"] = name;
        data["value"] = *value;
        return success(*value, data);
    }

    // `change` takes every operand or none: a bad one anywhere leaves the table as it was.
    template <typename Change>
    CommandReply changeAll(const Scope& scope, const EnvArguments& args, const std::string& verb,
                           Change change) {
        if (args.operands.empty()) {
            return failure(verb + "-env: missing variable name");
        }
        if (!scope.job.empty() && !table(scope)) {
            return noInstance(scope);
        }
        if (std::string problem = change(args.operands); !problem.empty()) {
            return failure(problem);
        }
        std::vector<std::string> names;
        for (const auto& operand : args.operands) {
            names.emplace_back(nameOf(operand));
        }
        json data = scope.describe();
        data[verb] = names;
        return success("", data);
    }

    CommandReply setEnv(const Scope& scope, const EnvArguments& args) {
        plugin::EnvironmentOrigin origin;
        origin.kind = "set-env";
        origin.detail = args.global ? "--global" : "";
        if (caller_) {
            origin.job = caller_->job;
            origin.instance = caller_->job.empty() ? "" : caller_->instance;
            origin.pid = caller_->pid;
        }
        return changeAll(scope, args, "set", [&](const std::vector<std::string>& entries) {
            return host_.setEnvironmentFrom(origin, entries, args.retain, scope.job,
                                            scope.instance);
        });
    }

    CommandReply unsetEnv(const Scope& scope, const EnvArguments& args) {
        return changeAll(scope, args, "unset", [&](const std::vector<std::string>& names) {
            return host_.unsetEnvironment(names, scope.job, scope.instance);
        });
    }

    CommandReply resetEnv(const Scope& scope, const EnvArguments&) {
        if (!scope.job.empty()) {
            return failure(
                "reset-env: resetting a job's own table is not supported yet; "
                "`reset-env --global` resets the global table");
        }
        host_.resetEnvironment();
        importSession();
        directory_->afterReset();
        return success("", scope.describe());
    }

    PluginHost& host_;
    std::unique_ptr<EnvironmentDirectory> directory_;
    const CommandCall* caller_ = nullptr;  // the call being answered, for set-env's origin
    std::vector<plugin::Registration> commands_;
};

std::unique_ptr<plugin::Plugin> makeEnvManager(PluginHost& host) {
    return std::make_unique<EnvManager>(host);
}

}  // namespace
}  // namespace tend::env_manager

TEND_PLUGIN("env-manager", "1.0", "", "", "", tend::env_manager::makeEnvManager)
