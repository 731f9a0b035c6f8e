// SPDX-License-Identifier: MIT
// `start on` / `stop on` conditions as a tree of OR, AND and MATCH nodes.
//
// Upstart gives `and` and `or` equal precedence and folds them left to right, so
// `a or b and c` is `(a or b) and c`. The tree is stored flat (nodes refer to each other by
// index) so that a condition is an ordinary copyable value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tend::grammar {

struct EventArg {
    std::string key;  // empty for a positional operand
    std::string value;
    bool negated = false;  // KEY!=VALUE
    std::uint32_t offset = 0;

    bool positional() const { return key.empty(); }
    friend bool operator==(const EventArg& a, const EventArg& b) {
        return a.key == b.key && a.value == b.value && a.negated == b.negated;
    }
};

struct EventMatch {
    std::string name;
    std::vector<EventArg> args;
    std::uint32_t offset = 0;

    friend bool operator==(const EventMatch& a, const EventMatch& b) {
        return a.name == b.name && a.args == b.args;
    }
};

struct EventNode {
    enum class Kind : std::uint8_t { Match, And, Or };
    Kind kind = Kind::Match;
    std::uint32_t lhs = 0;  // children, for And / Or
    std::uint32_t rhs = 0;
    EventMatch match;  // for Match
};

class EventCondition {
  public:
    std::uint32_t addMatch(EventMatch match);
    std::uint32_t addOperator(EventNode::Kind kind, std::uint32_t lhs, std::uint32_t rhs);
    void setRoot(std::uint32_t root) { root_ = root; }

    bool empty() const { return nodes_.empty(); }
    const EventNode& root() const { return nodes_.at(root_); }
    const EventNode& node(std::uint32_t index) const { return nodes_.at(index); }
    std::uint32_t rootIndex() const { return root_; }
    const std::vector<EventNode>& nodes() const { return nodes_; }
    // Every MATCH node's match, in node order: what the index, the bridges and `explain` read.
    std::vector<const EventMatch*> matches() const;

    // Canonical text with the parentheses the tree needs and no more: `a and (b or c KEY=v)`.
    std::string toString() const;

    // Structural equality: the same tree, whatever the offsets and node order.
    friend bool operator==(const EventCondition& a, const EventCondition& b);

  private:
    std::vector<EventNode> nodes_;
    std::uint32_t root_ = 0;
};

// One operand or event name written so that the job-file lexer reads it back unchanged.
std::string quoteWord(std::string_view text);

}  // namespace tend::grammar
