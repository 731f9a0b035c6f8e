// SPDX-License-Identifier: MIT
// The host calls over log files: where they are, the rotation handshake, and job logs' growth.
// The handshake's rename runs on a writer's thread, so the plugin's callbacks are held where
// that thread and the plugin's unloading meet under one lock.
#include <mutex>

#include "dispatch/supervisor.hpp"
#include "plugin/fault_guard.hpp"
#include "plugin/plugin_host.hpp"
#include "plugin/plugin_record.hpp"
#include "plugin/subscribers.hpp"

namespace tend::plugin {

struct PluginManager::Host::PendingRotation {
    std::mutex mutex;
    std::function<std::string(const std::string&)> rename;
    std::function<void(std::string)> done;
};

void PluginManager::Host::dropRotations() {
    for (const auto& pending : rotations_) {
        std::lock_guard lock(pending->mutex);
        pending->rename = nullptr;
        pending->done = nullptr;
    }
    rotations_.clear();
}

std::string PluginManager::Host::logDirectory() const {
    return manager_.options_.log_dir.string();
}

std::string PluginManager::Host::logFile(std::string_view job, std::string_view instance) const {
    return (manager_.options_.log_dir / dispatch::Supervisor::logFileName(job, instance)).string();
}

std::string PluginManager::Host::tendLogFile() const {
    return manager_.options_.tend_log_file;
}

void PluginManager::Host::rotateLog(std::string path,
                                    std::function<std::string(const std::string&)> rename,
                                    std::function<void(std::string error)> done) {
    if (!manager_.options_.rotate_log) {
        if (done) {
            done("tend has no log files to rotate");
        }
        return;
    }
    auto pending = std::make_shared<PendingRotation>();
    pending->rename = std::move(rename);
    pending->done = std::move(done);
    rotations_.insert(pending);
    log::RenameStep step = [pending](const std::string& file) -> std::string {
        std::lock_guard lock(pending->mutex);
        if (!pending->rename) {
            return "the plugin went before the rotation ran";
        }
        auto rename_now = std::move(pending->rename);
        pending->rename = nullptr;
        return rename_now(file);
    };
    log::RotationDone finished = [&io = manager_.io_, alive = std::weak_ptr<bool>(alive_), this,
                                  pending](std::string error) {
        boost::asio::post(io, [alive, this, pending, error = std::move(error)]() mutable {
            if (alive.expired()) {
                return;
            }
            rotations_.erase(pending);
            std::function<void(std::string)> done;
            {
                std::lock_guard lock(pending->mutex);
                done = std::move(pending->done);
                pending->done = nullptr;
            }
            if (done) {
                manager_.guarded(record_, "a log rotation callback",
                                 [&] { done(std::move(error)); });
            }
        });
    };
    manager_.options_.rotate_log(std::move(path), std::move(step), std::move(finished));
}

Registration PluginManager::Host::onLogGrowth(std::uint64_t step,
                                              std::function<void(const LogGrowth&)> grown) {
    if (step == 0) {
        return {};
    }
    const auto id = ++manager_.subscribers_->next_id;
    manager_.subscribers_->growth.add({id, &record_, {step, std::move(grown)}});
    manager_.updateGrowthTap();
    return undo([this, id] {
        manager_.subscribers_->growth.erase(id);
        manager_.updateGrowthTap();
    });
}

void PluginManager::updateGrowthTap() {
    if (!options_.set_growth_tap) {
        return;
    }
    std::uint64_t step = 0;
    for (const auto& entry : *subscribers_->growth.snapshot()) {
        step = step == 0 ? entry.fn.step : std::min(step, entry.fn.step);
    }
    if (step == growth_step_) {
        return;
    }
    growth_step_ = step;
    if (step == 0) {
        options_.set_growth_tap(0, {});
        return;
    }
    // Runs on the router's thread: it only posts, and the manager is touched on the loop once
    // it is known to be there still.
    options_.set_growth_tap(step, [&io = io_, alive = std::weak_ptr<bool>(alive_),
                                   manager = this](log::LogGrowth&& growth) {
        boost::asio::post(io, [alive, manager, growth = std::move(growth)] {
            if (!alive.expired()) {
                manager->deliverGrowth(growth);
            }
        });
    });
}

void PluginManager::deliverGrowth(const log::LogGrowth& growth) {
    const LogGrowth view{growth.path, growth.job, growth.instance, growth.size};
    const auto list = subscribers_->growth.snapshot();
    for (const auto& entry : *list) {
        guarded(*entry.record, "a log growth callback", [&] { entry.fn.fn(view); });
    }
}

}  // namespace tend::plugin
