// SPDX-License-Identifier: MIT
#include "model/layered_environment.hpp"

#include <algorithm>

namespace tend::model {

std::vector<std::pair<std::size_t, std::string>>::iterator LayeredEnvironment::replacement(
    std::size_t position) {
    return std::lower_bound(replaced_.begin(), replaced_.end(), position,
                            [](const auto& item, std::size_t p) { return item.first < p; });
}

const std::string* LayeredEnvironment::replacementAt(std::size_t position) const {
    const auto it =
        std::lower_bound(replaced_.begin(), replaced_.end(), position,
                         [](const auto& item, std::size_t p) { return item.first < p; });
    return it != replaced_.end() && it->first == position ? &it->second : nullptr;
}

void LayeredEnvironment::set(std::string_view key, std::string_view value) {
    if (added_.find(key)) {
        added_.set(key, value);
        return;
    }
    const auto position = base_ ? base_->find(key) : std::nullopt;
    if (!position) {
        added_.set(key, value);
        return;
    }
    std::string entry = std::string(key) + '=' + std::string(value);
    auto it = replacement(*position);
    if (it == replaced_.end() || it->first != *position) {
        replaced_.emplace(it, *position, std::move(entry));
    } else if (it->second.empty()) {
        // Removed here before: a copy would have erased it, so it now comes last.
        added_.set(key, value);
    } else {
        it->second = std::move(entry);
    }
}

void LayeredEnvironment::setEntry(std::string_view entry) {
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && eq > 0) {
        set(entry.substr(0, eq), entry.substr(eq + 1));
    }
}

void LayeredEnvironment::unset(std::string_view key) {
    added_.unset(key);
    const auto position = base_ ? base_->find(key) : std::nullopt;
    if (!position) {
        return;
    }
    auto it = replacement(*position);
    if (it == replaced_.end() || it->first != *position) {
        replaced_.emplace(it, *position, std::string());
    } else {
        it->second.clear();
    }
}

std::optional<std::string_view> LayeredEnvironment::get(std::string_view key) const {
    if (const auto own = added_.get(key)) {
        return own;
    }
    const auto position = base_ ? base_->find(key) : std::nullopt;
    if (!position) {
        return std::nullopt;
    }
    if (const std::string* replaced = replacementAt(*position)) {
        if (replaced->empty()) {
            return std::nullopt;
        }
        return std::string_view(*replaced).substr(key.size() + 1);
    }
    return base_->valueAt(*position);
}

std::size_t LayeredEnvironment::size() const {
    const auto removed = std::count_if(replaced_.begin(), replaced_.end(),
                                       [](const auto& item) { return item.second.empty(); });
    return (base_ ? base_->size() : 0) - static_cast<std::size_t>(removed) + added_.size();
}

Environment LayeredEnvironment::flatten() const {
    std::vector<std::string> entries;
    entries.reserve(size());
    if (base_) {
        auto next = replaced_.begin();
        for (std::size_t i = 0; i < base_->size(); ++i) {
            if (next != replaced_.end() && next->first == i) {
                if (!next->second.empty()) {
                    entries.push_back(next->second);
                }
                ++next;
            } else {
                entries.push_back(base_->entry(i));
            }
        }
    }
    entries.insert(entries.end(), added_.entries().begin(), added_.entries().end());
    return Environment(std::move(entries));
}

}  // namespace tend::model
