// SPDX-License-Identifier: MIT
#include "plugin/plugin_host.hpp"

#include "plugin/instance_view.hpp"

namespace tend::plugin {

PluginManager::Host::~Host() {
    *alive_ = false;
    record_.save_for_reexec = nullptr;  // the plugin's code, about to be unloaded
    dropRotations();
    dropFdWatches();
    for (auto& [id, timer] : timers_) {
        timer->cancel();
    }
    manager_.subscribers_->eraseRecord(&record_);
    manager_.updateOutputTap();
    manager_.updateGrowthTap();
    manager_.updateTendLogTap();
    // Stanzas whose registration outlived the plugin (kept somewhere the plugin's
    // destruction does not reach): their checks are the plugin's code, about to be unloaded.
    for (const auto& keyword : stanzas_) {
        retireStanza(keyword);
    }
    // Work the plugin posted that has not run can hold its registrations (an event hold in a
    // worker's completion); they unregister now, while what they unregister from is whole.
    std::set<std::shared_ptr<void>> unrun;
    {
        std::lock_guard lock(kept_mutex_);
        unrun.swap(kept_);
    }
    unrun.clear();
    for (std::uint64_t event : held_) {
        manager_.supervisor_.releaseEvent(event);
    }
    // A registration that outlives this host (the plugin kept it somewhere its destruction
    // does not reach) must not reach into the members destroyed after this body.
    alive_.reset();
}

std::string PluginManager::Host::setting(std::string_view key, std::string_view fallback) const {
    const auto it = record_.conf.settings.find(key);
    return it == record_.conf.settings.end() ? std::string(fallback) : it->second;
}

void PluginManager::Host::log(LogLevel level, std::string_view text) {
    const auto spd = level == LogLevel::Debug  ? spdlog::level::debug
                     : level == LogLevel::Info ? spdlog::level::info
                     : level == LogLevel::Warn ? spdlog::level::warn
                                               : spdlog::level::err;
    manager_.logger_->log(spd, "[{}] {}", record_.descriptor.name, text);
}

void PluginManager::Host::emit(std::string name, std::vector<std::string> env,
                               std::function<void(bool)> done) {
    model::Environment environment;
    for (const auto& entry : env) {
        environment.setEntry(entry);
    }
    dispatch::Completion completion;
    if (done) {
        completion = [this, alive = std::weak_ptr<bool>(alive_), done](bool failed,
                                                                       const std::string&) {
            if (!alive.expired()) {
                manager_.guarded(record_, "an emit completion", [&] { done(failed); });
            }
        };
    }
    manager_.supervisor_.emit(std::move(name), std::move(environment), std::move(completion));
    manager_.pollSoon();
}

Registration PluginManager::Host::onEvent(std::function<void(const EventView&)> callback) {
    const auto id = ++manager_.subscribers_->next_id;
    manager_.subscribers_->events.add({id, &record_, std::move(callback)});
    return undo([this, id] { manager_.subscribers_->events.erase(id); });
}

Registration PluginManager::Host::holdEvent(std::uint64_t event_id) {
    if (!manager_.supervisor_.holdEvent(event_id)) {
        return {};
    }
    held_.insert(event_id);
    return undo([this, event_id] {
        if (held_.erase(event_id)) {
            manager_.supervisor_.releaseEvent(event_id);
        }
    });
}

Registration PluginManager::Host::onJobChange(std::function<void(const JobChange&)> callback) {
    for (const auto* entry : manager_.supervisor_.classes()) {
        for (const auto& [name, job] : entry->instances) {
            const std::string_view goal = dispatch::goalName(job->goal);
            const std::string_view state = dispatch::stateName(job->state);
            const JobOutcome outcome(*job);
            const JobChange view = outcome.change(*job, goal, state, state, goal);
            if (!manager_.guarded(record_, "a job change callback", [&] { callback(view); })) {
                return {};
            }
        }
    }
    const auto id = ++manager_.subscribers_->next_id;
    manager_.subscribers_->jobs.add({id, &record_, std::move(callback)});
    return undo([this, id] { manager_.subscribers_->jobs.erase(id); });
}

Registration PluginManager::Host::onJobClass(
    std::function<void(ClassChange, const JobClassView&)> callback) {
    for (const auto* entry : manager_.supervisor_.classes()) {
        if (!entry->deleted) {
            const JobClassView view = viewOf(*entry->cls);
            if (!manager_.guarded(record_, "a job class callback",
                                  [&] { callback(ClassChange::Added, view); })) {
                return {};
            }
        }
    }
    const auto id = ++manager_.subscribers_->next_id;
    manager_.subscribers_->classes.push_back({id, &record_, std::move(callback)});
    return undo([this, id] { Subscribers::erase(manager_.subscribers_->classes, id); });
}

struct PluginManager::Host::TimerState {
    std::function<void()> fire;
    std::function<void()> arm;
};

Registration PluginManager::Host::addTimer(std::chrono::milliseconds delay,
                                           std::function<void()> fire, bool repeat) {
    const auto id = ++next_id_;
    auto timer = std::make_shared<boost::asio::steady_timer>(manager_.io_);
    timers_[id] = timer;
    auto state = std::make_shared<TimerState>();
    state->fire = std::move(fire);
    state->arm = [this, alive = std::weak_ptr<bool>(alive_), weak = std::weak_ptr(timer), delay,
                  repeat, weak_state = std::weak_ptr(state)] {
        auto live = weak.lock();
        if (alive.expired() || !live || weak_state.expired()) {
            return;
        }
        live->expires_after(delay);
        live->async_wait([this, alive, weak, repeat,
                          weak_state](const boost::system::error_code& ec) {
            const auto state = weak_state.lock();
            if (ec || alive.expired() || weak.expired() || !state) {
                return;
            }
            if (manager_.guarded(record_, "a timer callback", [&] { state->fire(); }) && repeat) {
                state->arm();
            }
        });
    };
    timer_states_[id] = state;
    state->arm();
    return undo([this, id] {
        if (const auto it = timers_.find(id); it != timers_.end()) {
            it->second->cancel();
            timers_.erase(it);
        }
        timer_states_.erase(id);
    });
}

void PluginManager::Host::release(const std::shared_ptr<void>& callable) {
    std::lock_guard lock(kept_mutex_);
    kept_.erase(callable);
}

void PluginManager::Host::post(std::function<void()> work) {
    boost::asio::post(manager_.io_, [this, alive = std::weak_ptr<bool>(alive_),
                                     weak = std::weak_ptr(keep(std::move(work)))] {
        const auto work = weak.lock();
        if (alive.expired() || !work) {
            return;
        }
        release(work);
        manager_.guarded(record_, "posted work", *work);
    });
}

Registration PluginManager::Host::addStanza(
    std::string keyword, std::function<std::string(const std::vector<std::string>&)> check) {
    conf::StanzaRegistry* registry = manager_.options_.stanzas;
    if (!registry) {
        log(LogLevel::Warn, "stanza '" + keyword + "': this tend takes no plugin stanzas");
        return {};
    }
    const std::string owner = std::string(record_.descriptor.name);
    const bool added = registry->add(
        keyword, owner,
        [this, alive = std::weak_ptr<bool>(alive_), keyword, owner,
         check](conf::StanzaContext& context) {
            std::vector<std::string> args;
            for (std::size_t i = 0; i < context.argCount(); ++i) {
                args.push_back(context.arg(i).text);
            }
            std::string problem;
            if (alive.expired() ||
                !manager_.guarded(record_, "a stanza check", [&] { problem = check(args); })) {
                problem = "plugin " + owner + " failed while checking '" + keyword + "'";
            }
            if (!problem.empty()) {
                context.error(context.stanza().offset, keyword + ": " + problem);
                return;
            }
            context.job().seldom.edit().plugin_stanzas[keyword].push_back(std::move(args));
        });
    if (!added) {
        log(LogLevel::Warn, "stanza '" + keyword + "' is already taken");
        return {};
    }
    stanzas_.insert(keyword);
    manager_.stanzasChanged();
    return undo([this, keyword] {
        if (stanzas_.erase(keyword)) {
            retireStanza(keyword);
        }
    });
}

Registration PluginManager::Host::addOutputSink(std::function<void(const OutputLines&)> sink) {
    const auto id = ++manager_.subscribers_->next_id;
    manager_.subscribers_->sinks.add({id, &record_, std::move(sink)});
    manager_.updateOutputTap();
    return undo([this, id] {
        manager_.subscribers_->sinks.erase(id);
        manager_.updateOutputTap();
    });
}

Registration PluginManager::Host::serveCommand(
    std::string name, std::function<void(const CommandCall&, CommandResponder)> run) {
    auto& commands = manager_.subscribers_->commands;
    if (commands.contains(name)) {
        log(LogLevel::Warn, "command '" + name + "' is already served by plugin " +
                                std::string(commands.at(name).record->descriptor.name));
        return {};
    }
    const auto id = ++manager_.subscribers_->next_id;
    commands.emplace(name, Subscribers::Entry<CommandFunction>{id, &record_, std::move(run)});
    return undo([this, name, id] {
        auto& list = manager_.subscribers_->commands;
        if (const auto it = list.find(name); it != list.end() && it->second.id == id) {
            list.erase(it);
        }
    });
}

dispatch::Job* PluginManager::Host::instanceOf(std::string_view job, std::string_view instance,
                                               std::string& error) const {
    if (const dispatch::ClassEntry* entry = manager_.supervisor_.findClass(job)) {
        if (const auto found = entry->instances.find(std::string(instance));
            found != entry->instances.end()) {
            return found->second.get();
        }
    }
    error = "no running instance of " + std::string(job) +
            (instance.empty() ? std::string() : " (" + std::string(instance) + ")");
    return nullptr;
}

std::optional<std::vector<std::string>> PluginManager::Host::environment(
    std::string_view job, std::string_view instance) const {
    if (job.empty()) {
        return manager_.supervisor_.globalEnvironment().entries();
    }
    std::string error;
    const dispatch::Job* running = instanceOf(job, instance, error);
    if (!running) {
        return std::nullopt;
    }
    return manager_.supervisor_.environment(running).entries();
}

std::string PluginManager::Host::setEnvironment(const std::vector<std::string>& entries,
                                                bool retain, std::string_view job,
                                                std::string_view instance) {
    return setEnvironmentFrom({}, entries, retain, job, instance);  // recorded as this plugin's
}

std::string PluginManager::Host::unsetEnvironment(const std::vector<std::string>& names,
                                                  std::string_view job, std::string_view instance) {
    std::string error;
    dispatch::Job* running = job.empty() ? nullptr : instanceOf(job, instance, error);
    if (!job.empty() && !running) {
        return error;
    }
    return manager_.supervisor_.unsetEnvironment(running, names);
}

void PluginManager::Host::resetEnvironment() {
    manager_.supervisor_.resetEnvironment();
}

std::optional<std::string> PluginManager::Host::expand(std::string_view text) const {
    const model::Environment& global = manager_.supervisor_.globalEnvironment();
    std::string tilde;
    if (text == "~" || text.starts_with("~/")) {
        tilde = std::string(global.get("HOME").value_or("")) + std::string(text.substr(1));
        text = tilde;
    }
    return model::expandVariables(text, global);
}

Registration PluginManager::Host::provideService(std::string name, void* service) {
    auto& services = manager_.subscribers_->services;
    if (services.contains(name)) {
        log(LogLevel::Warn, "service '" + name + "' is already provided");
        return {};
    }
    services.emplace(name, std::make_pair(&record_, service));
    return undo([this, name] { manager_.subscribers_->services.erase(name); });
}

void* PluginManager::Host::findService(std::string_view name) const {
    const auto& services = manager_.subscribers_->services;
    const auto it = services.find(name);
    return it == services.end() ? nullptr : it->second.second;
}

void PluginManager::Host::retireStanza(const std::string& keyword) {
    manager_.options_.stanzas->remove(keyword);
    manager_.options_.stanzas->retire(keyword, std::string(record_.descriptor.name));
    manager_.stanzasChanged();
}

Registration PluginManager::Host::undo(std::function<void()> action) {
    return Registration([alive = std::weak_ptr<bool>(alive_), action = std::move(action)] {
        if (!alive.expired()) {
            action();
        }
    });
}

}  // namespace tend::plugin
