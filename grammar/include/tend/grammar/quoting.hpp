// SPDX-License-Identifier: MIT
// Upstart's lexer rules for quotes, backslashes and continuations (libnih `nih_config_*`).
#pragma once

#include <string>
#include <string_view>

namespace tend::grammar {

// A token's value: quotes removed, `\\` -> `\`, `\<space>` -> space, any other escape kept with
// its backslash, and a newline inside quotes (or after a backslash) collapsed with the whitespace
// around it into one space.
std::string dequote(std::string_view raw);

// `exec` text (from its first token to its last): quotes and backslashes kept, continuations
// and newlines inside quotes collapsed to one space.
std::string collapseCommand(std::string_view raw);

// Writes `value` as one token that `dequote` turns back into `value`.
std::string quoteValue(std::string_view value);

}  // namespace tend::grammar
