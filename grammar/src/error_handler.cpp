// SPDX-License-Identifier: MIT
#include "error_handler.hpp"

#include "tend/grammar/parse.hpp"

namespace tend::grammar::parser {

namespace {

std::string found(const char* where, const char* end) {
    if (where == end) {
        return "end of file";
    }
    if (*where == '\n') {
        return "end of line";
    }
    if (*where == '(' || *where == ')') {
        return std::string("'") + *where + "'";
    }
    const char* stop = where;
    while (stop != end && stop - where < 24 && *stop != ' ' && *stop != '\t' && *stop != '\n' &&
           *stop != '\r') {
        ++stop;
    }
    return "'" + std::string(where, stop) + "'";
}

}  // namespace

Explanation explainFailure(std::string_view which, const char* where, const char* end) {
    // X3 reports where the failed rule began, which may be blank space before the culprit.
    while (where != end && (*where == ' ' || *where == '\t' || *where == '\r' ||
                            (*where == '\\' && where + 1 != end && where[1] == '\n'))) {
        where += *where == '\\' ? 2 : 1;
    }
    const bool at_end = where == end;
    const char c = at_end ? '\0' : *where;
    if (c == '"' || c == '\'') {
        return {where,
                std::string("unterminated quoted string: no closing ") + c + " before end of file"};
    }
    if (c == '\\' && where + 1 == end) {
        return {where, "trailing backslash at end of file"};
    }
    if (which == "nesting") {
        return {where - 1,
                "parentheses nested more than " + std::to_string(kMaxParenDepth) + " deep"};
    }
    if (which == "event") {
        if (at_end) {
            return {where, "expected an event name before end of file"};
        }
        if (c == '\n' || c == '#') {
            return {where, "expected an event name at end of line"};
        }
        return {where, "expected an event name, found " + found(where, end)};
    }
    if (which == "')'") {
        if (at_end) {
            return {where, "unbalanced '(': expected ')' before end of file"};
        }
        return {where, "expected ')', found " + found(where, end)};
    }
    if (which == "'and', 'or' or end of line") {
        if (c == ')') {
            return {where, "unbalanced ')': no '(' is open"};
        }
        return {where, "expected 'and' or 'or' before " + found(where, end) +
                           " (an event cannot follow a group, nor a group an event)"};
    }
    if (which == "end of line") {
        return {where, "unexpected " + found(where, end)};
    }
    return {where, "expected " + std::string(which) + ", found " + found(where, end)};
}

}  // namespace tend::grammar::parser
