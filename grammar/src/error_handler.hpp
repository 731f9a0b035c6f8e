// SPDX-License-Identifier: MIT
// Turns an X3 expectation failure (a rule name and a position) into a message a user can act on.
// Rule names are chosen as the friendly noun ("event", "')'"); the character at the failure
// point refines it (an unterminated quote, a stray parenthesis, a trailing backslash).
#pragma once

#include <string>
#include <string_view>

namespace tend::grammar::parser {

struct Explanation {
    const char* where;
    std::string message;
};

Explanation explainFailure(std::string_view which, const char* where, const char* end);

}  // namespace tend::grammar::parser
