// SPDX-License-Identifier: MIT
#include <functional>

#include "tend/grammar/event_expr.hpp"
#include "tend/grammar/quoting.hpp"

namespace tend::grammar {

std::uint32_t EventCondition::addMatch(EventMatch match) {
    EventNode node;
    node.kind = EventNode::Kind::Match;
    node.match = std::move(match);
    nodes_.push_back(std::move(node));
    root_ = static_cast<std::uint32_t>(nodes_.size() - 1);
    return root_;
}

std::uint32_t EventCondition::addOperator(EventNode::Kind kind, std::uint32_t lhs,
                                          std::uint32_t rhs) {
    EventNode node;
    node.kind = kind;
    node.lhs = lhs;
    node.rhs = rhs;
    nodes_.push_back(std::move(node));
    root_ = static_cast<std::uint32_t>(nodes_.size() - 1);
    return root_;
}

std::string quoteWord(std::string_view text) {
    if (text == "and" || text == "or") {
        return '"' + std::string(text) + '"';
    }
    return quoteValue(text);
}

namespace {

// `and` and `or` fold left to right, so a left operand never needs parentheses and a right one
// needs them only when it is itself an operator. Printing no more brackets than that keeps the
// output within the parser's nesting limit whenever the input was.
void printNode(const EventCondition& condition, std::uint32_t index, std::string& out) {
    const EventNode& node = condition.node(index);
    if (node.kind == EventNode::Kind::Match) {
        out += quoteWord(node.match.name);
        for (const EventArg& arg : node.match.args) {
            out += ' ';
            if (arg.positional()) {
                // Parsing already classifies `NAME=...` as named, so no positional value has
                // that shape and plain quoting round-trips.
                out += quoteWord(arg.value);
            } else {
                out += arg.key;
                out += arg.negated ? "!=" : "=";
                out += quoteValue(arg.value);
            }
        }
        return;
    }
    printNode(condition, node.lhs, out);
    out += node.kind == EventNode::Kind::And ? " and " : " or ";
    const bool group = condition.node(node.rhs).kind != EventNode::Kind::Match;
    if (group) {
        out += '(';
    }
    printNode(condition, node.rhs, out);
    if (group) {
        out += ')';
    }
}

bool equalNodes(const EventCondition& a, std::uint32_t ia, const EventCondition& b,
                std::uint32_t ib) {
    const EventNode& na = a.node(ia);
    const EventNode& nb = b.node(ib);
    if (na.kind != nb.kind) {
        return false;
    }
    if (na.kind == EventNode::Kind::Match) {
        return na.match == nb.match;
    }
    return equalNodes(a, na.lhs, b, nb.lhs) && equalNodes(a, na.rhs, b, nb.rhs);
}

}  // namespace

std::vector<const EventMatch*> EventCondition::matches() const {
    std::vector<const EventMatch*> out;
    for (const auto& node : nodes_) {
        if (node.kind == EventNode::Kind::Match) {
            out.push_back(&node.match);
        }
    }
    return out;
}

std::string EventCondition::toString() const {
    std::string out;
    if (!nodes_.empty()) {
        printNode(*this, root_, out);
    }
    return out;
}

bool operator==(const EventCondition& a, const EventCondition& b) {
    if (a.empty() || b.empty()) {
        return a.empty() && b.empty();
    }
    return equalNodes(a, a.root_, b, b.root_);
}

}  // namespace tend::grammar
