// SPDX-License-Identifier: MIT
// The jobs of a crashed predecessor: found by their environment, ended before the jobs start again.
#pragma once

#include <spdlog/logger.h>

#include <cstddef>
#include <string>

namespace tend::daemon {

// Processes a previous tend of this session left behind: a tend that crashed (a plugin's
// segfault, a kill -9) leaves its jobs running with nobody supervising them. They carry
// TEND_SESSION=<this socket> and TEND_JOB, so the next tend on the same socket finds them and
// ends them before it starts the jobs again, rather than running every job twice. TEND_SESSION
// alone is not enough: the X session's launcher exports it to the whole desktop, whose
// terminals and applications are not tend's to end.
std::size_t endLeftovers(const std::string& socket_path, spdlog::logger& logger);

}  // namespace tend::daemon
