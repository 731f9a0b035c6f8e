// SPDX-License-Identifier: MIT
// Lowering: from the ranges X3 synthesised to the public AST, dequoting tokens, folding
// conditions left to right and stripping script indentation.
#pragma once

#include "syntax.hpp"
#include "tend/grammar/ast.hpp"
#include "tend/grammar/diagnostic.hpp"

namespace tend::grammar::parser {

class Lowerer {
  public:
    Lowerer(const char* begin, DiagnosticSink& sink) : begin_(begin), sink_(sink) {}

    Stanza lower(const syntax::Stanza& stanza) const;
    EventCondition lower(const syntax::Condition& condition) const;

  private:
    std::uint32_t offsetOf(const char* p) const { return static_cast<std::uint32_t>(p - begin_); }
    Token token(const syntax::Range& range) const;
    std::uint32_t lowerInto(const syntax::Condition& condition, EventCondition& out) const;
    std::uint32_t lowerInto(const syntax::Operand& operand, EventCondition& out) const;
    EventMatch lower(const syntax::Match& match) const;
    Stanza lower(const syntax::OnStanza& stanza) const;
    Stanza lower(const syntax::BlockStanza& stanza) const;
    Stanza lower(const syntax::PlainStanza& stanza) const;

    const char* begin_;
    DiagnosticSink& sink_;
};

// Removes the whitespace prefix that every non-blank line of a script body shares.
std::string stripCommonIndent(std::string_view body);

}  // namespace tend::grammar::parser
