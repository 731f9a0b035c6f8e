// SPDX-License-Identifier: MIT
// Who subscribed to what: the plugins' callbacks for events, job changes, job classes and
// output, their commands and the services they provide, each entry tagged with its plugin so
// that all of a plugin's go at once when it stops.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tend/plugin/plugin.hpp"

namespace tend::plugin {

struct PluginRecord;

using CommandFunction = std::function<void(const CommandCall&, CommandResponder)>;

// The callbacks on the hot paths (events, job changes, output) are lists that are copied when
// they change, which is rare, so that a fan-out only takes a reference to the current list:
// no copy per event, and a callback may (un)subscribe while the list is being walked.
struct Subscribers {
    template <typename Fn>
    struct SubscriberEntry {
        std::uint64_t id;
        PluginRecord* record;
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
    SubscriberList<std::function<void(const TendLogLine&)>> log_sinks;
    struct GrowthWatch {
        std::uint64_t step;
        std::function<void(const LogGrowth&)> fn;
    };
    SubscriberList<GrowthWatch> growth;
    std::map<std::string, Entry<CommandFunction>, std::less<>> commands;
    std::map<std::string, std::pair<PluginRecord*, void*>, std::less<>> services;

    template <typename List>
    static void erase(List& list, std::uint64_t id) {
        std::erase_if(list, [id](const auto& entry) { return entry.id == id; });
    }
    void eraseRecord(PluginRecord* record) {
        const auto of = [record](const auto& entry) { return entry.record == record; };
        events.eraseIf(of);
        jobs.eraseIf(of);
        std::erase_if(classes, of);
        sinks.eraseIf(of);
        log_sinks.eraseIf(of);
        growth.eraseIf(of);
        std::erase_if(commands,
                      [record](const auto& item) { return item.second.record == record; });
        std::erase_if(services, [record](const auto& item) { return item.second.first == record; });
    }
};

}  // namespace tend::plugin
