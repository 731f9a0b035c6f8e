// SPDX-License-Identifier: MIT
// The event queue: events emitted, handled (stop matching before start matching) and finished
// once their blockers reach zero.
#include <spdlog/spdlog.h>
#include <algorithm>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

void Supervisor::emit(std::string name, model::Environment env, Completion done) {
    auto event = std::make_shared<QueuedEvent>();
    event->event.id = next_event_id_++;
    event->event.name = std::move(name);
    event->event.env = std::move(env);
    if (done) {
        event->on_finished.push_back(std::move(done));
    }
    live_events_.emplace(event->event.id, event);
    queue_.push_back(std::move(event));
}

void Supervisor::poll() {
    if (polling_) {
        return;  // an input arrived while draining; the running drain will see its work
    }
    polling_ = true;
    bool again = true;
    while (again) {
        again = false;
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            auto event = queue_[i];
            if (event->progress == QueuedEvent::Progress::Pending) {
                event->progress = QueuedEvent::Progress::Handling;
                handleEvent(*event);
                again = true;
            }
            if (event->progress == QueuedEvent::Progress::Handling && event->blockers <= 0) {
                event->progress = QueuedEvent::Progress::Finished;
                finishEvent(event);
                again = true;
            }
        }
        std::erase_if(queue_, [](const std::shared_ptr<QueuedEvent>& e) {
            return e->progress == QueuedEvent::Progress::Finished;
        });
    }
    polling_ = false;
    sweep();
}

void Supervisor::handleEvent(QueuedEvent& queued) {
    const model::Event& event = queued.event;
    logger_->debug("handling event {}", event.name);
    if (!event_observers_.empty()) {
        event_observers_.notify(event);
    }

    // Stop matching first, so that `stop on a` / `start on a` restarts rather than ignores.
    std::vector<ClassEntry*> entries;
    candidates(stop_index_, event, entries);
    {
        for (ClassEntry* entry : entries) {
            std::vector<Job*> jobs;
            for (auto& [name, job] : entry->instances) {
                jobs.push_back(job.get());
            }
            for (Job* job : jobs) {
                if (!job->stop_on) {
                    continue;
                }
                job->stop_on->handle(event, job->env);
                if (!job->stop_on->value()) {
                    continue;
                }
                if (job->goal != Goal::Stop) {
                    StopRecord& record = job->recordStop();
                    record.stop_env = {};
                    record.stop_events.clear();
                    for (const model::Event* matched : job->stop_on->matchedEvents()) {
                        for (const auto& entry_text : matched->env.entries()) {
                            record.stop_env.setEntry(entry_text);
                        }
                        record.stop_events +=
                            (record.stop_events.empty() ? "" : " ") + matched->name;
                    }
                    blockEvents(*job, *job->stop_on);
                    changeGoal(*job, Goal::Stop);
                }
                job->stop_on->reset();
            }
        }
    }

    candidates(start_index_, event, entries);
    {
        // A job that does not run has no environment of its own: its `start on` operands expand
        // against the global table, so that `FILE=$HOME/x` means the session's home.
        const model::Environment& global = globalEnvironment();
        for (ClassEntry* entry : entries) {
            if (!entry->start_on) {
                continue;
            }
            entry->start_on->handle(event, global);
            if (!entry->start_on->value()) {
                continue;
            }
            model::LayeredEnvironment env = classEnvironment(*entry->cls);
            std::string names;
            OriginTable origins;
            const auto now = std::chrono::system_clock::now();
            for (const model::Event* matched : entry->start_on->matchedEvents()) {
                for (const auto& entry_text : matched->env.entries()) {
                    env.setEntry(entry_text);
                    const auto eq = entry_text.find('=');
                    if (eq != std::string::npos) {
                        origins[entry_text.substr(0, eq)] = VariableOrigin{
                            "event", matched->name, "", "", 0, now, entry_text.substr(eq + 1)};
                    }
                }
                names += (names.empty() ? "" : " ") + matched->name;
            }
            env.set("UPSTART_EVENTS", names);
            env.set("TEND_EVENTS", names);
            const auto instance = model::expandVariables(entry->cls->instance, env);
            if (!instance) {
                logger_->error(
                    "{}: cannot start an instance for event {}: the instance name '{}' "
                    "uses an unset variable",
                    entry->cls->name, event.name, entry->cls->instance);
                entry->start_on->reset();
                continue;
            }
            auto found = entry->instances.find(*instance);
            Job& job = found != entry->instances.end() ? *found->second
                                                       : createInstance(*entry, *instance);
            if (job.goal != Goal::Start) {
                job.env = std::move(env);
                job.global_at_start = global_;
                job.own_origins = std::move(origins);
                job.start_events = names;
                if (job.stop_on) {
                    job.stop_on->reset();
                }
                blockEvents(job, *entry->start_on);
                changeGoal(job, Goal::Start);
            }
            entry->start_on->reset();
        }
    }
}

void Supervisor::blockEvents(Job& job, const model::EventOperator& op) {
    for (const model::Event* matched : op.matchedEvents()) {
        const auto it = live_events_.find(matched->id);
        if (it == live_events_.end()) {
            continue;  // already finished: a match remembered from an earlier event
        }
        ++it->second->blockers;
        job.blocking.push_back(it->second);
    }
}

void Supervisor::finishEvent(const std::shared_ptr<QueuedEvent>& event) {
    live_events_.erase(event->event.id);
    if (Job* job = event->hook_of) {
        event->hook_of = nullptr;
        job->blocker.reset();
        changeState(*job, nextState(*job));
    }
    for (auto& done : event->on_finished) {
        done(event->failed, event->failure_detail);
    }
    event->on_finished.clear();
    const std::string& name = event->event.name;
    if (event->failed && !name.ends_with("/failed")) {
        emit(name + "/failed", event->event.env);
    }
}

bool Supervisor::holdEvent(std::uint64_t event_id) {
    const auto it = live_events_.find(event_id);
    if (it == live_events_.end() || it->second->progress == QueuedEvent::Progress::Finished) {
        return false;
    }
    ++it->second->blockers;
    return true;
}

void Supervisor::releaseEvent(std::uint64_t event_id) {
    if (const auto it = live_events_.find(event_id); it != live_events_.end()) {
        --it->second->blockers;
        poll();
    }
}

}  // namespace tend::dispatch
