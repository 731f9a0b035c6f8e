// SPDX-License-Identifier: MIT
// The `start on` / `stop on` expression language:
//
//   condition := term (("and" | "or") term)*     equal precedence, folded left to right
//   term      := "(" condition ")" | event
//   event     := NAME operand*                   operand: VALUE, KEY=VALUE or KEY!=VALUE
//
// Newlines are allowed only inside parentheses, so the rules come twice: `*_top` for the stanza's
// own line and `*_in` for text inside a group. Parentheses are tokens of their own even when
// glued to words, and an unquoted `and` / `or` is always an operator.
#pragma once

#include "event_expr_grammar.hpp"
#include "lexeme.hpp"
#include "syntax_adapted.hpp"
#include "tend/grammar/parse.hpp"

namespace tend::grammar::parser {

namespace detail {

inline thread_local int paren_depth = 0;

struct EnterGroup {
    template <class Context>
    void operator()(Context& ctx) const {
        if (++paren_depth > kMaxParenDepth) {
            boost::throw_exception(
                x3::expectation_failure<iterator_type>(x3::_where(ctx).begin(), "nesting"));
        }
    }
};

struct LeaveGroup {
    template <class Context>
    void operator()(Context&) const {
        --paren_depth;
    }
};

}  // namespace detail

const x3::rule<class op_class, syntax::Range> op = "'and' or 'or'";
const x3::rule<class event_token_class, syntax::Range> event_token = "event operand";
const x3::rule<class event_name_class, syntax::Range> event_name = "event";
const x3::rule<class match_top_class, syntax::Match> match_top = "event";
const x3::rule<class match_in_class, syntax::Match> match_in = "event";
const x3::rule<class group_class, syntax::Condition> group = "event";
const x3::rule<class term_top_class, syntax::Operand> term_top = "event";
const x3::rule<class term_in_class, syntax::Operand> term_in = "event";
const x3::rule<class condition_in_class, syntax::Condition> condition_in = "event";
const x3::rule<class open_paren_class> open_paren = "'('";
const x3::rule<class close_paren_class> close_paren = "')'";
const condition_type condition_top = "event";

const auto event_plain = ~x3::char_(" \t\r\n#\"'\\()");
const auto gap_nl = *(lexeme::blank | lexeme::continuation | lexeme::comment | lexeme::newline);
const auto gap_nl1 = +(lexeme::blank | lexeme::continuation | lexeme::comment | lexeme::newline);

const auto op_def = x3::raw[(x3::lit("and") | x3::lit("or")) >> lexeme::word_end];
const auto event_token_def = x3::raw[+(lexeme::quoted | lexeme::escape | event_plain)];
const auto event_name_def = x3::raw[!op >> event_token];
const auto match_top_def = event_name >> *(lexeme::gap1 >> !op >> event_token);
const auto match_in_def = event_name >> *(gap_nl1 >> !op >> event_token);
const auto open_paren_def = x3::lit('(')[detail::EnterGroup{}];
const auto close_paren_def = x3::lit(')')[detail::LeaveGroup{}];
const auto group_def = open_paren > gap_nl > condition_in > gap_nl > close_paren;
const auto term_top_def = group | match_top;
const auto term_in_def = group | match_in;
const auto condition_in_def = term_in >> *((gap_nl1 >> op) > gap_nl > term_in);
const auto condition_top_def = term_top >> *((lexeme::gap1 >> op) > lexeme::gap > term_top);

BOOST_SPIRIT_DEFINE(op, event_token, event_name, match_top, match_in, open_paren, close_paren,
                    group, term_top, term_in, condition_in, condition_top)

}  // namespace tend::grammar::parser
