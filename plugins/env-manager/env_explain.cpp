// SPDX-License-Identifier: MIT
#include "env_explain.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

namespace tend::env_manager {

namespace {

using json = nlohmann::json;
using plugin::CommandReply;
using plugin::EnvironmentOrigin;

constexpr const char* kUsage =
    "usage: tendctl env explain VAR [JOB [INSTANCE]]\n"
    "       tendctl env diff JOB [INSTANCE]";

CommandReply failure(std::string text) {
    return CommandReply{false, std::move(text), "{}"};
}

CommandReply success(std::string text, const json& data) {
    return CommandReply{true, std::move(text),
                        data.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::string localTime(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm parts{};
    ::localtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
    return text;
}

std::optional<std::string> valueIn(const std::vector<std::string>& table, std::string_view name) {
    for (const auto& entry : table) {
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
            entry[name.size()] == '=') {
            return entry.substr(name.size() + 1);
        }
    }
    return std::nullopt;
}

std::string instanceText(const std::string& job, const std::string& instance) {
    return instance.empty() ? job : job + " (" + instance + ")";
}

json originJson(const EnvironmentOrigin& origin) {
    json out{{"kind", origin.kind}, {"detail", origin.detail}};
    if (!origin.job.empty()) {
        out["job"] = origin.job;
        out["instance"] = origin.instance;
    }
    if (origin.pid) {
        out["pid"] = origin.pid;
    }
    if (origin.time.time_since_epoch().count()) {
        out["time"] = localTime(origin.time);
    }
    return out;
}

CommandReply explain(plugin::PluginHost& host, const std::vector<std::string>& args) {
    if (args.size() < 2 || args.size() > 4) {
        return failure(kUsage);
    }
    const std::string& name = args[1];
    const std::string job = args.size() > 2 ? args[2] : "";
    const std::string instance = args.size() > 3 ? args[3] : "";
    const auto table = host.environment(job, instance);
    if (!table) {
        return failure("no running instance of " + instanceText(job, instance));
    }
    const auto value = valueIn(*table, name);
    const auto origin = host.environmentOrigin(name, job, instance);
    if (!value || !origin) {
        return failure("No such variable: " + name);
    }
    std::string text = name + "=" + *value + "\n  " + describeOrigin(*origin);
    json data{{"name", name}, {"value", *value}, {"origin", originJson(*origin)}};
    data["scope"] = job.empty() ? "global" : "job";
    if (!job.empty()) {
        data["job"] = job;
        data["instance"] = instance;
        const auto drift =
            host.environmentDrift(job, instance).value_or(std::vector<std::string>());
        const auto now = valueIn(host.environment().value_or(std::vector<std::string>()), name);
        bool stale = false;
        for (const auto& line : drift) {
            stale = stale || line.substr(1, line.find('=') - 1) == name;
        }
        if (stale) {
            text += now ? "\n  stale: the global table has " + name + "=" + *now + " since " + job +
                              "'s main process started"
                        : "\n  stale: the global table has no " + name + " since " + job +
                              "'s main process started";
            data["global_value"] = now ? json(*now) : json(nullptr);
        }
        data["stale"] = stale;
    }
    return success(std::move(text), data);
}

CommandReply diff(plugin::PluginHost& host, const std::vector<std::string>& args) {
    if (args.size() < 2 || args.size() > 3) {
        return failure(kUsage);
    }
    const std::string& job = args[1];
    const std::string instance = args.size() > 2 ? args[2] : "";
    const auto drift = host.environmentDrift(job, instance);
    if (!drift) {
        return failure("no running instance of " + instanceText(job, instance));
    }
    std::string text;
    for (const auto& line : *drift) {
        text += (text.empty() ? "" : "\n") + line;
    }
    return success(std::move(text), json{{"job", job}, {"instance", instance}, {"diff", *drift}});
}

}  // namespace

std::string describeOrigin(const EnvironmentOrigin& origin) {
    const std::string when =
        origin.time.time_since_epoch().count() ? ", at " + localTime(origin.time) : "";
    if (origin.kind == "session") {
        return origin.detail.empty()
                   ? "imported from tend's own environment (the session's), at start"
                   : "imported from tend's own environment (" + origin.detail + ")" + when;
    }
    if (origin.kind == "environment.d") {
        return "from the environment.d file " + origin.detail + when;
    }
    if (origin.kind == "set-env") {
        const std::string by = origin.job.empty()
                                   ? "outside any job"
                                   : "by job " + instanceText(origin.job, origin.instance);
        return "from set-env" + (origin.detail.empty() ? "" : " " + origin.detail) + ", run " + by +
               (origin.pid ? " (pid " + std::to_string(origin.pid) + ")" : "") + when;
    }
    if (origin.kind == "env stanza") {
        return "from the job's env stanza: " + origin.detail;
    }
    if (origin.kind == "event") {
        return "from the event '" + origin.detail + "' that started the job" + when;
    }
    if (origin.kind == "start") {
        return "from the start command's KEY=VALUE arguments" + when;
    }
    if (origin.kind == "plugin") {
        return "set by plugin " + origin.detail + when;
    }
    return "set while the job ran; where from is not known";
}

CommandReply envCommand(plugin::PluginHost& host, const std::vector<std::string>& args) {
    if (!args.empty() && args.front() == "explain") {
        return explain(host, args);
    }
    if (!args.empty() && args.front() == "diff") {
        return diff(host, args);
    }
    return failure(kUsage);
}

}  // namespace tend::env_manager
