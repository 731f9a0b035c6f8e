// SPDX-License-Identifier: MIT
// A job instance's environment table: a shared base (the global table's generation the instance
// started from, for the price of a pointer) and the instance's own changes over it (its `env`
// stanza, the starting event's or command's variables, its own set-env, and the global set-env
// that reached it while it ran). It reads, in order and value, exactly as a copy of the base
// changed by the same set() and unset() calls would: a replaced base entry keeps its position,
// a new key comes after the base, and a base key removed and then set again comes last.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/environment.hpp"

namespace tend::model {

class LayeredEnvironment {
  public:
    LayeredEnvironment() = default;
    explicit LayeredEnvironment(std::shared_ptr<const Environment> base) : base_(std::move(base)) {}

    void set(std::string_view key, std::string_view value);
    void setEntry(std::string_view entry);  // "KEY=VALUE"; an entry without '=' is ignored
    void unset(std::string_view key);
    std::optional<std::string_view> get(std::string_view key) const;
    std::size_t size() const;

    // The table as one Environment, as its processes receive it.
    Environment flatten() const;

    // The shared base (null for none), and how many entries are the table's own: replaced or
    // removed base entries and added ones. What the base holds costs the table nothing.
    const Environment* base() const { return base_.get(); }
    std::size_t ownEntries() const { return replaced_.size() + added_.size(); }

  private:
    // The item of replaced_ for a base position, or where it would go.
    std::vector<std::pair<std::size_t, std::string>>::iterator replacement(std::size_t position);
    const std::string* replacementAt(std::size_t position) const;

    std::shared_ptr<const Environment> base_;
    // Base entries this table replaced, by their position in the base, sorted: the new
    // `KEY=VALUE`, or an empty string for one it removed.
    std::vector<std::pair<std::size_t, std::string>> replaced_;
    // Keys the base lacks (or had removed here), in the order they came.
    Environment added_;
};

}  // namespace tend::model
