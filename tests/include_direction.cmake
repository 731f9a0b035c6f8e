# SPDX-License-Identifier: MIT
# Layout.FoldersDependOneWay: every `#include "..."` in core, the grammar and the standard plugins
# goes down the layers, never up or sideways. Run as
#     cmake -DSOURCE_DIR=<source dir> -P tests/include_direction.cmake
# It fails listing every include against the direction, as `file:line: include "x" (...)`.
#
# The layers, lowest first; `a <- b` reads "b may include a", and whatever is further right may
# include what is further left (the table below is the exact word):
#
#     tend/grammar <- model <- conf <- dispatch <- store <- {control, plugin} <- daemon
#                       ^                 |
#                      sys <- log <-------+   (and everything above dispatch)
#
# model is the job model; conf loads job files into it; dispatch runs jobs; store is the live
# job-file store and its watcher; control (the control socket) and plugin (the plugin host) sit
# side by side on top of those and know nothing of each other; daemon wires everything together.
# sys (the platform) and log sit beside the stack: dispatch and everything above it use them, and
# they use nothing above model (log may use sys).
#
# An include's folder is its first path component: "dispatch/supervisor.hpp" is dispatch,
# "tend/grammar/ast.hpp" is the grammar SDK and "tend/plugin/plugin.hpp" the plugin SDK.
# An include without a slash ("syntax.hpp") is a header next to the including file, and is
# always allowed. `#include <...>` is a system or third-party include, and is not checked.
#
# The rule table: the folders each part of the tree may include (its own folder included).
# `core` stands for every core/src folder named in this table and both SDKs.

set(core_src_may_include_model    model tend/grammar)
set(core_src_may_include_sys      sys model)
set(core_src_may_include_log      log sys model)
set(core_src_may_include_conf     conf model tend/grammar)
set(core_src_may_include_dispatch dispatch conf model sys log tend/grammar)
set(core_src_may_include_store    store dispatch conf model sys log tend/grammar)
set(core_src_may_include_control  control store dispatch conf model sys log tend/grammar)
set(core_src_may_include_plugin   plugin store dispatch conf model sys log tend/grammar tend/plugin)
set(core_src_may_include_daemon   core)
# core/tools: the tend and tendctl programs.
set(core_tools_may_include        core)
# core/include/tend/plugin: the plugin SDK, installed for out-of-tree plugins.
set(plugin_sdk_may_include        tend/plugin tend/grammar)
# grammar/include and grammar/src: the Upstart job-file grammar, which knows nothing of core.
set(grammar_may_include           tend/grammar)
# plugins/<name>/: the standard plugins, built against the SDK alone (plus their own
# "<name>/..." headers). Their tests (plugins/<name>/tests/) also use the shared test support
# (tests/support/), which runs the real daemon.
set(plugins_may_include           tend/plugin)
set(plugin_tests_may_include      tend/plugin support)

# -------------------------------------------------------------------------------------------

cmake_minimum_required(VERSION 3.25)  # the project's; sets the policies IN_LIST needs

if(NOT DEFINED SOURCE_DIR)
    message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<source dir> -P include_direction.cmake")
endif()
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
if(NOT IS_DIRECTORY "${SOURCE_DIR}/core/src")
    message(FATAL_ERROR "${SOURCE_DIR} is not a tend source tree: it has no core/src")
endif()

set(core_src_folders)
get_cmake_property(variables VARIABLES)
foreach(variable IN LISTS variables)
    if(variable MATCHES "^core_src_may_include_(.+)$")
        list(APPEND core_src_folders "${CMAKE_MATCH_1}")
    endif()
endforeach()
set(core_everything ${core_src_folders} tend/grammar tend/plugin)

# The folder an include names: its first path component, or the SDK it belongs to.
function(include_folder include out)
    if(include MATCHES "^tend/([^/]+)/")
        set(${out} "tend/${CMAKE_MATCH_1}" PARENT_SCOPE)
    elseif(include MATCHES "^([^/]*)/")
        set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    else()
        set(${out} "" PARENT_SCOPE)
    endif()
endfunction()

set(sources)
foreach(area core/src core/tools core/include grammar plugins)
    if(IS_DIRECTORY "${SOURCE_DIR}/${area}")
        file(GLOB_RECURSE found RELATIVE "${SOURCE_DIR}" LIST_DIRECTORIES false
            "${SOURCE_DIR}/${area}/*.cpp" "${SOURCE_DIR}/${area}/*.hpp"
            "${SOURCE_DIR}/${area}/*.cc" "${SOURCE_DIR}/${area}/*.hh"
            "${SOURCE_DIR}/${area}/*.cxx" "${SOURCE_DIR}/${area}/*.hxx"
            "${SOURCE_DIR}/${area}/*.c" "${SOURCE_DIR}/${area}/*.h"
            "${SOURCE_DIR}/${area}/*.ipp" "${SOURCE_DIR}/${area}/*.inl")
        list(APPEND sources ${found})
    endif()
endforeach()
list(SORT sources)

set(violations)
foreach(source IN LISTS sources)
    # Which part of the tree the file is in, and so what it may include.
    set(own_folder "")
    if(source MATCHES "^core/src/([^/]+)/")
        set(part "${CMAKE_MATCH_1}")
        if(NOT DEFINED core_src_may_include_${part})
            list(APPEND violations
                "${source}: core/src/${part} has no rule in tests/include_direction.cmake")
            continue()
        endif()
        set(allowed ${core_src_may_include_${part}})
    elseif(source MATCHES "^core/src/")
        list(APPEND violations
            "${source}: a file directly in core/src belongs in one of its folders")
        continue()
    elseif(source MATCHES "^core/tools/")
        set(part "core/tools")
        set(allowed ${core_tools_may_include})
    elseif(source MATCHES "^core/include/tend/plugin/")
        set(part "tend/plugin")
        set(allowed ${plugin_sdk_may_include})
    elseif(source MATCHES "^core/include/")
        list(APPEND violations
            "${source}: core/include has no rule for it in tests/include_direction.cmake")
        continue()
    elseif(source MATCHES "^grammar/")
        set(part "grammar")
        set(allowed ${grammar_may_include})
    elseif(source MATCHES "^plugins/([^/]+)/tests/")
        set(part "plugins/${CMAKE_MATCH_1}/tests")
        set(own_folder "${CMAKE_MATCH_1}")
        set(allowed ${plugin_tests_may_include})
    elseif(source MATCHES "^plugins/([^/]+)/")
        set(part "plugins/${CMAKE_MATCH_1}")
        set(own_folder "${CMAKE_MATCH_1}")
        set(allowed ${plugins_may_include})
    else()
        set(part "plugins")
        set(allowed ${plugins_may_include})
    endif()
    if(allowed STREQUAL "core")
        set(allowed ${core_everything})
    endif()

    if(NOT EXISTS "${SOURCE_DIR}/${source}")
        continue()  # removed since the glob, by an edit in progress
    endif()
    file(READ "${SOURCE_DIR}/${source}" text)
    if(NOT text MATCHES "#[ \t]*include")
        continue()
    endif()
    # One list element per line. `;`, `\` and square brackets would upset CMake's list
    # splitting, and no include path holds them, so they go first.
    string(REPLACE "\\" " " text "${text}")
    string(REPLACE ";" " " text "${text}")
    string(REPLACE "[" " " text "${text}")
    string(REPLACE "]" " " text "${text}")
    string(REPLACE "\r" "" text "${text}")
    string(REPLACE "\n" ";" lines "${text}")

    set(number 0)
    foreach(line IN LISTS lines)
        math(EXPR number "${number} + 1")
        if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\"")
            continue()
        endif()
        set(include "${CMAKE_MATCH_1}")
        include_folder("${include}" folder)
        if(folder STREQUAL "" OR folder IN_LIST allowed OR
           (NOT own_folder STREQUAL "" AND folder STREQUAL own_folder))
            continue()
        endif()
        list(APPEND violations
            "${source}:${number}: include \"${include}\" (folder ${part} may not include folder ${folder})")
    endforeach()
endforeach()

list(LENGTH sources checked)
if(violations)
    list(LENGTH violations count)
    # Indented lines are printed as they are; CMake would otherwise wrap them.
    list(JOIN violations "\n  " listing)
    message(FATAL_ERROR "${count} include(s) against the layering "
        "(rules at the top of tests/include_direction.cmake):\n  ${listing}")
endif()
message(STATUS "include direction: ${checked} files checked, every include goes down the layers")
