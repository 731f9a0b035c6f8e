// SPDX-License-Identifier: MIT
#include "plugin/plugin_manager.hpp"

#include <sys/inotify.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "dispatch/supervisor.hpp"
#include "model/comma_list.hpp"
#include "model/shortage.hpp"
#include "plugin/fault_guard.hpp"
#include "plugin/instance_view.hpp"
#include "plugin/job_class_view.hpp"
#include "plugin/plugin_host.hpp"
#include "plugin/plugin_record.hpp"
#include "plugin/subscribers.hpp"
#include "plugin/trust.hpp"

namespace tend::plugin {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFactorySymbol = "tend_plugin_factory_v1";

// The plugins, among those that could not start, whose requirements (required or optional)
// lead back to `from`, as a path "a -> b -> a"; empty when `from` is on no such cycle.
std::string cycleThrough(const PluginRecord& from,
                         const std::map<std::string, const PluginRecord*>& stuck) {
    std::vector<std::string> path{std::string(from.descriptor.name)};
    std::set<std::string> seen;
    const std::function<bool(const PluginRecord&)> reaches = [&](const PluginRecord& record) {
        for (const auto* wants :
             {&record.descriptor.requires_plugins, &record.descriptor.optional_plugins}) {
            for (const auto& wanted : *wants) {
                if (wanted == from.descriptor.name) {
                    path.push_back(wanted);
                    return true;
                }
                const auto it = stuck.find(wanted);
                if (it == stuck.end() || !seen.insert(wanted).second) {
                    continue;
                }
                path.push_back(wanted);
                if (reaches(*it->second)) {
                    return true;
                }
                path.pop_back();
            }
        }
        return false;
    };
    if (!reaches(from)) {
        return {};
    }
    std::string text;
    for (const auto& name : path) {
        text += (text.empty() ? "" : " -> ") + name;
    }
    return text;
}

}  // namespace

GuardClock::time_point GuardClock::now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

PluginManager::PluginManager(boost::asio::io_context& io, dispatch::Supervisor& supervisor,
                             std::shared_ptr<spdlog::logger> logger, PluginManagerOptions options)
    : io_(io),
      supervisor_(supervisor),
      logger_(std::move(logger)),
      options_(std::move(options)),
      subscribers_(std::make_unique<Subscribers>()),
      inotify_(io),
      rescan_timer_(io),
      retry_timer_(io) {
    if (options_.hang_limit.count() > 0 && options_.on_hang) {
        hang_watch_ = std::make_unique<HangWatch>(options_.hang_limit, options_.on_hang);
    }
    // One observer each on the supervisor; the fan-out to plugins is ours, so that a plugin's
    // failure never reaches the supervisor's own lists.
    observer_ids_[0] = supervisor_.eventObservers().add([this](const model::Event& event) {
        if (subscribers_->events.empty()) {
            return;
        }
        const EventView view{event.id, event.name, &event.env.entries()};
        const auto list = subscribers_->events.snapshot();
        GuardClock::time_point mark = GuardClock::now();
        for (const auto& entry : *list) {
            guarded(
                *entry.record, "an event callback", [&] { entry.fn(view); }, &mark);
        }
    });
    observer_ids_[1] = supervisor_.transitionObservers().add(
        [this](const dispatch::Supervisor::Transition& change) {
            if (subscribers_->jobs.empty()) {
                return;
            }
            const JobOutcome outcome(*change.job);
            const JobChange view = outcome.change(*change.job, dispatch::goalName(change.new_goal),
                                                  dispatch::stateName(change.new_state),
                                                  dispatch::stateName(change.old_state),
                                                  dispatch::goalName(change.old_goal));
            const auto list = subscribers_->jobs.snapshot();
            GuardClock::time_point mark = GuardClock::now();
            for (const auto& entry : *list) {
                guarded(
                    *entry.record, "a job change callback", [&] { entry.fn(view); }, &mark);
            }
        });
    observer_ids_[2] = supervisor_.classObservers().add(
        [this](dispatch::Supervisor::ClassChangeKind kind, const model::JobClass& cls) {
            if (subscribers_->classes.empty()) {
                return;
            }
            const JobClassView view = viewOf(cls);
            const ClassChange change =
                kind == dispatch::Supervisor::ClassChangeKind::Added     ? ClassChange::Added
                : kind == dispatch::Supervisor::ClassChangeKind::Changed ? ClassChange::Changed
                                                                         : ClassChange::Removed;
            auto list = subscribers_->classes;
            for (auto& entry : list) {
                guarded(*entry.record, "a job class callback", [&] { entry.fn(change, view); });
            }
        });
}

PluginManager::CurrentCall PluginManager::currentCall() const noexcept {
    if (!hang_watch_) {
        return {};
    }
    const HangWatch::Call call = hang_watch_->current();
    return {call.plugin, call.what};
}

PluginManager::~PluginManager() {
    *alive_ = false;
    stopAll();
    if (tapping_ && options_.set_output_tap) {
        options_.set_output_tap({});
    }
    if (tapping_log_ && options_.set_log_tap) {
        options_.set_log_tap({});
    }
    supervisor_.eventObservers().remove(observer_ids_[0]);
    supervisor_.transitionObservers().remove(observer_ids_[1]);
    supervisor_.classObservers().remove(observer_ids_[2]);
}

void PluginManager::fail(PluginRecord& record, const std::string& what) {
    if (record.failing) {
        return;
    }
    record.failing = true;
    logger_->error("[{}] {}; disabling the plugin (its jobs keep running)", record.descriptor.name,
                   what);
    // Torn down from the loop, not from inside its own call stack.
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), &record, what] {
        if (!alive.expired()) {
            stopRecord(record, PluginState::Failed, what);
        }
    });
}

void PluginManager::stopRecord(PluginRecord& record, PluginState state, const std::string& reason) {
    if (record.plugin && !record.failing) {
        guarded(record, "stop()", [&] { record.plugin->stop(); });
    }
    record.plugin.reset();
    record.host.reset();
    if (record.library.is_loaded()) {
        record.library.unload();
    }
    record.state = state;
    record.reason = reason;
    record.failing = false;
    // Plugins that required it cannot go on without it.
    for (auto& other : records_) {
        if (other->plugin && other.get() != &record &&
            std::find(other->descriptor.requires_plugins.begin(),
                      other->descriptor.requires_plugins.end(),
                      record.descriptor.name) != other->descriptor.requires_plugins.end()) {
            logger_->warn("[{}] stopping: it requires {}, which {}", other->descriptor.name,
                          record.descriptor.name,
                          state == PluginState::Failed ? "failed" : "was unloaded");
            stopRecord(*other, PluginState::Skipped,
                       "it requires " + record.descriptor.name + ", which is not running");
        }
    }
}

// A plugin's `<name>.conf` comes from the first plugins.d that has one (the user's comes
// first, so that it can turn off a plugin installed system-wide), else from beside the plugin.
fs::path PluginManager::confPath(const fs::path& plugin, const std::string& name) const {
    for (const auto& dir : options_.dirs) {
        std::error_code ec;
        if (const fs::path conf = dir / (name + ".conf"); fs::exists(conf, ec)) {
            return conf;
        }
    }
    return plugin.parent_path() / (name + ".conf");
}

void PluginManager::loadEverything() {
    std::set<fs::path> cut_short;
    load(scan(&cut_short));
    if (!cut_short.empty()) {
        retrySoon();
    }
}

void PluginManager::start() {
    loadEverything();
    if (options_.watch) {
        watchDirectories();
    }
}

void PluginManager::load(const std::vector<fs::path>& files) {
    // Phase 1: descriptors, trust and configuration, without running any plugin code.
    std::vector<PluginRecord*> candidates;
    for (const auto& path : files) {
        auto record = std::make_unique<PluginRecord>();
        record->path = path;
        record->stamp = sys::stampOf(path);
        record->descriptor.name = path.stem().string();
        PluginRecord& s = *record;
        records_.push_back(std::move(record));
        if (std::string why = untrusted(path.parent_path()); !why.empty()) {
            s.reason = "refused: " + why;
        } else if (std::string file_why = untrusted(path); !file_why.empty()) {
            s.reason = "refused: " + file_why;
        } else {
            auto read = readDescriptor(path);
            if (auto* error = std::get_if<std::string>(&read)) {
                s.reason = "refused: " + *error;
            } else {
                s.descriptor = std::get<Descriptor>(read);
                if (s.descriptor.api_version != kApiVersion) {
                    s.reason = "refused: built for plugin API " +
                               std::to_string(s.descriptor.api_version) + "; this tend speaks " +
                               std::to_string(kApiVersion);
                }
            }
        }
        if (!s.reason.empty()) {
            if (model::mentionsShortage(s.reason)) {
                deferForShortage(s);
            }
            logger_->error("plugin {}: {}", path.string(), s.reason);
            continue;
        }
        for (const auto& other : records_) {
            if (other.get() != &s && other->plugin && other->descriptor.name == s.descriptor.name) {
                s.state = PluginState::Skipped;
                s.reason = "a plugin named " + s.descriptor.name + " is already loaded from " +
                           other->path.string();
            }
        }
        if (s.state == PluginState::Skipped) {
            logger_->warn("plugin {}: {}", path.string(), s.reason);
            continue;
        }
        s.conf_path = confPath(path, s.descriptor.name);
        s.conf_stamp = sys::stampOf(s.conf_path);
        s.conf = readPluginConf(s.conf_path, s.descriptor.name);
        for (const auto& problem : s.conf.problems) {
            logger_->error("plugin {}: {}", s.descriptor.name, problem);
        }
        if (s.conf.unread) {
            // Not with the defaults: its settings may say `disable`.
            s.reason = "its configuration " + s.conf_path.string() + " could not be read";
            deferForShortage(s);
            logger_->error("plugin {}: {}", s.descriptor.name, s.reason);
            continue;
        }
        if (!s.conf.enabled) {
            s.state = PluginState::Disabled;
            s.reason = "disabled in " + s.descriptor.name + ".conf";
            logger_->info("plugin {}: {}", s.descriptor.name, s.reason);
            continue;
        }
        s.state = PluginState::Pending;
        candidates.push_back(&s);
    }

    // Phase 2: start in dependency order.
    std::set<std::string> running;
    for (const auto& record : records_) {
        if (record->plugin) {
            running.insert(record->descriptor.name);
        }
    }
    std::vector<PluginRecord*> order;
    bool progress = true;
    while (progress) {
        progress = false;
        for (PluginRecord* record : candidates) {
            if (record->state != PluginState::Pending) {
                continue;
            }
            bool ready = true;
            for (const auto& wanted : record->descriptor.requires_plugins) {
                ready = ready && running.contains(wanted);
            }
            for (const auto& wanted : record->descriptor.optional_plugins) {
                // Wait for an optional plugin only while it can still come.
                const bool coming =
                    std::any_of(candidates.begin(), candidates.end(), [&](PluginRecord* s) {
                        return s->state == PluginState::Pending && s->descriptor.name == wanted;
                    });
                ready = ready && !coming;
            }
            if (!ready) {
                continue;
            }
            progress = true;
            if (startRecord(*record)) {
                running.insert(record->descriptor.name);
                order.push_back(record);
            }
        }
    }
    std::map<std::string, const PluginRecord*> stuck;
    for (const PluginRecord* record : candidates) {
        if (record->state == PluginState::Pending) {
            stuck.emplace(record->descriptor.name, record);
        }
    }
    for (PluginRecord* record : candidates) {
        if (record->state != PluginState::Pending) {
            continue;
        }
        std::vector<std::string> missing;
        for (const auto& wanted : record->descriptor.requires_plugins) {
            if (!running.contains(wanted)) {
                missing.push_back(wanted);
            }
        }
        const std::string cycle = cycleThrough(*record, stuck);
        record->state = PluginState::Skipped;
        record->reason = !cycle.empty() ? "its requirements form a cycle: " + cycle
                         : missing.empty()
                             ? "its requirements form a cycle"
                             : "it requires " + model::commaList(missing) + ", which " +
                                   (missing.size() == 1 ? "is" : "are") + " not running";
        logger_->error("plugin {}: skipped: {}", record->descriptor.name, record->reason);
    }
    // Keep records_ in start order, so that stopAll() runs in reverse.
    std::stable_partition(
        records_.begin(), records_.end(),
        [](const std::unique_ptr<PluginRecord>& s) { return s->plugin != nullptr; });
}

bool PluginManager::startRecord(PluginRecord& record) {
    if (const auto refused = options_.refused.find(record.descriptor.name);
        refused != options_.refused.end()) {
        record.state = PluginState::Failed;
        record.reason = refused->second;
        logger_->error("plugin {}: not loaded: {}", record.descriptor.name, record.reason);
        return false;
    }
    const auto start = std::chrono::steady_clock::now();  // fine: load times are sub-ms
    try {
        record.library.load(record.path.string(),
                            boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        std::string why = e.what();
        if (const auto noise = why.rfind(": Bad file descriptor"); noise != std::string::npos) {
            why.erase(noise);
        }
        record.state = PluginState::Failed;
        record.reason = "cannot load: " + why;
        if (model::mentionsShortage(why)) {
            deferForShortage(record);
        }
        logger_->error("plugin {}: {}", record.descriptor.name, record.reason);
        return false;
    }
    if (!record.library.has(kFactorySymbol)) {
        record.library.unload();
        record.state = PluginState::Failed;
        record.reason = std::string("no factory: the library does not export ") + kFactorySymbol;
        logger_->error("plugin {}: {}", record.descriptor.name, record.reason);
        return false;
    }
    auto& factory = record.library.get_alias<Factory>(kFactorySymbol);
    record.host = std::make_unique<Host>(*this, record);
    record.state = PluginState::Starting;
    const bool made =
        guarded(record, "its factory", [&] { record.plugin = factory(*record.host); });
    if (!made || !record.plugin) {
        const std::string reason =
            record.failing ? "its factory failed" : "its factory made nothing";
        record.failing = true;  // the posted teardown finds it failed already
        record.plugin.reset();
        record.host.reset();
        record.library.unload();
        record.state = PluginState::Failed;
        if (record.reason.empty()) {
            record.reason = reason;
        }
        record.failing = false;
        return false;
    }
    const bool started = guarded(record, "start()", [&] { record.plugin->start(); });
    carried_.erase(record.descriptor.name);  // for its first start only
    if (!started) {
        return false;
    }
    record.load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    record.state = PluginState::Running;
    record.reason.clear();
    logger_->info("plugin {} {} started from {} in {:.2f} ms", record.descriptor.name,
                  record.descriptor.version, record.path.string(), record.load_ms);
    return true;
}

void PluginManager::stopAll() {
    for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
        if ((*it)->plugin) {
            stopRecord(**it, PluginState::Stopped, "tend is ending");
        }
    }
}

std::map<std::string, std::string> PluginManager::saveForReexec() {
    std::map<std::string, std::string> out;
    for (auto& record : records_) {
        if (!record->plugin || record->state != PluginState::Running || !record->save_for_reexec) {
            continue;
        }
        std::string saved;
        if (guarded(*record, "its re-exec saver", [&] { saved = record->save_for_reexec(); })) {
            out.emplace(record->descriptor.name, std::move(saved));
        }
    }
    return out;
}

std::optional<std::string> PluginManager::carriedState(const std::string& plugin) const {
    const auto it = carried_.find(plugin);
    return it == carried_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

void PluginManager::startAgain() {
    records_.clear();
    loadEverything();
}

std::vector<PluginStatus> PluginManager::status() const {
    std::vector<PluginStatus> out;
    for (const auto& record : records_) {
        PluginStatus s;
        s.name = record->descriptor.name;
        s.path = record->path.string();
        s.version = record->descriptor.version;
        s.state = record->state;
        s.reason = record->reason;
        s.requires_plugins = record->descriptor.requires_plugins;
        s.provides = record->descriptor.provides;
        s.emits = record->descriptor.emits;
        s.load_ms = record->load_ms;
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<conf::PluginEvents> PluginManager::loadedEvents() const {
    std::vector<conf::PluginEvents> out;
    for (const auto& record : records_) {
        if (record->plugin) {
            out.push_back({record->descriptor.name, record->descriptor.emits});
        }
    }
    return out;
}

namespace {

// The client's side of a plugin's command: answered once, and answered with an error when the
// plugin lets go of it without answering (it threw, it was unloaded, it forgot). The answer
// goes to the client from the loop, whichever thread the plugin answers or drops it on; at the
// end of the session, when the loop has stopped, it goes nowhere.
class PendingAnswer {
  public:
    PendingAnswer(boost::asio::io_context& io, CommandResponder reply, std::string unanswered)
        : io_(io), reply_(std::move(reply)), unanswered_(std::move(unanswered)) {}
    ~PendingAnswer() { answer(CommandReply{false, unanswered_, "{}"}); }
    PendingAnswer(const PendingAnswer&) = delete;
    PendingAnswer& operator=(const PendingAnswer&) = delete;
    void answer(CommandReply reply) {
        std::unique_lock lock(mutex_);
        if (auto once = std::exchange(reply_, nullptr)) {
            lock.unlock();
            boost::asio::post(io_, [once = std::move(once), reply = std::move(reply)]() mutable {
                once(std::move(reply));
            });
        }
    }

  private:
    boost::asio::io_context& io_;
    std::mutex mutex_;
    CommandResponder reply_;
    std::string unanswered_;
};

}  // namespace

bool PluginManager::runCommand(const std::string& name, const CommandCall& call,
                               CommandResponder reply) {
    const auto it = subscribers_->commands.find(name);
    if (it == subscribers_->commands.end()) {
        return false;
    }
    auto entry = it->second;
    auto pending = std::make_shared<PendingAnswer>(
        io_, std::move(reply),
        "plugin " + entry.record->descriptor.name + " failed to answer '" + name + "'");
    CommandResponder responder = [pending](CommandReply answer) {
        pending->answer(std::move(answer));
    };
    guarded(*entry.record, "a control command", [&] { entry.fn(call, std::move(responder)); });
    return true;
}

void PluginManager::stanzasChanged() {
    if (stanzas_pending_ || !options_.stanzas_changed) {
        return;
    }
    stanzas_pending_ = true;
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.expired()) {
            stanzas_pending_ = false;
            options_.stanzas_changed();
        }
    });
}

void PluginManager::pollSoon() {
    if (poll_posted_) {
        return;
    }
    poll_posted_ = true;
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.expired()) {
            poll_posted_ = false;
            supervisor_.poll();
        }
    });
}

}  // namespace tend::plugin
