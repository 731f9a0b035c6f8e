// SPDX-License-Identifier: MIT
#include "tend/grammar/quoting.hpp"

namespace tend::grammar {

namespace {

bool isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

void trimTrailingBlanks(std::string& out) {
    while (!out.empty() && isBlank(out.back())) {
        out.pop_back();
    }
}

// A newline that does not end the token folds, with the blanks around it, into one space.
std::size_t foldNewline(std::string_view raw, std::size_t after, std::string& out) {
    trimTrailingBlanks(out);
    out += ' ';
    while (after < raw.size() && isBlank(raw[after])) {
        ++after;
    }
    return after;
}

template <bool kDequote>
std::string scan(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    char quote = 0;
    std::size_t i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '\\' && i + 1 < raw.size()) {
            const char next = raw[i + 1];
            if (next == '\n') {
                i = foldNewline(raw, i + 2, out);
                continue;
            }
            if (kDequote && (next == '\\' || next == ' ' || next == '\t')) {
                out += next;
            } else {
                out += c;
                out += next;
            }
            i += 2;
            continue;
        }
        if (c == '\n' && quote != 0) {
            i = foldNewline(raw, i + 1, out);
            continue;
        }
        if (quote == 0 && (c == '"' || c == '\'')) {
            quote = c;
            if (!kDequote) {
                out += c;
            }
        } else if (quote != 0 && c == quote) {
            quote = 0;
            if (!kDequote) {
                out += c;
            }
        } else {
            out += c;
        }
        ++i;
    }
    return out;
}

}  // namespace

std::string dequote(std::string_view raw) {
    return scan<true>(raw);
}

std::string collapseCommand(std::string_view raw) {
    return scan<false>(raw);
}

std::string quoteValue(std::string_view value) {
    bool needs_quotes = value.empty();
    bool has_double = false;
    for (char c : value) {
        switch (c) {
        case ' ':
        case '\t':
        case '\r':
        case '\n':
        case '#':
        case '(':
        case ')':
        case '\'':
            needs_quotes = true;
            break;
        case '"':
            needs_quotes = true;
            has_double = true;
            break;
        default:
            break;
        }
    }
    std::string out;
    out.reserve(value.size() + 2);
    if (!needs_quotes) {
        for (char c : value) {
            if (c == '\\') {
                out += '\\';
            }
            out += c;
        }
        return out;
    }
    // Neither kind of quote can be escaped inside itself, so a value holding both is written as
    // adjacent quoted runs: `a'b"c` becomes `"a'b"'"c'`.
    char quote = has_double ? '\'' : '"';
    out += quote;
    for (char c : value) {
        if (c == quote) {
            out += quote;
            quote = quote == '"' ? '\'' : '"';
            out += quote;
        }
        if (c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += quote;
    return out;
}

}  // namespace tend::grammar
