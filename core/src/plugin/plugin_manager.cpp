// SPDX-License-Identifier: MIT
#include "plugin/plugin_manager.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstring>
#include <set>

#include "conf/job_loader.hpp"
#include "conf/stanza_registry.hpp"
#include "daemon/job_config.hpp"
#include "dispatch/supervisor.hpp"
#include "plugin/descriptor.hpp"

namespace tend::plugin {

namespace fs = std::filesystem;
using Clock = GuardClock;

namespace {

constexpr const char* kFactorySymbol = "tend_plugin_factory_v1";

// Only files nobody else can change may run inside tend.
std::string untrusted(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::string("cannot stat ") + path.string() + ": " + std::strerror(errno);
    }
    if (st.st_uid != ::geteuid() && st.st_uid != 0) {
        return path.string() + " is owned by uid " + std::to_string(st.st_uid) +
               ", neither you (uid " + std::to_string(::geteuid()) + ") nor root";
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return path.string() + " is group- or world-writable (mode " + mode +
               "); plugins load only from files and directories nobody else can change";
    }
    return {};
}

struct PluginConf {
    bool enabled = true;
    std::map<std::string, std::string, std::less<>> settings;
    std::vector<std::string> problems;
};

// plugins.d/<name>.conf, in the job files' stanza style: `disable`, `enable`,
// `setting KEY VALUE...`.
PluginConf readPluginConf(const fs::path& path, const std::string& name) {
    PluginConf conf;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return conf;
    }
    conf::StanzaRegistry registry;
    registry.add("enable", "plugins", [&](conf::StanzaContext& c) {
        if (c.expectArgs(0, 0, "")) {
            conf.enabled = true;
        }
    });
    registry.add("disable", "plugins", [&](conf::StanzaContext& c) {
        if (c.expectArgs(0, 0, "")) {
            conf.enabled = false;
        }
    });
    registry.add("setting", "plugins", [&](conf::StanzaContext& c) {
        if (!c.expectSomeArgs(0, "a setting name and its value")) {
            return;
        }
        std::string value;
        for (std::size_t i = 1; i < c.argCount(); ++i) {
            value += (i > 1 ? " " : "") + c.arg(i).text;
        }
        conf.settings[c.arg(0).text] = value;
    });
    std::vector<grammar::Diagnostic> problems;
    const auto source = conf::readSource(path, problems);
    if (source) {
        const auto result = conf::loadJob(name, *source, nullptr, registry);
        for (const auto& d : result.diagnostics) {
            conf.problems.push_back(d.format());
        }
    }
    for (const auto& d : problems) {
        conf.problems.push_back(d.format());
    }
    return conf;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

JobClassView viewOf(const model::JobClass& cls) {
    JobClassView view;
    view.name = cls.name;
    view.stanzas = cls.plugin_stanzas;
    const auto collect = [&](const std::optional<grammar::EventCondition>& condition, bool stop) {
        if (!condition) {
            return;
        }
        for (const auto& node : condition->nodes()) {
            if (node.kind != grammar::EventNode::Kind::Match) {
                continue;
            }
            EventMatch match;
            match.event = node.match.name;
            match.stop = stop;
            for (const auto& arg : node.match.args) {
                match.args.push_back({arg.key, arg.value, arg.negated});
            }
            view.matches.push_back(std::move(match));
        }
    };
    collect(cls.start_on, false);
    collect(cls.stop_on, true);
    return view;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Slots and subscribers

struct PluginManager::Slot {
    fs::path path;
    daemon::FileStamp stamp{};
    Descriptor descriptor;
    PluginConf conf;
    std::string state = "refused";
    std::string reason;
    double load_ms = 0;
    int overruns = 0;
    bool failing = false;  // a guarded call failed; the teardown is on its way
    // Destroyed bottom-up: the plugin first, then its host (its registrations), then the code.
    boost::dll::shared_library library;
    std::unique_ptr<Host> host;
    std::unique_ptr<Plugin> plugin;
};

// The callbacks on the hot paths (events, job changes, output) are lists that are copied when
// they change, which is rare, so that a fan-out only takes a reference to the current list:
// no copy per event, and a callback may (un)subscribe while the list is being walked.
struct PluginManager::Subscribers {
    template <typename Fn>
    struct SubscriberEntry {
        std::uint64_t id;
        Slot* slot;
        Fn fn;
    };

    template <typename Fn>
    class SubscriberList {
      public:
        using Entries = std::vector<SubscriberEntry<Fn>>;
        std::shared_ptr<const Entries> snapshot() const { return entries_; }
        bool empty() const { return entries_->empty(); }
        void add(SubscriberEntry<Fn> entry) {
            auto next = std::make_shared<Entries>(*entries_);
            next->push_back(std::move(entry));
            entries_ = std::move(next);
        }
        template <typename Pred>
        void eraseIf(Pred pred) {
            if (std::none_of(entries_->begin(), entries_->end(), pred)) {
                return;
            }
            auto next = std::make_shared<Entries>(*entries_);
            std::erase_if(*next, pred);
            entries_ = std::move(next);
        }
        void erase(std::uint64_t id) {
            eraseIf([id](const auto& entry) { return entry.id == id; });
        }

      private:
        std::shared_ptr<const Entries> entries_ = std::make_shared<const Entries>();
    };

    template <typename Fn>
    using Entry = SubscriberEntry<Fn>;
    std::uint64_t next_id = 0;
    SubscriberList<std::function<void(const EventView&)>> events;
    SubscriberList<std::function<void(const JobChange&)>> jobs;
    std::vector<Entry<std::function<void(ClassChange, const JobClassView&)>>> classes;
    SubscriberList<std::function<void(const OutputLines&)>> sinks;
    std::map<std::string, Entry<std::function<CommandReply(const std::vector<std::string>&)>>,
             std::less<>>
        commands;
    std::map<std::string, std::pair<Slot*, void*>, std::less<>> services;

    template <typename List>
    static void erase(List& list, std::uint64_t id) {
        std::erase_if(list, [id](const auto& entry) { return entry.id == id; });
    }
    void eraseSlot(Slot* slot) {
        const auto of = [slot](const auto& entry) { return entry.slot == slot; };
        events.eraseIf(of);
        jobs.eraseIf(of);
        std::erase_if(classes, of);
        sinks.eraseIf(of);
        std::erase_if(commands, [slot](const auto& item) { return item.second.slot == slot; });
        std::erase_if(services, [slot](const auto& item) { return item.second.first == slot; });
    }
};

// ---------------------------------------------------------------------------------------------
// The host a plugin sees

class PluginManager::Host final : public PluginHost {
  public:
    Host(PluginManager& manager, Slot& slot) : manager_(manager), slot_(slot) {}
    ~Host() override {
        *alive_ = false;
        for (auto& [id, watch] : fd_watches_) {
            boost::system::error_code ignored;
            watch->cancel(ignored);
            watch->release();  // the descriptor is the plugin's to close
        }
        for (auto& [id, timer] : timers_) {
            timer->cancel();
        }
        manager_.subscribers_->eraseSlot(&slot_);
        manager_.updateOutputTap();
        // Stanzas whose registration outlived the plugin (kept somewhere the plugin's
        // destruction does not reach): their checks are the plugin's code, about to be unloaded.
        for (const auto& keyword : stanzas_) {
            retireStanza(keyword);
        }
        for (std::uint64_t event : held_) {
            manager_.supervisor_.releaseEvent(event);
        }
    }

    std::string_view pluginName() const override { return slot_.descriptor.name; }
    std::string setting(std::string_view key, std::string_view fallback) const override {
        const auto it = slot_.conf.settings.find(key);
        return it == slot_.conf.settings.end() ? std::string(fallback) : it->second;
    }

    void log(LogLevel level, std::string_view text) override {
        const auto spd = level == LogLevel::Debug  ? spdlog::level::debug
                         : level == LogLevel::Info ? spdlog::level::info
                         : level == LogLevel::Warn ? spdlog::level::warn
                                                   : spdlog::level::err;
        manager_.logger_->log(spd, "[{}] {}", slot_.descriptor.name, text);
    }

    void emit(std::string name, std::vector<std::string> env,
              std::function<void(bool)> done) override {
        model::Environment environment;
        for (const auto& entry : env) {
            environment.setEntry(entry);
        }
        dispatch::Completion completion;
        if (done) {
            completion = [this, alive = std::weak_ptr<bool>(alive_), done](bool failed,
                                                                           const std::string&) {
                if (!alive.expired()) {
                    manager_.guarded(slot_, "an emit completion", [&] { done(failed); });
                }
            };
        }
        manager_.supervisor_.emit(std::move(name), std::move(environment), std::move(completion));
        manager_.supervisor_.poll();
    }

    Registration onEvent(std::function<void(const EventView&)> callback) override {
        const auto id = ++manager_.subscribers_->next_id;
        manager_.subscribers_->events.add({id, &slot_, std::move(callback)});
        return undo([this, id] { manager_.subscribers_->events.erase(id); });
    }

    Registration holdEvent(std::uint64_t event_id) override {
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

    Registration onJobChange(std::function<void(const JobChange&)> callback) override {
        const auto id = ++manager_.subscribers_->next_id;
        manager_.subscribers_->jobs.add({id, &slot_, std::move(callback)});
        return undo([this, id] { manager_.subscribers_->jobs.erase(id); });
    }

    Registration onJobClass(
        std::function<void(ClassChange, const JobClassView&)> callback) override {
        for (const auto* entry : manager_.supervisor_.classes()) {
            if (!entry->deleted) {
                const JobClassView view = viewOf(*entry->cls);
                if (!manager_.guarded(slot_, "a job class callback",
                                      [&] { callback(ClassChange::Added, view); })) {
                    return {};
                }
            }
        }
        const auto id = ++manager_.subscribers_->next_id;
        manager_.subscribers_->classes.push_back({id, &slot_, std::move(callback)});
        return undo([this, id] { Subscribers::erase(manager_.subscribers_->classes, id); });
    }

    Registration watchFd(int fd, unsigned events, std::function<void(unsigned)> ready) override {
        const auto id = ++next_id_;
        auto watch = std::make_shared<boost::asio::posix::stream_descriptor>(manager_.io_, fd);
        fd_watches_[id] = watch;
        auto wait = std::make_shared<std::function<void(unsigned)>>();
        *wait = [this, alive = std::weak_ptr<bool>(alive_), weak = std::weak_ptr(watch), ready,
                 wait_ref = std::weak_ptr(wait)](unsigned which) {
            auto live = weak.lock();
            auto again = wait_ref.lock();
            if (alive.expired() || !live || !again) {
                return;
            }
            const auto type = which == Writable ? boost::asio::posix::stream_descriptor::wait_write
                                                : boost::asio::posix::stream_descriptor::wait_read;
            live->async_wait(type, [this, alive, which, ready, again,
                                    weak](const boost::system::error_code& ec) {
                if (ec || alive.expired() || weak.expired()) {
                    return;
                }
                if (manager_.guarded(slot_, "an fd watch callback", [&] { ready(which); })) {
                    (*again)(which);
                }
            });
        };
        waits_[id] = wait;
        if (events & Readable) {
            (*wait)(Readable);
        }
        if (events & Writable) {
            (*wait)(Writable);
        }
        return undo([this, id] {
            if (const auto it = fd_watches_.find(id); it != fd_watches_.end()) {
                boost::system::error_code ignored;
                it->second->cancel(ignored);
                it->second->release();
                fd_watches_.erase(it);
            }
            waits_.erase(id);
        });
    }

    Registration addTimer(std::chrono::milliseconds delay, std::function<void()> fire,
                          bool repeat) override {
        const auto id = ++next_id_;
        auto timer = std::make_shared<boost::asio::steady_timer>(manager_.io_);
        timers_[id] = timer;
        auto arm = std::make_shared<std::function<void()>>();
        *arm = [this, alive = std::weak_ptr<bool>(alive_), weak = std::weak_ptr(timer), delay, fire,
                repeat, arm_ref = std::weak_ptr(arm)] {
            auto live = weak.lock();
            auto again = arm_ref.lock();
            if (alive.expired() || !live || !again) {
                return;
            }
            live->expires_after(delay);
            live->async_wait(
                [this, alive, weak, fire, repeat, again](const boost::system::error_code& ec) {
                    if (ec || alive.expired() || weak.expired()) {
                        return;
                    }
                    if (manager_.guarded(slot_, "a timer callback", [&] { fire(); }) && repeat) {
                        (*again)();
                    }
                });
        };
        arms_[id] = arm;
        (*arm)();
        return undo([this, id] {
            if (const auto it = timers_.find(id); it != timers_.end()) {
                it->second->cancel();
                timers_.erase(it);
            }
            arms_.erase(id);
        });
    }

    void post(std::function<void()> work) override {
        boost::asio::post(manager_.io_,
                          [this, alive = std::weak_ptr<bool>(alive_), work = std::move(work)] {
                              if (!alive.expired()) {
                                  manager_.guarded(slot_, "posted work", work);
                              }
                          });
    }

    Registration addStanza(
        std::string keyword,
        std::function<std::string(const std::vector<std::string>&)> check) override {
        conf::StanzaRegistry* registry = manager_.options_.stanzas;
        if (!registry) {
            log(LogLevel::Warn, "stanza '" + keyword + "': this tend takes no plugin stanzas");
            return {};
        }
        const std::string owner = std::string(slot_.descriptor.name);
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
                    !manager_.guarded(slot_, "a stanza check", [&] { problem = check(args); })) {
                    problem = "plugin " + owner + " failed while checking '" + keyword + "'";
                }
                if (!problem.empty()) {
                    context.error(context.stanza().offset, keyword + ": " + problem);
                    return;
                }
                context.job().plugin_stanzas[keyword].push_back(std::move(args));
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

    Registration addOutputSink(std::function<void(const OutputLines&)> sink) override {
        const auto id = ++manager_.subscribers_->next_id;
        manager_.subscribers_->sinks.add({id, &slot_, std::move(sink)});
        manager_.updateOutputTap();
        return undo([this, id] {
            manager_.subscribers_->sinks.erase(id);
            manager_.updateOutputTap();
        });
    }

    Registration addCommand(
        std::string name,
        std::function<CommandReply(const std::vector<std::string>&)> run) override {
        auto& commands = manager_.subscribers_->commands;
        if (commands.contains(name)) {
            log(LogLevel::Warn, "command '" + name + "' is already served by plugin " +
                                    std::string(commands.at(name).slot->descriptor.name));
            return {};
        }
        const auto id = ++manager_.subscribers_->next_id;
        commands.emplace(
            name, Subscribers::Entry<std::function<CommandReply(const std::vector<std::string>&)>>{
                      id, &slot_, std::move(run)});
        return undo([this, name, id] {
            auto& list = manager_.subscribers_->commands;
            if (const auto it = list.find(name); it != list.end() && it->second.id == id) {
                list.erase(it);
            }
        });
    }

    Registration provideService(std::string name, void* service) override {
        auto& services = manager_.subscribers_->services;
        if (services.contains(name)) {
            log(LogLevel::Warn, "service '" + name + "' is already provided");
            return {};
        }
        services.emplace(name, std::make_pair(&slot_, service));
        return undo([this, name] { manager_.subscribers_->services.erase(name); });
    }

    void* findService(std::string_view name) const override {
        const auto& services = manager_.subscribers_->services;
        const auto it = services.find(name);
        return it == services.end() ? nullptr : it->second.second;
    }

  private:
    // Job files that use the keyword now say they need this plugin; they are all read again.
    void retireStanza(const std::string& keyword) {
        manager_.options_.stanzas->remove(keyword);
        manager_.options_.stanzas->retire(keyword, std::string(slot_.descriptor.name));
        manager_.stanzasChanged();
    }

    Registration undo(std::function<void()> action) {
        return Registration([alive = std::weak_ptr<bool>(alive_), action = std::move(action)] {
            if (!alive.expired()) {
                action();
            }
        });
    }

    PluginManager& manager_;
    Slot& slot_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::uint64_t next_id_ = 0;
    std::map<std::uint64_t, std::shared_ptr<boost::asio::posix::stream_descriptor>> fd_watches_;
    std::map<std::uint64_t, std::shared_ptr<std::function<void(unsigned)>>> waits_;
    std::map<std::uint64_t, std::shared_ptr<boost::asio::steady_timer>> timers_;
    std::map<std::uint64_t, std::shared_ptr<std::function<void()>>> arms_;
    std::set<std::uint64_t> held_;
    std::set<std::string> stanzas_;  // keywords this plugin added to the registry
};

// ---------------------------------------------------------------------------------------------
// The manager

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
      rescan_timer_(io) {
    // One observer each on the supervisor; the fan-out to plugins is ours, so that a plugin's
    // failure never reaches the supervisor's own lists.
    observer_ids_[0] = supervisor_.eventObservers().add([this](const model::Event& event) {
        if (subscribers_->events.empty()) {
            return;
        }
        const EventView view{event.id, event.name, &event.env.entries()};
        const auto list = subscribers_->events.snapshot();
        Clock::time_point mark = Clock::now();
        for (const auto& entry : *list) {
            guarded(
                *entry.slot, "an event callback", [&] { entry.fn(view); }, &mark);
        }
    });
    observer_ids_[1] = supervisor_.transitionObservers().add(
        [this](const dispatch::Supervisor::Transition& change) {
            if (subscribers_->jobs.empty() || change.goal) {
                return;
            }
            const JobChange view{change.job->cls->name,
                                 change.job->instance,
                                 dispatch::goalName(change.new_goal),
                                 dispatch::stateName(change.new_state),
                                 dispatch::stateName(change.old_state),
                                 change.job->mainPid()};
            const auto list = subscribers_->jobs.snapshot();
            Clock::time_point mark = Clock::now();
            for (const auto& entry : *list) {
                guarded(
                    *entry.slot, "a job change callback", [&] { entry.fn(view); }, &mark);
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
                guarded(*entry.slot, "a job class callback", [&] { entry.fn(change, view); });
            }
        });
}

PluginManager::~PluginManager() {
    *alive_ = false;
    stopAll();
    if (tapping_ && options_.set_output_tap) {
        options_.set_output_tap({});
    }
    supervisor_.eventObservers().remove(observer_ids_[0]);
    supervisor_.transitionObservers().remove(observer_ids_[1]);
    supervisor_.classObservers().remove(observer_ids_[2]);
    inotify_.reset();
}

template <typename Fn>
bool PluginManager::guarded(Slot& slot, const char* what, Fn&& fn, Clock::time_point* mark) {
    if (slot.failing || (!slot.plugin && slot.state != "starting")) {
        return false;
    }
    const auto start = mark ? *mark : Clock::now();
    try {
        fn();
    } catch (const std::exception& e) {
        if (mark) {
            *mark = Clock::now();  // the next plugin's call starts now, not when this one did
        }
        fail(slot, std::string(what) + " threw: " + e.what());
        return false;
    } catch (...) {
        if (mark) {
            *mark = Clock::now();
        }
        fail(slot, std::string(what) + " threw something that is not a std::exception");
        return false;
    }
    const auto end = Clock::now();
    if (mark) {
        *mark = end;
    }
    const auto took = end - start;
    if (took > options_.callback_budget) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
        ++slot.overruns;
        logger_->warn("[{}] {} blocked tend's event loop for {} ms (budget {} ms; {} of {})",
                      slot.descriptor.name, what, ms, options_.callback_budget.count(),
                      slot.overruns, options_.overruns_allowed);
        if (slot.overruns >= options_.overruns_allowed) {
            fail(slot, "blocked the event loop too often (" + std::to_string(slot.overruns) +
                           " times over " + std::to_string(options_.callback_budget.count()) +
                           " ms)");
            return false;
        }
    }
    return true;
}

void PluginManager::fail(Slot& slot, const std::string& what) {
    if (slot.failing) {
        return;
    }
    slot.failing = true;
    logger_->error("[{}] {}; disabling the plugin (its jobs keep running)", slot.descriptor.name,
                   what);
    // Torn down from the loop, not from inside its own call stack.
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), &slot, what] {
        if (!alive.expired()) {
            stopSlot(slot, "failed", what);
        }
    });
}

void PluginManager::stopSlot(Slot& slot, const std::string& state, const std::string& reason) {
    if (slot.plugin && !slot.failing) {
        guarded(slot, "stop()", [&] { slot.plugin->stop(); });
    }
    slot.plugin.reset();
    slot.host.reset();
    if (slot.library.is_loaded()) {
        slot.library.unload();
    }
    slot.state = state;
    slot.reason = reason;
    slot.failing = false;
    // Plugins that required it cannot go on without it.
    for (auto& other : slots_) {
        if (other->plugin && other.get() != &slot &&
            std::find(other->descriptor.requires_plugins.begin(),
                      other->descriptor.requires_plugins.end(),
                      slot.descriptor.name) != other->descriptor.requires_plugins.end()) {
            logger_->warn("[{}] stopping: it requires {}, which {}", other->descriptor.name,
                          slot.descriptor.name, state == "failed" ? "failed" : "was unloaded");
            stopSlot(*other, "skipped",
                     "it requires " + slot.descriptor.name + ", which is not running");
        }
    }
}

std::vector<fs::path> PluginManager::scan() const {
    std::vector<fs::path> out;
    for (const auto& dir : options_.dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            continue;
        }
        std::vector<fs::path> here;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".so") {
                here.push_back(entry.path());
            }
        }
        std::sort(here.begin(), here.end());
        out.insert(out.end(), here.begin(), here.end());
    }
    return out;
}

void PluginManager::start() {
    load(scan());
    if (options_.watch) {
        watchDirectories();
    }
}

void PluginManager::load(const std::vector<fs::path>& files) {
    // Phase 1: descriptors, trust and configuration, without running any plugin code.
    std::vector<Slot*> candidates;
    for (const auto& path : files) {
        auto slot = std::make_unique<Slot>();
        slot->path = path;
        slot->stamp = daemon::stampOf(path);
        slot->descriptor.name = path.stem().string();
        Slot& s = *slot;
        slots_.push_back(std::move(slot));
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
            logger_->error("plugin {}: {}", path.string(), s.reason);
            continue;
        }
        for (const auto& other : slots_) {
            if (other.get() != &s && other->plugin && other->descriptor.name == s.descriptor.name) {
                s.state = "skipped";
                s.reason = "a plugin named " + s.descriptor.name + " is already loaded from " +
                           other->path.string();
            }
        }
        if (s.state == "skipped") {
            logger_->warn("plugin {}: {}", path.string(), s.reason);
            continue;
        }
        s.conf =
            readPluginConf(path.parent_path() / (s.descriptor.name + ".conf"), s.descriptor.name);
        for (const auto& problem : s.conf.problems) {
            logger_->error("plugin {}: {}", s.descriptor.name, problem);
        }
        if (!s.conf.enabled) {
            s.state = "disabled";
            s.reason = "disabled in " + s.descriptor.name + ".conf";
            logger_->info("plugin {}: {}", s.descriptor.name, s.reason);
            continue;
        }
        s.state = "pending";
        candidates.push_back(&s);
    }

    // Phase 2: start in dependency order.
    std::set<std::string> running;
    for (const auto& slot : slots_) {
        if (slot->plugin) {
            running.insert(slot->descriptor.name);
        }
    }
    std::vector<Slot*> order;
    bool progress = true;
    while (progress) {
        progress = false;
        for (Slot* slot : candidates) {
            if (slot->state != "pending") {
                continue;
            }
            bool ready = true;
            for (const auto& wanted : slot->descriptor.requires_plugins) {
                ready = ready && running.contains(wanted);
            }
            for (const auto& wanted : slot->descriptor.optional_plugins) {
                // Wait for an optional plugin only while it can still come.
                const bool coming = std::any_of(candidates.begin(), candidates.end(), [&](Slot* s) {
                    return s->state == "pending" && s->descriptor.name == wanted;
                });
                ready = ready && !coming;
            }
            if (!ready) {
                continue;
            }
            progress = true;
            if (startSlot(*slot)) {
                running.insert(slot->descriptor.name);
                order.push_back(slot);
            }
        }
    }
    for (Slot* slot : candidates) {
        if (slot->state != "pending") {
            continue;
        }
        std::vector<std::string> missing;
        for (const auto& wanted : slot->descriptor.requires_plugins) {
            if (!running.contains(wanted)) {
                missing.push_back(wanted);
            }
        }
        slot->state = "skipped";
        slot->reason = missing.empty() ? "its requirements form a cycle"
                                       : "it requires " + joined(missing) + ", which " +
                                             (missing.size() == 1 ? "is" : "are") + " not running";
        logger_->error("plugin {}: skipped: {}", slot->descriptor.name, slot->reason);
    }
    // Keep slots_ in start order, so that stopAll() runs in reverse.
    std::stable_partition(slots_.begin(), slots_.end(),
                          [](const std::unique_ptr<Slot>& s) { return s->plugin != nullptr; });
}

bool PluginManager::startSlot(Slot& slot) {
    const auto start = std::chrono::steady_clock::now();  // fine: load times are sub-ms
    try {
        slot.library.load(slot.path.string(),
                          boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        std::string why = e.what();
        if (const auto noise = why.rfind(": Bad file descriptor"); noise != std::string::npos) {
            why.erase(noise);
        }
        slot.state = "failed";
        slot.reason = "cannot load: " + why;
        logger_->error("plugin {}: {}", slot.descriptor.name, slot.reason);
        return false;
    }
    if (!slot.library.has(kFactorySymbol)) {
        slot.library.unload();
        slot.state = "failed";
        slot.reason = std::string("no factory: the library does not export ") + kFactorySymbol;
        logger_->error("plugin {}: {}", slot.descriptor.name, slot.reason);
        return false;
    }
    auto& factory = slot.library.get_alias<Factory>(kFactorySymbol);
    slot.host = std::make_unique<Host>(*this, slot);
    slot.state = "starting";
    const bool made = guarded(slot, "its factory", [&] { slot.plugin = factory(*slot.host); });
    if (!made || !slot.plugin) {
        const std::string reason = slot.failing ? "its factory failed" : "its factory made nothing";
        slot.failing = true;  // the posted teardown finds it failed already
        slot.plugin.reset();
        slot.host.reset();
        slot.library.unload();
        slot.state = "failed";
        if (slot.reason.empty() || slot.reason == "") {
            slot.reason = reason;
        }
        slot.failing = false;
        return false;
    }
    if (!guarded(slot, "start()", [&] { slot.plugin->start(); })) {
        return false;
    }
    slot.load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    slot.state = "running";
    slot.reason.clear();
    logger_->info("plugin {} {} started from {} in {:.2f} ms", slot.descriptor.name,
                  slot.descriptor.version, slot.path.string(), slot.load_ms);
    return true;
}

void PluginManager::stopAll() {
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
        if ((*it)->plugin) {
            stopSlot(**it, "stopped", "tend is ending");
        }
    }
}

void PluginManager::rescan() {
    const auto files = scan();
    std::set<fs::path> present(files.begin(), files.end());
    std::vector<fs::path> to_load;
    // Gone or replaced: stop and unload (their dependents stop with them).
    for (auto& slot : slots_) {
        const bool gone = !present.contains(slot->path);
        const bool replaced = !gone && daemon::stampOf(slot->path) != slot->stamp;
        if (!gone && !replaced) {
            continue;
        }
        if (slot->plugin) {
            logger_->info("plugin {}: {}", slot->descriptor.name,
                          gone ? "its file is gone; unloading" : "its file changed; restarting");
            stopSlot(*slot, "stopped", gone ? "unloaded" : "replaced");
        }
        slot->path.clear();  // forgotten below
    }
    // Whatever is not running now gets another chance: new files, replaced ones, dependents.
    std::set<fs::path> running;
    for (const auto& slot : slots_) {
        if (slot->plugin) {
            running.insert(slot->path);
        }
    }
    std::erase_if(slots_, [](const std::unique_ptr<Slot>& s) { return !s->plugin; });
    for (const auto& path : files) {
        if (!running.contains(path)) {
            to_load.push_back(path);
        }
    }
    load(to_load);
}

std::vector<PluginStatus> PluginManager::status() const {
    std::vector<PluginStatus> out;
    for (const auto& slot : slots_) {
        PluginStatus s;
        s.name = slot->descriptor.name;
        s.path = slot->path.string();
        s.version = slot->descriptor.version;
        s.state = slot->state;
        s.reason = slot->reason;
        s.requires_plugins = slot->descriptor.requires_plugins;
        s.provides = slot->descriptor.provides;
        s.load_ms = slot->load_ms;
        out.push_back(std::move(s));
    }
    return out;
}

bool PluginManager::runCommand(const std::string& name, const std::vector<std::string>& args,
                               CommandReply& reply) {
    const auto it = subscribers_->commands.find(name);
    if (it == subscribers_->commands.end()) {
        return false;
    }
    auto entry = it->second;
    if (!guarded(*entry.slot, "a control command", [&] { reply = entry.fn(args); })) {
        reply.ok = false;
        reply.text = "plugin " + entry.slot->descriptor.name + " failed to answer '" + name + "'";
    }
    return true;
}

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
        guarded(*entry.slot, "an output sink", [&] { entry.fn(view); });
    }
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

void PluginManager::watchDirectories() {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
        logger_->warn("cannot watch plugin directories ({}); new plugins load at the next start",
                      std::strerror(errno));
        return;
    }
    inotify_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, inotify_fd_);
    for (const auto& dir : options_.dirs) {
        ::inotify_add_watch(inotify_fd_, dir.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB);
    }
    readWatch();
}

void PluginManager::readWatch() {
    inotify_->async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired()) {
                return;
            }
            bool relevant = false;
            alignas(inotify_event) char buffer[8192];
            for (;;) {
                const ssize_t n = ::read(inotify_fd_, buffer, sizeof buffer);
                if (n <= 0) {
                    break;
                }
                for (char* p = buffer; p < buffer + n;) {
                    const auto* event = reinterpret_cast<const inotify_event*>(p);
                    p += sizeof(inotify_event) + event->len;
                    const std::string_view name = event->len ? event->name : "";
                    relevant = relevant || name.ends_with(".so") || name.ends_with(".conf");
                }
            }
            if (relevant) {
                // A copy arrives as several writes; act once it has been quiet for a moment
                // (and only on whole files: load() refuses a truncated one).
                rescan_timer_.expires_after(std::chrono::milliseconds(50));
                rescan_timer_.async_wait([this, alive](const boost::system::error_code& wait) {
                    if (!wait && !alive.expired()) {
                        rescan();
                    }
                });
            }
            readWatch();
        });
}

}  // namespace tend::plugin
