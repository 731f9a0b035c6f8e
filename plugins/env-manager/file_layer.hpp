// SPDX-License-Identifier: MIT
// The environment.d files as a layer over the global table. A variable is the files' while its
// origin says "environment.d"; a set-env since makes it the user's, and the files leave it be
// until its line changes. Applying the files again sets what is new or changed in them, and
// takes back what a removed line had set: the value it had overridden (say, an imported
// DISPLAY), or nothing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "environment_files.hpp"

namespace tend::env_manager {

// The global table as the layer sees it (the host's, or a test's).
class EnvironmentTable {
  public:
    virtual ~EnvironmentTable() = default;
    struct Value {
        std::string value;
        std::string kind;  // the origin's
        std::string detail;
    };
    virtual std::vector<std::string> names() const = 0;
    virtual std::optional<Value> get(const std::string& name) const = 0;
    // Both return an error text, or nothing.
    virtual std::string set(const std::string& name, const Value& value) = 0;
    virtual std::string unset(const std::string& name) = 0;
};

inline constexpr const char* kFileOrigin = "environment.d";

class FileLayer {
  public:
    // What the lines see below the files: the table, with the files' own variables taken back
    // to what they overrode (so that `PATH=$HOME/bin:$PATH` does not grow at each reading).
    std::optional<std::string> below(const EnvironmentTable& table, std::string_view name) const;

    // Makes the table hold `wanted` (the files' assignments in order; a later one of a name
    // wins). Returns the problems, `file:line: error: ...`.
    std::vector<std::string> apply(EnvironmentTable& table,
                                   const std::vector<FileAssignment>& wanted);

    // The table was reset under the layer: nothing it held is known any more.
    void forget() {
        overridden_.clear();
        applied_.clear();
    }

  private:
    // Per variable of the files: what it overrode, if anything, and the value its line gave
    // when last applied (a set-env since then stands until the line changes).
    std::map<std::string, std::optional<EnvironmentTable::Value>, std::less<>> overridden_;
    std::map<std::string, std::string, std::less<>> applied_;
};

}  // namespace tend::env_manager
