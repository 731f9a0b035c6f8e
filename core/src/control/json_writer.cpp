// SPDX-License-Identifier: MIT
#include "control/json_writer.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace tend::control {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// What nlohmann's serialiser writes for the same string, which replaces invalid UTF-8; only
// text with bytes above ASCII takes that way, and a status line rarely has any.
void appendNonAscii(std::string& out, std::string_view text) {
    out += nlohmann::json(std::string(text))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void JsonWriter::separate() {
    if (after_value_) {
        out_.push_back(',');
    }
}

JsonWriter& JsonWriter::beginObject() {
    separate();
    out_.push_back('{');
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::endObject() {
    out_.push_back('}');
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::beginArray() {
    separate();
    out_.push_back('[');
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::endArray() {
    out_.push_back(']');
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    string(name);
    out_.push_back(':');
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view text) {
    separate();
    after_value_ = true;
    const std::size_t opening = out_.size();
    out_.push_back('"');
    std::size_t unescaped = 0;  // the start of the run not yet copied
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            out_.resize(opening);
            appendNonAscii(out_, text);
            return *this;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        out_.append(text.data() + unescaped, i - unescaped);
        unescaped = i + 1;
        switch (c) {
        case '"':
            out_ += "\\\"";
            break;
        case '\\':
            out_ += "\\\\";
            break;
        case '\b':
            out_ += "\\b";
            break;
        case '\f':
            out_ += "\\f";
            break;
        case '\n':
            out_ += "\\n";
            break;
        case '\r':
            out_ += "\\r";
            break;
        case '\t':
            out_ += "\\t";
            break;
        default:
            out_ += "\\u00";
            out_.push_back(kHex[c >> 4]);
            out_.push_back(kHex[c & 0xf]);
        }
    }
    out_.append(text.data() + unescaped, text.size() - unescaped);
    out_.push_back('"');
    return *this;
}

JsonWriter& JsonWriter::number(long long value) {
    separate();
    after_value_ = true;
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out_.append(digits, end);
    return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
    separate();
    after_value_ = true;
    out_ += value ? "true" : "false";
    return *this;
}

}  // namespace tend::control
