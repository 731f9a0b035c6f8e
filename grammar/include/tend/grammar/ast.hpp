// SPDX-License-Identifier: MIT
// The job-file AST: what the grammar hands to the stanza registry. Every node carries the byte
// offset it came from, so that later checks report through the same `file:line:col` format.
//
// The grammar knows the shape of a stanza, not its meaning. A stanza is a keyword followed by one
// of three bodies:
//   - arguments: the dequoted tokens on the line (their raw text stays in the source, for `exec`);
//   - a script block: `script` or `<keyword> script`, then lines up to `end script`;
//   - an event condition: `start on` / `stop on` followed by an expression.
// What `kill timeout 5` means is for the registry to decide; that is what lets plugins add
// stanzas of their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tend/grammar/event_expr.hpp"

namespace tend::grammar {

struct Token {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;  // of the raw text in the source
    std::string text;          // dequoted
};

struct ScriptBlock {
    std::uint32_t offset = 0;  // first byte of the body
    std::string body;          // common indentation stripped; ends with a newline unless empty
    bool terminated = false;   // false when the file ended before `end script`
};

struct Stanza {
    std::uint32_t offset = 0;  // of the keyword
    std::string keyword;       // as written, never dequoted
    std::vector<Token> args;   // `pre-start script` has args {"script"}; `start on` has {"on"}
    std::optional<ScriptBlock> block;
    std::optional<EventCondition> condition;
};

struct JobFileAst {
    std::vector<Stanza> stanzas;
};

}  // namespace tend::grammar
