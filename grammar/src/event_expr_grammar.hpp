// SPDX-License-Identifier: MIT
// Declaration of the `start on` / `stop on` expression grammar, shared by the job-file grammar
// and the standalone condition parser.
#pragma once

#include "config.hpp"
#include "syntax.hpp"

namespace tend::grammar::parser {

struct condition_class;
using condition_type = x3::rule<condition_class, syntax::Condition>;
BOOST_SPIRIT_DECLARE(condition_type)

const condition_type& condition();

// The open-parenthesis counter that bounds nesting; reset before each stanza.
void resetParenDepth();

}  // namespace tend::grammar::parser
