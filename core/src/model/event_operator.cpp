// SPDX-License-Identifier: MIT
#include "model/event_operator.hpp"

#include <fnmatch.h>

namespace tend::model {

namespace {

bool globMatches(const std::string& pattern, std::string_view value) {
    return ::fnmatch(pattern.c_str(), std::string(value).c_str(), 0) == 0;
}

}  // namespace

bool matchesEvent(const grammar::EventMatch& match, const Event& event, VariableLookup env) {
    if (match.name != event.name) {
        return false;
    }
    std::size_t position = 0;
    for (const grammar::EventArg& arg : match.args) {
        const auto pattern = expandVariables(arg.value, env);
        if (!pattern) {
            return false;
        }
        if (arg.positional()) {
            if (position >= event.env.size() ||
                !globMatches(*pattern, event.env.valueAt(position))) {
                return false;
            }
            ++position;
            continue;
        }
        const auto value = event.env.get(arg.key);
        if (!value || globMatches(*pattern, *value) == arg.negated) {
            return false;
        }
    }
    return true;
}

EventOperator::EventOperator(grammar::EventCondition condition)
    : condition_(std::move(condition)), matched_(condition_.nodes().size()) {}

bool EventOperator::handle(const Event& event, VariableLookup env) {
    bool changed = false;
    const auto& nodes = condition_.nodes();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].kind == grammar::EventNode::Kind::Match && !matched_[i] &&
            matchesEvent(nodes[i].match, event, env)) {
            matched_[i] = event;
            changed = true;
        }
    }
    return changed;
}

bool EventOperator::value(std::uint32_t index) const {
    const grammar::EventNode& node = condition_.node(index);
    switch (node.kind) {
    case grammar::EventNode::Kind::Match:
        return matched_[index].has_value();
    case grammar::EventNode::Kind::And:
        return value(node.lhs) && value(node.rhs);
    case grammar::EventNode::Kind::Or:
        return value(node.lhs) || value(node.rhs);
    }
    return false;
}

void EventOperator::collect(std::uint32_t index, std::vector<const Event*>& out) const {
    const grammar::EventNode& node = condition_.node(index);
    if (node.kind == grammar::EventNode::Kind::Match) {
        if (matched_[index]) {
            out.push_back(&*matched_[index]);
        }
        return;
    }
    // Only the sides that contribute to a true value carry their events, as in Upstart.
    if (node.kind == grammar::EventNode::Kind::Or) {
        if (value(node.lhs)) {
            collect(node.lhs, out);
        } else {
            collect(node.rhs, out);
        }
        return;
    }
    collect(node.lhs, out);
    collect(node.rhs, out);
}

std::vector<const Event*> EventOperator::matchedEvents() const {
    std::vector<const Event*> out;
    if (!condition_.empty() && value()) {
        collect(condition_.rootIndex(), out);
    }
    return out;
}

void EventOperator::reset() {
    for (auto& m : matched_) {
        m.reset();
    }
}

std::vector<const grammar::EventMatch*> EventOperator::unmatched() const {
    std::vector<const grammar::EventMatch*> out;
    const auto& nodes = condition_.nodes();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].kind == grammar::EventNode::Kind::Match && !matched_[i]) {
            out.push_back(&nodes[i].match);
        }
    }
    return out;
}

std::vector<std::pair<std::uint32_t, const Event*>> EventOperator::matchedNodes() const {
    std::vector<std::pair<std::uint32_t, const Event*>> out;
    for (std::size_t i = 0; i < matched_.size(); ++i) {
        if (matched_[i]) {
            out.emplace_back(static_cast<std::uint32_t>(i), &*matched_[i]);
        }
    }
    return out;
}

bool EventOperator::restoreMatch(std::uint32_t index, Event event) {
    if (index >= matched_.size() ||
        condition_.node(index).kind != grammar::EventNode::Kind::Match) {
        return false;
    }
    matched_[index] = std::move(event);
    return true;
}

}  // namespace tend::model
