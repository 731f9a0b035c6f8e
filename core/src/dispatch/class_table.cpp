// SPDX-License-Identifier: MIT
// The class table: job classes added, replaced and removed, and the index by event that keeps
// dispatch proportional to the classes an event can concern.
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>

#include "dispatch/supervisor.hpp"
#include "model/comma_list.hpp"

namespace tend::dispatch {

Supervisor::Supervisor(sys::Platform& platform, log::OutputRouter* output,
                       SupervisorOptions options, std::shared_ptr<spdlog::logger> logger)
    : platform_(platform),
      output_(output),
      options_(std::move(options)),
      logger_(logger ? std::move(logger) : spdlog::default_logger()) {
    auto initial = std::make_shared<GlobalEnvironment>();
    initial->env = std::move(options_.global_env);
    const auto now = std::chrono::system_clock::now();
    for (std::size_t i = 0; i < initial->env.size(); ++i) {
        const std::string& entry = initial->env.entry(i);
        const std::string name = entry.substr(0, entry.find('='));
        initial->origins[name] =
            VariableOrigin{"session", "", "", "", 0, now, std::string(initial->env.valueAt(i))};
    }
    initial_global_ = initial;
    global_ = std::move(initial);
}

Supervisor::~Supervisor() {
    for (auto& [name, entry] : classes_) {
        for (auto& [instance, job] : entry->instances) {
            cancelTimer(job->kill_timer);
            cancelTimer(job->delay_timer);
            cancelTimer(job->start_timer);
            for (const int fd : {job->output_fd, job->error_fd}) {
                if (fd >= 0) {
                    ::close(fd);
                }
            }
        }
    }
}

void Supervisor::setClass(std::shared_ptr<const model::JobClass> cls) {
    auto it = classes_.find(cls->name);
    if (it == classes_.end()) {
        it = classes_.emplace(cls->name, std::make_unique<ClassEntry>()).first;
    } else {
        indexClass(*it->second, false);
    }
    ClassEntry& entry = *it->second;
    std::vector<std::string> ignored;
    if (cls->seldom->chroot) {
        ignored.emplace_back("chroot");
    }
    if (cls->seldom->apparmor_load || cls->seldom->apparmor_switch) {
        ignored.emplace_back("apparmor");
    }
    if (!cls->seldom->cgroups.empty()) {
        ignored.emplace_back("cgroup");
    }
    if (!ignored.empty()) {
        logger_->info("{}: not applied in a user session: {}", cls->name,
                      model::commaList(ignored));
    }
    const bool existed = static_cast<bool>(entry.cls) && !entry.deleted;
    const bool stop_on_changed = entry.cls && entry.cls->stop_on != cls->stop_on;
    entry.cls = std::move(cls);
    entry.deleted = false;
    entry.start_on.reset();
    if (entry.cls->start_on) {
        entry.start_on.emplace(*entry.cls->start_on);
    }
    // Running instances keep the definition they started with, except for `stop on`, which
    // (as in Upstart) takes effect at once.
    for (auto& [instance, job] : entry.instances) {
        if (stop_on_changed) {
            job->stop_on.reset();
            if (entry.cls->stop_on) {
                job->stop_on.emplace(*entry.cls->stop_on);
            }
        }
    }
    indexClass(entry, true);
    if (!class_observers_.empty()) {
        const auto keep = entry.cls;  // an observer may replace the class again
        class_observers_.notify(existed ? ClassChangeKind::Changed : ClassChangeKind::Added, *keep);
    }
}

namespace {

// The buckets a MATCH node may be filed under: its event name, narrowed by a literal operand
// when it has one (`started dbus` under "started" + "#dbus", `dbus SIGNAL=Ping ARG0=x` under
// "dbus" + "SIGNAL=Ping" or + "ARG0=x"). Every literal operand must match, so any one of them
// is enough to find the class; an event visits only the classes filed under what it carries.
std::vector<std::string> matchKeys(const grammar::EventMatch& match) {
    const auto literal = [](const std::string& value) {
        return value.find_first_of("*?[$\\") == std::string::npos;
    };
    std::vector<std::string> keys;
    if (!match.args.empty() && match.args.front().positional() &&
        literal(match.args.front().value)) {
        keys.push_back(match.name + "\x1f#" + match.args.front().value);
    }
    for (const auto& arg : match.args) {
        if (!arg.positional() && !arg.negated && literal(arg.value)) {
            keys.push_back(match.name + "\x1f" + arg.key + "=" + arg.value);
        }
    }
    if (keys.empty()) {
        keys.push_back(match.name);
    }
    return keys;
}

}  // namespace

void Supervisor::indexClass(ClassEntry& entry, bool add) {
    auto visit = [&](const std::optional<grammar::EventCondition>& condition, EventIndex& index) {
        if (!condition) {
            return;
        }
        for (const grammar::EventMatch* match : condition->matches()) {
            const std::vector<std::string> keys = matchKeys(*match);
            if (!add) {
                for (const std::string& key : keys) {
                    const auto it = index.find(key);
                    if (it != index.end()) {
                        std::erase(it->second, &entry);
                    }
                }
                continue;
            }
            // The operand whose bucket is smallest now: 1,000 jobs that wait for `dbus
            // SIGNAL=Ping ARG0=jobN` end up one per ARG0 bucket, not all in SIGNAL=Ping's.
            const std::string* best = nullptr;
            std::size_t best_size = 0;
            bool filed = false;
            for (const std::string& key : keys) {
                const auto it = index.find(key);
                const std::size_t size = it == index.end() ? 0 : it->second.size();
                if (size > 0 &&
                    std::find(it->second.begin(), it->second.end(), &entry) != it->second.end()) {
                    filed = true;  // by another node of the condition that needs this too
                    break;
                }
                if (!best || size < best_size) {
                    best = &key;
                    best_size = size;
                }
            }
            if (!filed) {
                index[*best].push_back(&entry);
            }
        }
    };
    if (!add || !entry.deleted) {
        visit(entry.cls->start_on, start_index_);
    }
    visit(entry.cls->stop_on, stop_index_);
    // A running instance may still hold an older stop on; keep it reachable.
    for (auto& [name, job] : entry.instances) {
        if (job->cls != entry.cls) {
            visit(job->cls->stop_on, stop_index_);
        }
    }
}

void Supervisor::candidates(const EventIndex& index, const model::Event& event,
                            std::vector<ClassEntry*>& out) {
    out.clear();
    const std::uint64_t epoch = ++visit_epoch_;
    const auto take = [&](const std::string& key) {
        const auto it = index.find(key);
        if (it == index.end()) {
            return;
        }
        for (ClassEntry* entry : it->second) {
            if (entry->visit_epoch != epoch) {
                entry->visit_epoch = epoch;
                out.push_back(entry);
            }
        }
    };
    take(event.name);
    if (event.env.size() == 0) {
        return;
    }
    std::string key = event.name + "\x1f#";
    const std::size_t prefix = key.size() - 1;
    key.append(event.env.valueAt(0));
    take(key);
    for (const auto& entry : event.env.entries()) {
        key.resize(prefix);
        key.append(entry);
        take(key);
    }
}

void Supervisor::removeClass(std::string_view name) {
    const auto it = classes_.find(name);
    if (it == classes_.end()) {
        return;
    }
    ClassEntry& entry = *it->second;
    if (!class_observers_.empty()) {
        const auto keep = entry.cls;
        class_observers_.notify(ClassChangeKind::Removed, *keep);
    }
    if (entry.instances.empty()) {
        indexClass(entry, false);
        classes_.erase(it);
        return;
    }
    // Unindexed and re-indexed so that only the running instances' `stop on` stays live.
    indexClass(entry, false);
    entry.deleted = true;
    entry.start_on.reset();
    indexClass(entry, true);
}

const ClassEntry* Supervisor::findClass(std::string_view name) const {
    const auto it = classes_.find(name);
    return it == classes_.end() ? nullptr : it->second.get();
}

std::vector<const ClassEntry*> Supervisor::classes() const {
    std::vector<const ClassEntry*> out;
    out.reserve(classes_.size());
    for (const auto& [name, entry] : classes_) {
        out.push_back(entry.get());
    }
    return out;
}

model::LayeredEnvironment Supervisor::classEnvironment(const model::JobClass& cls) const {
    // The generation's table, owned by the generation: the instance keeps the generation alive.
    model::LayeredEnvironment env(
        std::shared_ptr<const model::Environment>(global_, &global_->env));
    for (const auto& entry : cls.env) {
        if (entry.value) {
            env.set(entry.name, *entry.value);
        } else if (const char* value = std::getenv(entry.name.c_str())) {
            env.set(entry.name, value);
        }
    }
    return env;
}

void Supervisor::setFileError(std::string_view name, std::string error) {
    if (const auto it = classes_.find(name); it != classes_.end()) {
        it->second->file_error = std::move(error);
    }
}

}  // namespace tend::dispatch
