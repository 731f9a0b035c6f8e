// SPDX-License-Identifier: MIT
#include "tend/grammar/diagnostic.hpp"

#include <algorithm>

namespace tend::grammar {

std::string_view severityName(Severity severity) {
    switch (severity) {
    case Severity::Error:
        return "error";
    case Severity::Warning:
        return "warning";
    case Severity::Note:
        return "note";
    }
    return "error";
}

SourceText::SourceText(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {}

void SourceText::indexLines() const {
    if (!line_starts_.empty()) {
        return;
    }
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
        if (text_[i] == '\n') {
            line_starts_.push_back(static_cast<std::uint32_t>(i + 1));
        }
    }
}

SourceText::Position SourceText::positionOf(std::uint32_t offset) const {
    indexLines();
    const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const auto line = static_cast<std::uint32_t>(next - line_starts_.begin());
    return {line, offset - line_starts_[line - 1] + 1};
}

std::string_view SourceText::lineAt(std::uint32_t offset) const {
    indexLines();
    const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const std::uint32_t begin = *(next - 1);
    std::uint32_t end =
        next == line_starts_.end() ? static_cast<std::uint32_t>(text_.size()) : *next - 1;
    end = std::max(begin, end);
    return std::string_view(text_).substr(begin, end - begin);
}

std::string Diagnostic::format() const {
    if (line == 0) {
        return path + ": " + std::string(severityName(severity)) + ": " + message + '\n';
    }
    std::string out = path + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " +
                      std::string(severityName(severity)) + ": " + message + '\n';
    // A very long line is cut around the caret so that the excerpt stays readable.
    constexpr std::size_t kContext = 120;
    std::size_t from = 0;
    std::size_t caret = column > 0 ? column - 1 : 0;
    if (caret > kContext) {
        from = caret - kContext / 2;
        caret = kContext / 2;
    }
    std::string_view excerpt =
        std::string_view(source_line).substr(std::min(from, source_line.size()));
    excerpt = excerpt.substr(0, std::min<std::size_t>(excerpt.size(), 2 * kContext));
    out += "    ";
    for (char c : excerpt) {
        out += (c == '\t' || static_cast<unsigned char>(c) >= 0x20) ? c : '?';
    }
    out += "\n    ";
    for (std::size_t i = 0; i < caret && i < excerpt.size(); ++i) {
        out += excerpt[i] == '\t' ? '\t' : ' ';
    }
    out += "^\n";
    return out;
}

void DiagnosticSink::report(std::uint32_t offset, Severity severity, std::string message) {
    const auto position = source_->positionOf(offset);
    diagnostics_.push_back(Diagnostic{source_->path(), position.line, position.column, severity,
                                      std::move(message), std::string(source_->lineAt(offset))});
    if (severity == Severity::Error) {
        ++errors_;
    }
}

}  // namespace tend::grammar
