// SPDX-License-Identifier: MIT
// A JSON text written straight into a string, for the replies tend sends most (status, list,
// start): building an nlohmann tree only to serialise and free it was most of a request's
// user time. The text is what encodeLine() makes of the same value: keys in the order written
// (write them sorted, as the tree would), no spaces, strings escaped alike, invalid UTF-8
// replaced.
#pragma once

#include <string>
#include <string_view>

namespace tend::control {

class JsonWriter {
  public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& beginObject();
    JsonWriter& endObject();
    JsonWriter& beginArray();
    JsonWriter& endArray();
    JsonWriter& key(std::string_view name);
    JsonWriter& string(std::string_view text);
    JsonWriter& number(long long value);
    JsonWriter& boolean(bool value);

    // key(name) followed by the value.
    JsonWriter& field(std::string_view name, std::string_view text) {
        return key(name).string(text);
    }
    JsonWriter& field(std::string_view name, const char* text) { return key(name).string(text); }
    JsonWriter& field(std::string_view name, long long value) { return key(name).number(value); }
    JsonWriter& field(std::string_view name, int value) { return key(name).number(value); }
    JsonWriter& field(std::string_view name, bool value) { return key(name).boolean(value); }

  private:
    void separate();

    std::string& out_;
    bool after_value_ = false;
};

}  // namespace tend::control
