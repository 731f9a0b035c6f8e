#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints "COMMAND OPTION" for every option that `tendctl --help` shows in a command's synopsis
# (`restart [-n] [--reload] JOB` gives "restart -n" and "restart --reload"), so that the tests
# of the man page and of the completions follow tendctl as it grows.
#   tendctl_help_options.sh TENDCTL
set -euo pipefail
"$1" --help | awk '
    /^  [a-z]/ {
        synopsis = $0
        sub(/^  /, "", synopsis)
        sub(/   *.*/, "", synopsis)  # the description, after two or more blanks
        n = split(synopsis, words, " ")
        for (i = 2; i <= n; i++) {
            word = words[i]
            gsub(/[][|]/, " ", word)
            m = split(word, parts, " ")
            for (j = 1; j <= m; j++) {
                if (parts[j] ~ /^--?[a-z][a-z-]*$/) {
                    print words[1], parts[j]
                }
            }
        }
    }'
