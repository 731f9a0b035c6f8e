// SPDX-License-Identifier: MIT
// Declaration of the job-file grammar: one stanza per call, so that the driver can recover at
// the next line after an error.
#pragma once

#include "config.hpp"
#include "syntax.hpp"

namespace tend::grammar::parser {

struct stanza_class;
using stanza_type = x3::rule<stanza_class, syntax::Stanza>;
BOOST_SPIRIT_DECLARE(stanza_type)

const stanza_type& stanza();

}  // namespace tend::grammar::parser
