// SPDX-License-Identifier: MIT
// An ordered KEY=VALUE environment, as events and job processes carry it, and Upstart's
// parameter expansion over it.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tend::model {

class Environment {
  public:
    Environment() = default;
    Environment(std::initializer_list<std::string> entries);

    // Replaces the value of an existing key in place (keeping its position), else appends.
    void set(std::string_view key, std::string_view value);
    // Accepts "KEY=VALUE"; an entry without '=' is ignored.
    void setEntry(std::string_view entry);
    void unset(std::string_view key);
    std::optional<std::string_view> get(std::string_view key) const;
    // The position of `key`'s entry.
    std::optional<std::size_t> find(std::string_view key) const;

    std::size_t size() const { return entries_.size(); }
    const std::string& entry(std::size_t index) const { return entries_.at(index); }
    std::string_view valueAt(std::size_t index) const;
    const std::vector<std::string>& entries() const { return entries_; }

    friend bool operator==(const Environment&, const Environment&) = default;

  private:
    friend class LayeredEnvironment;
    // Entries whose keys are already unique: taken as they are, without a search per entry.
    explicit Environment(std::vector<std::string> unique_entries)
        : entries_(std::move(unique_entries)) {}

    std::vector<std::string> entries_;
};

// What `$NAME` expands against, borrowed for one call: any table with
// `get(name) -> optional<string_view>` (an Environment, a LayeredEnvironment), or none at all.
class VariableLookup {
  public:
    VariableLookup() = default;
    template <class Table>
    requires requires(const Table& t, std::string_view name) {
        { t.get(name) } -> std::same_as<std::optional<std::string_view>>;
    }
    VariableLookup(const Table& table)  // NOLINT(google-explicit-constructor): a borrow
        : table_(&table), get_([](const void* t, std::string_view name) {
              return static_cast<const Table*>(t)->get(name);
          }) {}

    std::optional<std::string_view> get(std::string_view name) const {
        return table_ ? get_(table_, name) : std::nullopt;
    }

  private:
    const void* table_ = nullptr;
    std::optional<std::string_view> (*get_)(const void*, std::string_view) = nullptr;
};

// Expands `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}` and `${VAR+word}`
// the way Upstart's environ_expand did. A plain reference to an unset variable is an error
// (nullopt): a `start on` operand using it then does not match, and an `instance` using it fails
// the start. `\$` is left alone, so that fnmatch still sees an escaped dollar.
std::optional<std::string> expandVariables(std::string_view text, VariableLookup env);

// Why `text` can never expand whatever the environment holds (a `${` with no closing `}`, an
// empty or unknown `${...}` form), or nullopt when it can.
std::optional<std::string> expansionProblem(std::string_view text);

}  // namespace tend::model
