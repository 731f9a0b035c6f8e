// SPDX-License-Identifier: MIT
// The configuration commands and tend itself: show-config, check-config, reload-configuration
// (read the job files again), graph, log-priority, plugins and version.
#include <spdlog/spdlog.h>
#include <filesystem>
#include <tuple>
#include <variant>

#include "conf/check.hpp"
#include "conf/search_path.hpp"
#include "control/background_check.hpp"
#include "control/command_handlers.hpp"
#include "control/job_graph.hpp"
#include "control/show_config.hpp"
#include "dispatch/supervisor.hpp"
#include "store/job_store.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;

namespace {

std::string upstartPriorityName(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return "debug";
    case spdlog::level::info:
        return "info";
    case spdlog::level::warn:
        return "warn";
    case spdlog::level::err:
        return "error";
    case spdlog::level::critical:
    case spdlog::level::off:
    default:
        return "fatal";
    }
}

std::optional<spdlog::level::level_enum> parsePriority(std::string_view name) {
    if (name == "debug" || name == "trace") {
        return spdlog::level::debug;
    }
    if (name == "info" || name == "message") {
        return spdlog::level::info;
    }
    if (name == "warn" || name == "warning") {
        return spdlog::level::warn;
    }
    if (name == "error") {
        return spdlog::level::err;
    }
    if (name == "fatal" || name == "critical") {
        return spdlog::level::critical;
    }
    return std::nullopt;
}

// `check-config` against this tend's own stanzas, plugins' included, and its own search path:
// what `tendctl check-config` asks for when a tend is running. Relative paths are the client's,
// resolved against the working directory it sends, and reported the way it gave them.
struct CheckRequest {
    std::vector<std::filesystem::path> paths;
    conf::CheckOptions options;
    std::filesystem::path cwd;
    std::vector<std::filesystem::path> given;  // the relative paths, as the client wrote them
    bool warnings_fail = false;
};

// The check a request asks for, or the error reply that refuses it.
std::variant<CheckRequest, json> checkRequest(const Request& request,
                                              const ControlContext& context) {
    store::JobStore* store = context.store;
    if (!store) {
        return errorReply("unavailable", "this tend has no job directories to check against");
    }
    CheckRequest check;
    conf::CheckOptions& options = check.options;
    options.lint = true;
    for (const auto& [key, what, out] :
         {std::tuple{"ignore-events", "events", &options.assumed_events},
          std::tuple{"provided-jobs", "jobs", &options.provided_jobs}}) {
        const auto list = request.options.find(key);
        if (list == request.options.end()) {
            continue;
        }
        const std::string wrong = std::string("option '") + key + "' must be a list of " + what;
        if (!list->is_array()) {
            return errorReply("bad-request", wrong);
        }
        for (const auto& item : *list) {
            if (!item.is_string()) {
                return errorReply("bad-request", wrong);
            }
            out->push_back(item.get<std::string>());
        }
    }
    if (context.plugin_events) {
        options.loaded_plugins = context.plugin_events();
    }
    if (const auto it = request.options.find("cwd"); it != request.options.end()) {
        if (!it->is_string() || !std::filesystem::path(it->get<std::string>()).is_absolute()) {
            return errorReply("bad-request", "option 'cwd' must be an absolute path");
        }
        check.cwd = it->get<std::string>();
    }
    for (const auto& arg : request.args) {
        std::filesystem::path path(arg);
        if (path.is_relative()) {
            if (check.cwd.empty()) {
                return errorReply("bad-argument",
                                  "relative path '" + arg + "' without the option 'cwd'");
            }
            check.given.push_back(path);
            path = check.cwd / path;
        }
        check.paths.push_back(std::move(path));
    }
    std::vector<std::filesystem::path> session = conf::existingDirectories(store->directories());
    if (check.paths.empty()) {
        check.paths = std::move(session);
    } else {
        options.context = std::move(session);
    }
    check.warnings_fail = flag(request, "warn");
    return check;
}

}  // namespace

namespace commands {

void showConfig(CommandContext& c, Request& request, const Replier& reply,
                const std::shared_ptr<Client>&) {
    const bool enumerate = flag(request, "enumerate");
    std::string out;
    json jobs = json::array();
    if (!request.args.empty()) {
        const ClassEntry* entry = needJob(c, request, reply);
        if (!entry) {
            return;
        }
        out = showConfigText(*entry->cls, enumerate);
        jobs.push_back(showConfigJson(*entry->cls));
    } else {
        for (const ClassEntry* entry : c.supervisor.classes()) {
            out += showConfigText(*entry->cls, enumerate) + "\n";
            jobs.push_back(showConfigJson(*entry->cls));
        }
        if (!out.empty()) {
            out.pop_back();
        }
    }
    reply(okReply(std::move(out), json{{"jobs", std::move(jobs)}}));
}

void checkConfig(CommandContext& c, Request& request, const Replier& reply,
                 const std::shared_ptr<Client>&) {
    auto asked = checkRequest(request, c.context);
    if (const auto* refused = std::get_if<json>(&asked)) {
        reply(*refused);
        return;
    }
    auto& check = std::get<CheckRequest>(asked);
    auto answer = [reply, cwd = check.cwd, given = check.given,
                   warnings_fail = check.warnings_fail](conf::CheckReport report) {
        report.showPathsAsGiven(cwd, given);
        const bool failed = report.failed(warnings_fail);
        reply(okReply(report.text(),
                      json{{"failed", failed}, {"report", report.document(warnings_fail)}}));
    };
    if (c.checks) {
        c.checks->run(std::move(check.paths), std::move(check.options), std::move(answer));
    } else {
        answer(conf::checkPaths(check.paths, c.context.store->registry(), check.options));
    }
}

void rescanJobFiles(CommandContext& c, Request& request, const Replier& reply,
                    const std::shared_ptr<Client>&) {
    if (!c.context.store) {
        reply(errorReply("unavailable", "this tend has no job directories to reload"));
        return;
    }
    const bool progress = flag(request, "progress");
    std::size_t last_percent = 0;
    store::RescanOptions options;
    options.dry_run = flag(request, "dry_run");
    options.progress = [&](std::size_t done, std::size_t total) {
        const std::size_t percent = total ? done * 100 / total : 100;
        if (progress && (percent != last_percent || done == total)) {
            last_percent = percent;
            reply(json{
                {"protocol", kProtocolVersion},
                {"progress", {{"what", "reading job files"}, {"done", done}, {"total", total}}}});
        }
    };
    if (!options.dry_run && c.context.rescan_plugins) {
        // First, so that job files using a new plugin's stanzas parse in this same reload.
        c.context.rescan_plugins();
    }
    const store::RescanReport report = c.context.store->rescan(options);
    if (!options.dry_run) {
        store::logRescan(*c.context.logger, "reload-configuration", report);
        c.supervisor.poll();
    }
    json plan = json::array();
    for (const auto& step : report.plan) {
        static constexpr const char* kKinds[] = {"added", "changed", "removed", "kept_last_good",
                                                 "pending_removal"};
        plan.push_back({{"kind", kKinds[static_cast<int>(step.kind)]},
                        {"job", step.job},
                        {"detail", step.detail}});
    }
    json data{{"dry_run", report.dry_run},     {"files", report.files},
              {"parsed", report.parsed},       {"added", report.added},
              {"changed", report.changed},     {"removed", report.removed},
              {"kept_last_good", report.kept}, {"unchanged", report.unchanged},
              {"errors", report.errors},       {"plan", std::move(plan)}};
    reply(okReply(report.planText() + "\n" + report.summary(), std::move(data)));
}

void graph(CommandContext& c, Request&, const Replier& reply, const std::shared_ptr<Client>&) {
    Graph graph = jobGraph(c.supervisor);
    reply(okReply(std::move(graph.dot), std::move(graph.json)));
}

void logPriority(CommandContext& c, Request& request, const Replier& reply,
                 const std::shared_ptr<Client>&) {
    if (!request.args.empty()) {
        const std::string& name = request.args.front();
        const auto level = parsePriority(name);
        if (!level) {
            reply(errorReply("bad-argument", "unknown priority '" + name +
                                                 "': use debug, info, message, warn, error or "
                                                 "fatal"));
            return;
        }
        c.context.logger->set_level(*level);
        c.context.logger->info("log priority set to {}", name);
        // Upstart's `message` shares tend's info level but reads back by its own name.
        c.priority_name = name == "message" ? "message" : upstartPriorityName(*level);
        reply(okReply("", json{{"priority", c.priority_name}}));
        return;
    }
    std::string current = upstartPriorityName(c.context.logger->level());
    if (c.priority_name == "message" && current == "info") {
        current = c.priority_name;
    }
    reply(okReply(current, json{{"priority", current}}));
}

void version(CommandContext& c, Request&, const Replier& reply, const std::shared_ptr<Client>&) {
    reply(okReply("tend " + c.context.version,
                  json{{"version", c.context.version}, {"protocol", kProtocolVersion}}));
}

void reexec(CommandContext& c, Request& request, const Replier& reply,
            const std::shared_ptr<Client>& client) {
    const int fd = client->descriptor();
    if (!c.context.reexec || fd < 0) {
        reply(errorReply("unavailable", "reexec: only a client of the control socket may ask"));
        return;
    }
    std::string binary;
    if (const auto it = request.options.find("binary"); it != request.options.end()) {
        if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
            it->get_ref<const std::string&>().front() != '/') {
            reply(errorReply("bad-argument", "reexec: --binary needs an absolute path"));
            return;
        }
        binary = it->get<std::string>();
    }
    c.context.reexec(binary, fd, [reply](bool ok, const std::string& text) {
        reply(ok ? okReply(text) : errorReply("failed", text));
    });
}

void plugins(CommandContext& c, Request&, const Replier& reply, const std::shared_ptr<Client>&) {
    CommandResult list;
    list.data = json{{"plugins", json::array()}};
    if (c.context.plugin_list) {
        list = c.context.plugin_list();
    }
    reply(okReply(std::move(list.text), std::move(list.data)));
}

}  // namespace commands

}  // namespace tend::control
