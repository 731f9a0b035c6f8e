// SPDX-License-Identifier: MIT
// EventOperator: the live form of a `start on` / `stop on` condition.
//
// The parsed EventCondition is a tree of OR, AND and MATCH nodes. Events arrive one at a time,
// so each MATCH remembers whether an event has matched it (and which), and AND becomes true only
// once both sides have. When the root turns true, the job acts and the tree is reset; the events
// that made it true are what flow into the job's environment (`UPSTART_EVENTS` and their
// variables). Matching a MATCH node:
//   - the event name compares exactly;
//   - each operand is first expanded against the job's environment ($VAR, ${VAR:-d}, ...);
//     a reference to an unset variable makes that operand fail, silently, as in Upstart;
//   - positional operands compare, with fnmatch globs, to the event's variables' values in order;
//     `KEY=VALUE` looks KEY up anywhere, `KEY!=VALUE` negates the glob but still needs KEY.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "model/environment.hpp"
#include "model/event.hpp"
#include "tend/grammar/event_expr.hpp"

namespace tend::model {

// Whether one event satisfies one MATCH node.
bool matchesEvent(const grammar::EventMatch& match, const Event& event, VariableLookup env);

class EventOperator {
  public:
    explicit EventOperator(grammar::EventCondition condition);

    // Offers an event to every MATCH node that is not yet true. Returns whether any node
    // changed; the caller then checks value().
    bool handle(const Event& event, VariableLookup env);
    bool value() const { return value(condition_.rootIndex()); }
    // The events that make the tree true, in the order of the condition (left to right).
    std::vector<const Event*> matchedEvents() const;
    void reset();

    const grammar::EventCondition& condition() const { return condition_; }
    // MATCH nodes that are not yet true, for `tendctl explain`.
    std::vector<const grammar::EventMatch*> unmatched() const;
    // The MATCH nodes that an event has made true, by node index, with that event: what a
    // re-exec carries over while the tree waits for the rest.
    std::vector<std::pair<std::uint32_t, const Event*>> matchedNodes() const;
    // Marks node `index` as matched by `event` (one a tend before a re-exec saw). False, and
    // nothing changed, when `index` is not a MATCH node of this tree.
    bool restoreMatch(std::uint32_t index, Event event);

  private:
    bool value(std::uint32_t index) const;
    void collect(std::uint32_t index, std::vector<const Event*>& out) const;

    grammar::EventCondition condition_;
    std::vector<std::optional<Event>> matched_;  // per node; set on MATCH nodes only
};

}  // namespace tend::model
