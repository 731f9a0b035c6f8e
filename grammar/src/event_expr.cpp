// SPDX-License-Identifier: MIT
// Instantiates the event-expression grammar; nothing else lives here.
#include "event_expr_def.hpp"

namespace tend::grammar::parser {

BOOST_SPIRIT_INSTANTIATE(condition_type, iterator_type, context_type)

const condition_type& condition() {
    return condition_top;
}

void resetParenDepth() {
    detail::paren_depth = 0;
}

}  // namespace tend::grammar::parser
