// SPDX-License-Identifier: MIT
// Job output to the plugins' output sinks: lines cross from the log router's thread to the loop
// through a bounded backlog, so that a slow sink costs lines for the sinks (counted and
// reported), never memory or the log files.
#include <atomic>

#include "plugin/fault_guard.hpp"
#include "plugin/plugin_manager.hpp"
#include "plugin/plugin_record.hpp"
#include "plugin/subscribers.hpp"

namespace tend::plugin {

// Lines on their way from the router's thread to the sinks: bounded, so that a slow sink costs
// lines for the sinks, never memory or the log files.
struct PluginManager::OutputBacklog {
    static constexpr std::size_t kMaxBytes = 8 << 20;
    std::atomic<std::size_t> bytes{0};
    std::atomic<std::size_t> dropped{0};
};

void PluginManager::updateOutputTap() {
    const bool wanted = !subscribers_->sinks.empty();
    if (wanted == tapping_ || !options_.set_output_tap) {
        return;
    }
    tapping_ = wanted;
    if (!wanted) {
        options_.set_output_tap({});
        return;
    }
    if (!output_backlog_) {
        output_backlog_ = std::make_shared<OutputBacklog>();
    }
    // Runs on the router's thread: it touches only the io_context and the backlog, and the
    // manager only on the loop thread, once it knows the manager is still there.
    options_.set_output_tap([&io = io_, alive = std::weak_ptr<bool>(alive_), manager = this,
                             backlog = output_backlog_](log::CapturedLines&& batch) {
        std::size_t bytes = 0;
        for (const auto& line : batch.lines) {
            bytes += line.size() + 1;
        }
        if (backlog->bytes.load() + bytes > OutputBacklog::kMaxBytes) {
            backlog->dropped += batch.lines.size();
            return;
        }
        backlog->bytes += bytes;
        boost::asio::post(io, [alive, manager, backlog, bytes, batch = std::move(batch)] {
            backlog->bytes -= bytes;
            if (!alive.expired()) {
                manager->deliverOutput(batch);
            }
        });
    });
}

void PluginManager::deliverOutput(const log::CapturedLines& batch) {
    if (const std::size_t dropped = output_backlog_ ? output_backlog_->dropped.exchange(0) : 0) {
        logger_->warn(
            "output sinks fell behind: {} line(s) of job output were not passed to plugins "
            "(the job logs have them)",
            dropped);
    }
    if (subscribers_->sinks.empty()) {
        return;
    }
    const OutputLines view{batch.job, batch.instance, batch.time, &batch.lines};
    const auto list = subscribers_->sinks.snapshot();
    for (const auto& entry : *list) {
        guarded(*entry.record, "an output sink", [&] { entry.fn(view); });
    }
}

}  // namespace tend::plugin
