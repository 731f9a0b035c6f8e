// SPDX-License-Identifier: MIT
#pragma once

namespace tend::ctl {

// Runs `tendctl check-config ARGS...`; returns tendctl's exit status.
int checkConfig(int argc, char** argv);

}  // namespace tend::ctl
