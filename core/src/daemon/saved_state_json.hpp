// SPDX-License-Identifier: MIT
// The re-exec state as a file: versioned JSON, written by the tend that re-executes and read by
// the one that follows it in the same process. A version this tend does not know, or anything
// malformed, is refused with the reason, and the caller falls back to adopting the jobs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dispatch/saved_state.hpp"

namespace tend::daemon {

// The one version this tend writes and reads. `tend --state-version` prints it, so that a tend
// about to re-execute can ask a binary whether it reads what it would be given.
inline constexpr int kSavedStateVersion = 2;  // 2: `start on` and `stop on` part-way

std::string encodeSavedState(const dispatch::SavedState& state);
// Nothing, with `error` set, for a text that is not a state of kSavedStateVersion.
std::optional<dispatch::SavedState> decodeSavedState(std::string_view text, std::string& error);

}  // namespace tend::daemon
