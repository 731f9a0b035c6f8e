// SPDX-License-Identifier: MIT
// Diagnostics in one format for syntax and meaning: `path:line:col: error: message`, then the
// source line and a caret under the column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tend::grammar {

enum class Severity : std::uint8_t { Error, Warning, Note };

std::string_view severityName(Severity severity);

// A job file's text plus the index that turns byte offsets into line:column.
class SourceText {
  public:
    SourceText(std::string path, std::string text);

    const std::string& path() const { return path_; }
    const std::string& text() const { return text_; }

    struct Position {
        std::uint32_t line;    // 1-based
        std::uint32_t column;  // 1-based, in bytes
    };
    Position positionOf(std::uint32_t offset) const;
    // The whole line that holds `offset`, without its newline.
    std::string_view lineAt(std::uint32_t offset) const;

  private:
    void indexLines() const;

    std::string path_;
    std::string text_;
    mutable std::vector<std::uint32_t> line_starts_;  // built on the first lookup only
};

struct Diagnostic {
    std::string path;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    Severity severity = Severity::Error;
    std::string message;
    std::string source_line;  // the line the column points into
    // Reading the file failed for want of descriptors or memory: not the file's fault, and a
    // later read may succeed.
    bool transient = false;

    // `path:line:col: error: message` followed by the source line and a caret.
    std::string format() const;
};

// Collects diagnostics against one source.
class DiagnosticSink {
  public:
    explicit DiagnosticSink(const SourceText& source) : source_(&source) {}

    void report(std::uint32_t offset, Severity severity, std::string message);
    void error(std::uint32_t offset, std::string message) {
        report(offset, Severity::Error, std::move(message));
    }
    void warning(std::uint32_t offset, std::string message) {
        report(offset, Severity::Warning, std::move(message));
    }

    bool hasErrors() const { return errors_ > 0; }
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
    std::vector<Diagnostic> take() { return std::move(diagnostics_); }
    const SourceText& source() const { return *source_; }

  private:
    const SourceText* source_;
    std::vector<Diagnostic> diagnostics_;
    std::size_t errors_ = 0;
};

}  // namespace tend::grammar
