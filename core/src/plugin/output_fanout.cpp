// SPDX-License-Identifier: MIT
// Job output to the plugins' output sinks: lines cross from the log router's thread to the loop
// through a bounded backlog, so that a slow sink costs lines for the sinks (counted and
// reported), never memory or the log files.
#include <atomic>

#include "dispatch/supervisor.hpp"
#include "plugin/fault_guard.hpp"
#include "plugin/plugin_host.hpp"
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
                             backlog = output_backlog_, append = options_.append_job_log,
                             dir = options_.log_dir](log::CapturedLines&& batch) -> bool {
        std::size_t bytes = 0;
        for (const auto& line : batch.lines) {
            bytes += line.size() + 1;
        }
        if (backlog->bytes.load() + bytes > OutputBacklog::kMaxBytes) {
            backlog->dropped += batch.lines.size();
            return false;
        }
        backlog->bytes += bytes;
        boost::asio::post(io, [alive, manager, backlog, bytes, append, dir,
                               batch = std::move(batch)] {
            backlog->bytes -= bytes;
            if (!alive.expired()) {
                manager->deliverOutput(batch);
            } else if (!batch.in_log_file && append) {
                // tend is ending: carried lines nobody can take any more go to the file.
                append(
                    (dir / dispatch::Supervisor::logFileName(batch.job, batch.instance)).string(),
                    batch.lines);
            }
        });
        return true;
    });
}

void PluginManager::deliverOutput(const log::CapturedLines& batch) {
    if (const std::size_t dropped = output_backlog_ ? output_backlog_->dropped.exchange(0) : 0) {
        logger_->warn(
            "output sinks fell behind: {} line(s) of job output were not passed to plugins "
            "(the job logs have them)",
            dropped);
    }
    // Carried lines whose carrier went while they were on their way are the file's again.
    if (!batch.in_log_file && carriers_.empty() && options_.append_job_log) {
        options_.append_job_log(
            (options_.log_dir / dispatch::Supervisor::logFileName(batch.job, batch.instance))
                .string(),
            batch.lines);
    }
    if (subscribers_->sinks.empty()) {
        return;
    }
    OutputLines view{batch.job, batch.instance, batch.time, &batch.lines};
    view.stream =
        batch.stream == log::StreamKind::Stderr ? OutputStream::Stderr : OutputStream::Stdout;
    view.continues = batch.continues.empty() ? nullptr : &batch.continues;
    view.in_log_file = batch.in_log_file || carriers_.empty();
    const auto list = subscribers_->sinks.snapshot();
    for (const auto& entry : *list) {
        guarded(*entry.record, "an output sink", [&] { entry.fn(view); });
    }
}

void PluginManager::updateCarrier() {
    if (!options_.set_carrier) {
        return;
    }
    bool by_default = false;
    for (const auto& [id, takes_default] : carriers_) {
        by_default = by_default || takes_default;
    }
    options_.set_carrier(!carriers_.empty(), by_default);
}

Registration PluginManager::Host::carryJournalConsole(bool by_default) {
    const auto id = ++manager_.subscribers_->next_id;
    manager_.carriers_.emplace(id, by_default);
    manager_.updateCarrier();
    return undo([this, id] {
        manager_.carriers_.erase(id);
        manager_.updateCarrier();
    });
}

void PluginManager::Host::writeJobLog(std::string_view job, std::string_view instance,
                                      std::vector<std::string> lines) {
    if (manager_.options_.append_job_log && !lines.empty()) {
        manager_.options_.append_job_log(logFile(job, instance), std::move(lines));
    }
}

}  // namespace tend::plugin
