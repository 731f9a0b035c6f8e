// SPDX-License-Identifier: MIT
#include "environment_files.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace tend::env_manager {

namespace {

bool nameChar(char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
}

bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

// The most one environment variable can hold when a job is exec'd (Linux's MAX_ARG_STRLEN).
// A value that expands past it (`PATH=$PATH$PATH`, line after line, doubles) is refused before
// it can take tend's memory with it.
constexpr std::size_t kMaxValueBytes = 131072;

}  // namespace

bool validVariableName(std::string_view name) {
    if (name.empty() || !nameChar(name.front(), true)) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) { return nameChar(c, false); });
}

std::optional<std::string> expandValue(std::string_view text, const Lookup& lookup,
                                       std::string& error, std::size_t& at) {
    std::string out;
    const auto tooLong = [&](std::size_t where) {
        error = "the value expands to more than " + std::to_string(kMaxValueBytes) +
                " bytes, more than a job's environment can hold";
        at = where;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (out.size() > kMaxValueBytes) {
            return tooLong(i);
        }
        const char c = text[i];
        if (c == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (c != '$' || i + 1 == text.size()) {
            out += c;
            continue;
        }
        if (text[i + 1] != '{') {
            std::size_t end = i + 1;
            while (end < text.size() && nameChar(text[end], end == i + 1)) {
                ++end;
            }
            if (end == i + 1) {
                out += c;  // a `$` before no name is itself
                continue;
            }
            out += lookup(text.substr(i + 1, end - i - 1)).value_or("");
            i = end - 1;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            error = "unterminated '${'";
            at = i;
            return std::nullopt;
        }
        const std::string_view inside = text.substr(i + 2, close - i - 2);
        const std::size_t op = inside.find(':');
        const std::string_view name = inside.substr(0, op);
        if (!validVariableName(name)) {
            error = "invalid variable name '" + std::string(name) + "' in '${...}'";
            at = i;
            return std::nullopt;
        }
        const auto value = lookup(name);
        if (op == std::string_view::npos) {
            out += value.value_or("");
        } else if (inside.substr(op).starts_with(":-")) {
            out += value && !value->empty() ? *value : std::string(inside.substr(op + 2));
        } else if (inside.substr(op).starts_with(":+")) {
            out += value && !value->empty() ? std::string(inside.substr(op + 2)) : std::string();
        } else {
            error = "unknown operator in '${" + std::string(inside) + "}': use :- or :+";
            at = i;
            return std::nullopt;
        }
        i = close;
    }
    if (out.size() > kMaxValueBytes) {
        return tooLong(text.size());
    }
    return out;
}

void parseEnvironmentFile(std::string_view text, const std::string& label, const Lookup& below,
                          std::vector<FileAssignment>& out, std::vector<std::string>& errors) {
    const Lookup seen = [&](std::string_view name) -> std::optional<std::string> {
        for (auto it = out.rbegin(); it != out.rend(); ++it) {
            if (it->name == name) {
                return it->value;
            }
        }
        return below(name);
    };
    std::size_t line_no = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        const auto report = [&](std::size_t column, const std::string& what) {
            errors.push_back(label + ":" + std::to_string(line_no) + ":" +
                             std::to_string(column + 1) + ": " + what);
        };
        std::size_t first = 0;
        while (first < line.size() && blank(line[first])) {
            ++first;
        }
        if (first == line.size() || line[first] == '#') {
            if (end == text.size()) {
                break;
            }
            continue;
        }
        if (line.find('\0') != std::string_view::npos) {
            report(line.find('\0'), "a NUL byte");
        } else if (const std::size_t eq = line.find('=', first); eq == std::string_view::npos) {
            report(first, "expected KEY=VALUE");
        } else {
            std::size_t name_end = eq;
            while (name_end > first && blank(line[name_end - 1])) {
                --name_end;
            }
            const std::string_view name = line.substr(first, name_end - first);
            std::size_t value_start = eq + 1;
            while (value_start < line.size() && blank(line[value_start])) {
                ++value_start;
            }
            std::size_t value_end = line.size();
            while (value_end > value_start && blank(line[value_end - 1])) {
                --value_end;
            }
            std::string_view value = line.substr(value_start, value_end - value_start);
            if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
                value.back() == value.front()) {
                value = value.substr(1, value.size() - 2);
                ++value_start;
            }
            std::string error;
            std::size_t at = 0;
            if (!validVariableName(name)) {
                report(first, "invalid variable name '" + std::string(name.substr(0, 64)) +
                                  "': use letters, digits and '_', not starting with a digit");
            } else if (auto expanded = expandValue(value, seen, error, at)) {
                out.push_back({std::string(name), std::move(*expanded),
                               label + ":" + std::to_string(line_no)});
            } else {
                report(value_start + at, error);
            }
        }
        if (end == text.size()) {
            break;
        }
    }
}

}  // namespace tend::env_manager
