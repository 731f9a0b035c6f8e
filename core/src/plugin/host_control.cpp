// SPDX-License-Identifier: MIT
// What a plugin asks of tend as a whole: control commands run through the control server's own
// command table (so that a plugin and tendctl can never differ), the instances there are now,
// and tend's own log lines.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "plugin/fault_guard.hpp"
#include "plugin/instance_view.hpp"
#include "plugin/plugin_host.hpp"
#include "plugin/plugin_record.hpp"
#include "plugin/subscribers.hpp"

namespace tend::plugin {

using json = nlohmann::json;

namespace {

// Set on the loop thread while a log sink runs: what the sink itself logs is not fed back to the
// sinks (it would come round again, and again).
thread_local bool feeding_log_sinks = false;

}  // namespace

void PluginManager::Host::runControlCommand(std::string command, std::vector<std::string> args,
                                            std::string options,
                                            std::function<void(const CommandReply&)> done) {
    // The plugin's callback is kept by the host, not by the command in flight: a command can
    // outlast the plugin, and the callback is the plugin's code.
    const auto answer = [this, alive = std::weak_ptr<bool>(alive_),
                         weak = std::weak_ptr(keep(std::move(done)))](const CommandReply& reply) {
        const auto done = weak.lock();
        if (alive.expired() || !done) {
            return;
        }
        release(done);
        manager_.guarded(record_, "a control command's reply", [&] { (*done)(reply); });
    };
    json parsed_options = json::parse(options.empty() ? "{}" : options, nullptr, false);
    if (!parsed_options.is_object()) {
        answer({false, "the options are not a JSON object: " + options,
                json{{"code", "bad-request"}, {"error", "options are not a JSON object"}}.dump()});
        return;
    }
    if (!manager_.options_.run_control) {
        answer({false, "this tend runs no control server",
                json{{"code", "unavailable"}, {"error", "no control server"}}.dump()});
        return;
    }
    json request{{"protocol", 1},
                 {"command", std::move(command)},
                 {"args", std::move(args)},
                 {"options", std::move(parsed_options)}};
    // Always later, on the loop: a command that starts or stops jobs must not run inside the
    // plugin's own callback, which may be a job change of its own.
    boost::asio::post(manager_.io_, [run = manager_.options_.run_control,
                                     request = std::move(request), answer]() mutable {
        run(std::move(request), [answer](const json& reply) {
            if (reply.value("ok", false)) {
                const auto data = reply.find("data");
                answer({true, reply.value("output", ""),
                        data == reply.end()
                            ? std::string("{}")
                            : data->dump(-1, ' ', false, json::error_handler_t::replace)});
            } else {
                answer({false, reply.value("error", "request failed"),
                        json{{"code", reply.value("code", "failed")},
                             {"error", reply.value("error", "request failed")}}
                            .dump(-1, ' ', false, json::error_handler_t::replace)});
            }
        });
    });
}

std::vector<InstanceView> PluginManager::Host::instances() const {
    std::vector<InstanceView> out;
    for (const auto* entry : manager_.supervisor_.classes()) {
        for (const auto& [name, job] : entry->instances) {
            out.push_back(instanceView(*job));
        }
    }
    return out;
}

Registration PluginManager::Host::onTendLog(std::function<void(const TendLogLine&)> sink) {
    const auto id = ++manager_.subscribers_->next_id;
    manager_.subscribers_->log_sinks.add({id, &record_, std::move(sink)});
    manager_.updateTendLogTap();
    return undo([this, id] {
        manager_.subscribers_->log_sinks.erase(id);
        manager_.updateTendLogTap();
    });
}

void PluginManager::updateTendLogTap() {
    const bool wanted = !subscribers_->log_sinks.empty();
    if (wanted == tapping_log_ || !options_.set_log_tap) {
        return;
    }
    tapping_log_ = wanted;
    if (!wanted) {
        options_.set_log_tap({});
        return;
    }
    // Runs on whichever thread logs: it touches only the io_context, and the manager only on
    // the loop thread, once it knows the manager is still there.
    options_.set_log_tap(
        [&io = io_, alive = std::weak_ptr<bool>(alive_), manager = this](
            int level, std::string text, std::chrono::system_clock::time_point time) {
            if (feeding_log_sinks) {
                return;
            }
            boost::asio::post(io, [alive, manager, level, text = std::move(text), time] {
                if (!alive.expired()) {
                    manager->deliverTendLog(level, text, time);
                }
            });
        });
}

void PluginManager::deliverTendLog(int level, const std::string& text,
                                   std::chrono::system_clock::time_point time) {
    // spdlog's levels (trace, debug, info, warn, err, critical) as the SDK's (debug ... critical).
    const TendLogLine line{level <= 1 ? 0 : level - 1, text, time};
    const auto list = subscribers_->log_sinks.snapshot();
    for (const auto& entry : *list) {
        feeding_log_sinks = true;
        guarded(*entry.record, "a log sink", [&] { entry.fn(line); });
        feeding_log_sinks = false;
    }
}

Registration PluginManager::Host::onReexec(std::function<std::string()> save) {
    record_.save_for_reexec = std::move(save);
    return undo([this] { record_.save_for_reexec = nullptr; });
}

std::optional<std::string> PluginManager::Host::carriedState() const {
    return manager_.carriedState(record_.descriptor.name);
}

}  // namespace tend::plugin
