// SPDX-License-Identifier: MIT
// Entry points of the grammar library. Nothing here exposes Spirit.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tend/grammar/ast.hpp"
#include "tend/grammar/diagnostic.hpp"
#include "tend/grammar/event_expr.hpp"

namespace tend::grammar {

// Limits that keep hostile input from exhausting memory or the stack.
inline constexpr std::size_t kMaxFileBytes = 4u << 20;
inline constexpr std::size_t kMaxLineBytes = 64u << 10;
inline constexpr int kMaxParenDepth = 64;
inline constexpr std::size_t kMaxConditionEvents = 256;

struct ParseResult {
    JobFileAst ast;
    std::vector<Diagnostic> diagnostics;
    bool ok() const;
};

// Parses a whole job file, recovering at the next line after each error so that every error in
// the file is reported.
ParseResult parseJobFile(const SourceText& source);

// Parses a condition on its own (as written after `start on`), for `tendctl emit` and checks.
struct ConditionResult {
    std::optional<EventCondition> condition;
    std::vector<Diagnostic> diagnostics;
};
ConditionResult parseCondition(const SourceText& source);

}  // namespace tend::grammar
