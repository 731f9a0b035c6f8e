// SPDX-License-Identifier: MIT
// The attributes the X3 rules synthesise. They hold ranges into the source, never copies; the
// lowering pass (lower.cpp) dequotes them into the public AST.
#pragma once

#include <boost/range/iterator_range_core.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <vector>

namespace tend::grammar::syntax {

namespace x3 = boost::spirit::x3;
using Range = boost::iterator_range<const char*>;

struct Match {
    Range name;
    std::vector<Range> args;
};

struct Condition;

struct Operand : x3::variant<Match, x3::forward_ast<Condition>> {
    using base_type::base_type;
    using base_type::operator=;
};

struct OpTerm {
    Range op;  // "and" or "or"
    Operand operand;
};

// The calc shape: `first (op operand)*`, folded left to right when lowered.
struct Condition {
    Operand first;
    std::vector<OpTerm> rest;
};

struct OnStanza {
    Range keyword;  // "start on" / "stop on", with whatever blanks the file had between
    Condition condition;
};

struct BlockStanza {
    Range header;  // "script" or "pre-start script"
    Range body;
    bool terminated = false;
};

struct PlainStanza {
    Range keyword;
    std::vector<Range> args;
};

struct Stanza : x3::variant<OnStanza, BlockStanza, PlainStanza> {
    using base_type::base_type;
    using base_type::operator=;
};

}  // namespace tend::grammar::syntax
