// SPDX-License-Identifier: MIT
// The files of one log's rotation: `name.log` (live), then `name.log.1[.gz]` (newest) to
// `name.log.<keep>[.gz]` (oldest). Plain file operations, run off tend's loop; each returns
// what went wrong as text, or an empty string.
#pragma once

#include <string>
#include <vector>

namespace tend::logrotate {

// `path.<n>` and `path.<n>.gz`.
std::string rotatedName(const std::string& path, int n, bool compressed);

// Makes room for a new `path.1`: drops what would pass `keep`, and renames every older
// `path.<n>[.gz]` to `path.<n+1>[.gz]`.
std::string shiftRotated(const std::string& path, int keep);

// The handshake's step: a non-empty `path` is renamed to `aside` (a missing or empty one stays,
// and `renamed` says whether anything was renamed). Quick: no other file is touched.
std::string renameAside(const std::string& path, const std::string& aside, bool& renamed);

// Where the handshake puts a log aside: `path.rotating-<when>`, in the order they were made.
std::string asideName(const std::string& path);

// After the handshake, off the loop: older logs move up one, the log put aside becomes
// `path.1` (or goes, with keep 0), then is gzipped if `compress`.
std::string placeRotation(const std::string& path, const std::string& aside, int keep,
                          bool compress);

// Gzips `source` into `source.gz` (through a temporary file, synced before the source goes),
// then removes `source`. On failure the source stays as it was and no partial .gz is left.
std::string compressFile(const std::string& source);

// Rotated logs in `dir` that are still plain (`*.log.<n>`): left by a compression that failed.
std::vector<std::string> uncompressedRotations(const std::string& dir);

// Logs put aside whose placing failed or was cut short (`*.log.rotating-*`), oldest first.
std::vector<std::string> asideRotations(const std::string& dir);

// Every live log in `dir` (`*.log`).
std::vector<std::string> liveLogs(const std::string& dir);

}  // namespace tend::logrotate
