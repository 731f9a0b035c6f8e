// SPDX-License-Identifier: MIT
// The driver: checks the bytes, then parses one stanza at a time. After an error it resumes at
// the next line, so that a file's every error is reported in one pass.
#include "tend/grammar/parse.hpp"

#include <algorithm>
#include <cstdio>

#include "error_handler.hpp"
#include "event_expr_grammar.hpp"
#include "job_file_grammar.hpp"
#include "lexeme.hpp"
#include "lower.hpp"

namespace tend::grammar {

namespace x3 = boost::spirit::x3;

namespace {

// Length of the UTF-8 sequence starting at p, or 0 when it is invalid (overlong forms,
// surrogates and code points past U+10FFFF included).
std::size_t utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
    const unsigned char c = p[0];
    if (c < 0x80) {
        return 1;
    }
    std::size_t length = 0;
    unsigned char min2 = 0x80;
    unsigned char max2 = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        if (c == 0xE0)
            min2 = 0xA0;
        if (c == 0xED)
            max2 = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        if (c == 0xF0)
            min2 = 0x90;
        if (c == 0xF4)
            max2 = 0x8F;
    } else {
        return 0;
    }
    if (static_cast<std::size_t>(end - p) < length || p[1] < min2 || p[1] > max2) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return length;
}

// Rejects what no job file holds: oversized files and lines, NUL bytes, invalid UTF-8.
bool checkBytes(const SourceText& source, DiagnosticSink& sink) {
    const std::string& text = source.text();
    if (text.size() > kMaxFileBytes) {
        sink.error(0, "file is " + std::to_string(text.size()) +
                          " bytes; job files are limited to " + std::to_string(kMaxFileBytes) +
                          " bytes");
        return false;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const begin = p;
    const auto* const end = p + text.size();
    const unsigned char* line_start = p;
    while (p < end) {
        if (*p == '\n') {
            line_start = ++p;
            continue;
        }
        if (*p == '\0') {
            sink.error(static_cast<std::uint32_t>(p - begin),
                       "NUL byte in job file (is this a binary file?)");
            return false;
        }
        if (static_cast<std::size_t>(p - line_start) >= kMaxLineBytes) {
            const auto* eol = std::find(p, end, '\n');
            sink.error(static_cast<std::uint32_t>(line_start - begin),
                       "line is " + std::to_string(eol - line_start) +
                           " bytes long; the limit is " + std::to_string(kMaxLineBytes));
            return false;
        }
        const std::size_t length = utf8SequenceLength(p, end);
        if (length == 0) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", *p);
            sink.error(
                static_cast<std::uint32_t>(p - begin),
                std::string("invalid UTF-8: byte ") + hex + " does not start a valid sequence");
            return false;
        }
        p += length;
    }
    return true;
}

const char* nextLine(const char* from, const char* end) {
    const char* eol = std::find(from, end, '\n');
    return eol == end ? end : eol + 1;
}

void report(const x3::expectation_failure<const char*>& failure, const char* begin, const char* end,
            DiagnosticSink& sink) {
    const auto explanation = parser::explainFailure(failure.which(), failure.where(), end);
    sink.error(static_cast<std::uint32_t>(explanation.where - begin), explanation.message);
}

const auto blank_lines =
    *(parser::lexeme::gap >> -parser::lexeme::comment >> parser::lexeme::newline);
const auto only_trailer = parser::lexeme::gap >> -parser::lexeme::comment >> x3::eoi;

}  // namespace

bool ParseResult::ok() const {
    return std::none_of(diagnostics.begin(), diagnostics.end(),
                        [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

ParseResult parseJobFile(const SourceText& source) {
    DiagnosticSink sink(source);
    ParseResult result;
    if (!checkBytes(source, sink)) {
        result.diagnostics = sink.take();
        return result;
    }
    const char* const begin = source.text().data();
    const char* const end = begin + source.text().size();
    const parser::Lowerer lowerer(begin, sink);
    const char* it = begin;
    for (;;) {
        x3::parse(it, end, blank_lines);
        if (const char* probe = it; x3::parse(probe, end, only_trailer)) {
            break;
        }
        x3::parse(it, end, *parser::lexeme::blank);
        const char* const start = it;
        parser::resetParenDepth();
        try {
            syntax::Stanza parsed;
            if (!x3::parse(it, end, parser::stanza(), parsed) || it == start) {
                sink.error(static_cast<std::uint32_t>(start - begin), "expected a stanza");
                it = nextLine(start, end);
                continue;
            }
            Stanza stanza = lowerer.lower(parsed);
            if (stanza.block && !stanza.block->terminated) {
                sink.error(stanza.offset,
                           "unterminated script block: no 'end script' line before "
                           "end of file");
            }
            result.ast.stanzas.push_back(std::move(stanza));
        } catch (const x3::expectation_failure<const char*>& failure) {
            report(failure, begin, end, sink);
            it = nextLine(std::max(failure.where(), start), end);
        }
    }
    result.diagnostics = sink.take();
    return result;
}

ConditionResult parseCondition(const SourceText& source) {
    DiagnosticSink sink(source);
    ConditionResult result;
    if (!checkBytes(source, sink)) {
        result.diagnostics = sink.take();
        return result;
    }
    const char* const begin = source.text().data();
    const char* const end = begin + source.text().size();
    const char* it = begin;
    parser::resetParenDepth();
    try {
        syntax::Condition parsed;
        x3::parse(it, end, parser::lexeme::gap);
        const auto tail = x3::rule<class condition_tail>{"'and', 'or' or end of line"} =
            parser::lexeme::gap >> x3::eoi;
        const bool ok = x3::parse(it, end, parser::condition() > tail, parsed);
        if (!ok) {
            sink.error(0, "expected an event name");
        } else {
            EventCondition condition = parser::Lowerer(begin, sink).lower(parsed);
            if (!sink.hasErrors()) {
                result.condition = std::move(condition);
            }
        }
    } catch (const x3::expectation_failure<const char*>& failure) {
        report(failure, begin, end, sink);
    }
    result.diagnostics = sink.take();
    return result;
}

}  // namespace tend::grammar
