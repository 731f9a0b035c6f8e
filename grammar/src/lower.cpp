// SPDX-License-Identifier: MIT
#include "lower.hpp"

#include <boost/variant/get.hpp>

#include "tend/grammar/parse.hpp"
#include "tend/grammar/quoting.hpp"

namespace tend::grammar::parser {

namespace {

std::string_view view(const syntax::Range& range) {
    return {range.begin(), static_cast<std::size_t>(range.end() - range.begin())};
}

bool isNameStart(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool isName(std::string_view text) {
    if (text.empty() || !isNameStart(text.front())) {
        return false;
    }
    for (char c : text) {
        if (!isNameStart(c) && !(c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

bool isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

// Splits "pre-start   script" (blanks or continuations between) into its words.
std::vector<std::pair<std::size_t, std::string_view>> words(std::string_view text) {
    std::vector<std::pair<std::size_t, std::string_view>> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (isBlank(text[i]) || text[i] == '\\' || text[i] == '\n')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && !isBlank(text[i]) && text[i] != '\\' && text[i] != '\n') {
            ++i;
        }
        if (i > start) {
            out.emplace_back(start, text.substr(start, i - start));
        }
    }
    return out;
}

}  // namespace

std::string stripCommonIndent(std::string_view body) {
    std::string_view prefix;
    bool have_prefix = false;
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t eol = body.find('\n', pos);
        if (eol == std::string_view::npos) {
            eol = body.size();
        }
        const std::string_view line = body.substr(pos, eol - pos);
        std::size_t ws = 0;
        while (ws < line.size() && (line[ws] == ' ' || line[ws] == '\t')) {
            ++ws;
        }
        const bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
        if (!blank) {
            if (!have_prefix) {
                prefix = line.substr(0, ws);
                have_prefix = true;
            } else {
                std::size_t common = 0;
                while (common < prefix.size() && common < ws && prefix[common] == line[common]) {
                    ++common;
                }
                prefix = prefix.substr(0, common);
            }
        }
        pos = eol + 1;
    }
    std::string out;
    out.reserve(body.size());
    pos = 0;
    while (pos < body.size()) {
        std::size_t eol = body.find('\n', pos);
        const bool has_newline = eol != std::string_view::npos;
        if (!has_newline) {
            eol = body.size();
        }
        std::string_view line = body.substr(pos, eol - pos);
        // A file saved with CRLF line ends: the shell would take the CR as part of the line's
        // last word (`exit 0\r` is no number). Every CR at the line's end goes, not one: a body
        // printed and read again must be the same, and one CR less per read would not be (the
        // job-file fuzzer's round trip found `x\r\r\n`).
        while (has_newline && line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        // Blank lines neither shape the prefix nor lose characters to it, so that a body reads
        // back the same whatever indentation the printer gives its other lines.
        const bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
        std::size_t cut = 0;
        while (!blank && cut < prefix.size() && line[cut] == prefix[cut]) {
            ++cut;
        }
        out.append(line.substr(cut));
        if (has_newline) {
            out += '\n';
        }
        pos = eol + 1;
    }
    return out;
}

Token Lowerer::token(const syntax::Range& range) const {
    return Token{offsetOf(range.begin()), static_cast<std::uint32_t>(range.size()),
                 dequote(view(range))};
}

EventMatch Lowerer::lower(const syntax::Match& match) const {
    EventMatch out;
    out.offset = offsetOf(match.name.begin());
    out.name = dequote(view(match.name));
    bool seen_named = false;
    for (const syntax::Range& range : match.args) {
        EventArg arg;
        arg.offset = offsetOf(range.begin());
        std::string text = dequote(view(range));
        const std::size_t eq = text.find('=');
        if (eq != std::string::npos && eq > 0) {
            const bool negated = text[eq - 1] == '!';
            const std::string_view key = std::string_view(text).substr(0, negated ? eq - 1 : eq);
            if (isName(key)) {
                arg.key = std::string(key);
                arg.negated = negated;
                arg.value = text.substr(eq + 1);
            }
        }
        if (arg.key.empty()) {
            arg.value = std::move(text);
            if (seen_named) {
                sink_.error(arg.offset, "positional value '" + arg.value + "' follows a KEY=VALUE" +
                                            " operand; positional values must come first");
            }
        } else {
            seen_named = true;
        }
        out.args.push_back(std::move(arg));
    }
    return out;
}

std::uint32_t Lowerer::lowerInto(const syntax::Operand& operand, EventCondition& out) const {
    if (const auto* match = boost::get<syntax::Match>(&operand.get())) {
        return out.addMatch(lower(*match));
    }
    const auto& group = boost::get<syntax::x3::forward_ast<syntax::Condition>>(operand.get());
    return lowerInto(group.get(), out);
}

std::uint32_t Lowerer::lowerInto(const syntax::Condition& condition, EventCondition& out) const {
    std::uint32_t folded = lowerInto(condition.first, out);
    for (const syntax::OpTerm& term : condition.rest) {
        const std::uint32_t rhs = lowerInto(term.operand, out);
        const auto kind = *term.op.begin() == 'a' ? EventNode::Kind::And : EventNode::Kind::Or;
        folded = out.addOperator(kind, folded, rhs);
    }
    return folded;
}

EventCondition Lowerer::lower(const syntax::Condition& condition) const {
    EventCondition out;
    out.setRoot(lowerInto(condition, out));
    // Every walk over the tree recurses, so its size is bounded like its nesting.
    const std::size_t events = (out.nodes().size() + 1) / 2;
    if (events > kMaxConditionEvents) {
        sink_.error(out.node(0).match.offset, "condition names " + std::to_string(events) +
                                                  " events; the limit is " +
                                                  std::to_string(kMaxConditionEvents));
    }
    return out;
}

Stanza Lowerer::lower(const syntax::OnStanza& stanza) const {
    Stanza out;
    const auto parts = words(view(stanza.keyword));
    out.offset = offsetOf(stanza.keyword.begin());
    out.keyword = std::string(parts.front().second);
    out.args.push_back(Token{offsetOf(stanza.keyword.begin() + parts.back().first), 2, "on"});
    out.condition = lower(stanza.condition);
    return out;
}

Stanza Lowerer::lower(const syntax::BlockStanza& stanza) const {
    Stanza out;
    const auto parts = words(view(stanza.header));
    out.offset = offsetOf(stanza.header.begin());
    out.keyword = std::string(parts.front().second);
    if (parts.size() > 1) {
        const auto& [at, text] = parts.back();
        out.args.push_back(Token{offsetOf(stanza.header.begin() + at),
                                 static_cast<std::uint32_t>(text.size()), std::string(text)});
    }
    ScriptBlock block;
    block.offset = offsetOf(stanza.body.begin());
    block.body = stripCommonIndent(view(stanza.body));
    block.terminated = stanza.terminated;
    out.block = std::move(block);
    return out;
}

Stanza Lowerer::lower(const syntax::PlainStanza& stanza) const {
    Stanza out;
    out.offset = offsetOf(stanza.keyword.begin());
    out.keyword = std::string(view(stanza.keyword));
    out.args.reserve(stanza.args.size());
    for (const syntax::Range& range : stanza.args) {
        out.args.push_back(token(range));
    }
    return out;
}

Stanza Lowerer::lower(const syntax::Stanza& stanza) const {
    if (const auto* on = boost::get<syntax::OnStanza>(&stanza.get())) {
        return lower(*on);
    }
    if (const auto* block = boost::get<syntax::BlockStanza>(&stanza.get())) {
        return lower(*block);
    }
    return lower(boost::get<syntax::PlainStanza>(stanza.get()));
}

}  // namespace tend::grammar::parser
