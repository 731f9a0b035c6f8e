// SPDX-License-Identifier: MIT
// The iterator and context types every grammar TU is instantiated for. They must match the call
// sites in parse.cpp exactly (plain x3::parse, no skipper), or linking fails.
#pragma once

#include <boost/spirit/home/x3.hpp>

namespace tend::grammar::parser {

namespace x3 = boost::spirit::x3;
using iterator_type = const char*;
using context_type = x3::unused_type;

}  // namespace tend::grammar::parser
