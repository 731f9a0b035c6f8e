// SPDX-License-Identifier: MIT
// spdlog's compiled part, built into tend from the headers of Debian's libspdlog-dev instead of
// loaded from libspdlog.so. No other process of a session maps that library, so tend paid for
// all of it: 504 KiB of resident pages at 1,000 jobs, its symbol and relocation tables (spdlog's
// mangled C++ names; 211 KB of the file) and code tend never calls among them. Built here, only the
// logger, registry, pattern formatter and sinks tend uses are linked in (docs/benchmarks.md,
// "Memory").
//
// Every other source sees spdlog as a compiled library (SPDLOG_COMPILED_LIB, set on tend_core),
// so the implementation is compiled once, in this file, as spdlog's own src/*.cpp would.
#ifndef SPDLOG_COMPILED_LIB
#error "spdlog_compiled.cpp is built with SPDLOG_COMPILED_LIB, as every source of tend_core is"
#endif

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>
#include <mutex>

// What the rest of tend instantiates: its own sinks derive from base_sink<std::mutex>; the
// null-mutex one is spdlog's null sink's; a tend with no log file logs to stderr.
template class spdlog::sinks::base_sink<std::mutex>;
template class spdlog::sinks::base_sink<spdlog::details::null_mutex>;
template class spdlog::sinks::stdout_sink_base<spdlog::details::console_mutex>;
template class spdlog::sinks::stderr_sink<spdlog::details::console_mutex>;
template std::shared_ptr<spdlog::logger> spdlog::stderr_logger_mt<spdlog::synchronous_factory>(
    const std::string& logger_name);
