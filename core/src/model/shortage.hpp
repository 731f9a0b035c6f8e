// SPDX-License-Identifier: MIT
// Errors that say tend, or the system, ran short of something it gets back (descriptors,
// memory, processes), not that what was asked for is wrong: the same call may succeed once some
// is free. Spawning, reading job files and loading plugins try again after such an error, where
// any other is final until the file changes.
#pragma once

#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

namespace tend::model {

inline bool isShortage(int error) {
    return error == EAGAIN || error == ENOMEM || error == EMFILE || error == ENFILE;
}

inline bool isShortage(const std::error_code& ec) {
    return ec.category() == std::generic_category() || ec.category() == std::system_category()
               ? isShortage(ec.value())
               : false;
}

// For messages that carry only strerror's text, as dlopen's do.
inline bool mentionsShortage(std::string_view message) {
    for (const int error : {ENOMEM, EMFILE, ENFILE}) {
        if (message.find(std::strerror(error)) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace tend::model
