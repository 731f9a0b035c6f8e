// SPDX-License-Identifier: MIT
#include "model/environment.hpp"

#include <algorithm>

namespace tend::model {

namespace {

std::string_view keyOf(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

bool isNameChar(char c, bool first) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

}  // namespace

Environment::Environment(std::initializer_list<std::string> entries) {
    for (const auto& entry : entries) {
        setEntry(entry);
    }
}

void Environment::set(std::string_view key, std::string_view value) {
    std::string entry = std::string(key) + '=' + std::string(value);
    for (auto& existing : entries_) {
        if (keyOf(existing) == key) {
            existing = std::move(entry);
            return;
        }
    }
    entries_.push_back(std::move(entry));
}

void Environment::setEntry(std::string_view entry) {
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && eq > 0) {
        set(entry.substr(0, eq), entry.substr(eq + 1));
    }
}

void Environment::unset(std::string_view key) {
    std::erase_if(entries_, [key](const std::string& e) { return keyOf(e) == key; });
}

std::optional<std::string_view> Environment::get(std::string_view key) const {
    for (const auto& entry : entries_) {
        if (keyOf(entry) == key) {
            return std::string_view(entry).substr(key.size() + 1);
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> Environment::find(std::string_view key) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (keyOf(entries_[i]) == key) {
            return i;
        }
    }
    return std::nullopt;
}

std::string_view Environment::valueAt(std::size_t index) const {
    const std::string_view entry = entries_.at(index);
    const auto eq = entry.find('=');
    return eq == std::string_view::npos ? std::string_view{} : entry.substr(eq + 1);
}

std::optional<std::string> expandVariables(std::string_view text, VariableLookup env) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '\\' && i + 1 < text.size()) {
            out += c;
            out += text[i + 1];
            i += 2;
            continue;
        }
        if (c != '$' || i + 1 >= text.size()) {
            out += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '{') {
            const auto close = text.find('}', i + 2);
            if (close == std::string_view::npos) {
                return std::nullopt;
            }
            const std::string_view inner = text.substr(i + 2, close - i - 2);
            std::size_t n = 0;
            while (n < inner.size() && isNameChar(inner[n], n == 0)) {
                ++n;
            }
            if (n == 0) {
                return std::nullopt;
            }
            const std::string_view name = inner.substr(0, n);
            const std::string_view op = inner.substr(n);
            const auto value = env.get(name);
            const bool set_nonempty = value && !value->empty();
            std::optional<std::string_view> replacement;
            if (op.empty()) {
                replacement = value;
            } else if (op.starts_with(":-")) {
                replacement = set_nonempty ? *value : op.substr(2);
            } else if (op.starts_with(":+")) {
                replacement = set_nonempty ? op.substr(2) : std::string_view{};
            } else if (op.front() == '-') {
                replacement = value ? *value : op.substr(1);
            } else if (op.front() == '+') {
                replacement = value ? op.substr(1) : std::string_view{};
            } else {
                return std::nullopt;
            }
            if (!replacement) {
                return std::nullopt;
            }
            out += *replacement;
            i = close + 1;
            continue;
        }
        std::size_t n = 0;
        while (i + 1 + n < text.size() && isNameChar(text[i + 1 + n], n == 0)) {
            ++n;
        }
        if (n == 0) {
            out += c;  // a lone `$` is literal
            ++i;
            continue;
        }
        const auto value = env.get(text.substr(i + 1, n));
        if (!value) {
            return std::nullopt;
        }
        out += *value;
        i += 1 + n;
    }
    return out;
}

std::optional<std::string> expansionProblem(std::string_view text) {
    struct EverythingSet {
        std::optional<std::string_view> get(std::string_view) const { return "x"; }
    } every_name;
    if (expandVariables(text, every_name)) {
        return std::nullopt;  // it fails only for an unset name, which is the environment's
    }
    const auto open = text.rfind("${");
    if (open != std::string_view::npos && text.find('}', open) == std::string_view::npos) {
        return "'${' has no closing '}'";
    }
    return "a ${...} in it is none of ${NAME}, ${NAME:-WORD}, ${NAME-WORD}, ${NAME:+WORD} and "
           "${NAME+WORD}";
}

}  // namespace tend::model
