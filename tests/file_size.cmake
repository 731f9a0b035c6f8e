# SPDX-License-Identifier: MIT
# Layout.NoSourceFileOverSixHundredLines: no .cpp or .hpp file of core, the grammar or the
# standard plugins is longer than 600 lines; past that a file is doing more than one thing and is
# split along what it does. Run as
#     cmake -DSOURCE_DIR=<source dir> -P tests/file_size.cmake
# It fails listing every file over the limit, with its length.

set(max_lines 600)
set(areas core/src core/tools core/include grammar/src grammar/include plugins)

# -------------------------------------------------------------------------------------------

cmake_minimum_required(VERSION 3.25)  # the project's

if(NOT DEFINED SOURCE_DIR)
    message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<source dir> -P file_size.cmake")
endif()
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
if(NOT IS_DIRECTORY "${SOURCE_DIR}/core/src")
    message(FATAL_ERROR "${SOURCE_DIR} is not a tend source tree: it has no core/src")
endif()

set(sources)
foreach(area IN LISTS areas)
    if(IS_DIRECTORY "${SOURCE_DIR}/${area}")  # plugins/ may not exist
        file(GLOB_RECURSE found RELATIVE "${SOURCE_DIR}" LIST_DIRECTORIES false
            "${SOURCE_DIR}/${area}/*.cpp" "${SOURCE_DIR}/${area}/*.hpp")
        list(APPEND sources ${found})
    endif()
endforeach()
list(SORT sources)

set(too_long)
foreach(source IN LISTS sources)
    if(NOT EXISTS "${SOURCE_DIR}/${source}")
        continue()  # removed since the glob, by an edit in progress
    endif()
    file(READ "${SOURCE_DIR}/${source}" text)
    # Lines as `wc -l` counts them, plus a last line without its newline.
    string(REGEX REPLACE "[^\n]" "" newlines "${text}")
    string(LENGTH "${newlines}" lines)
    if(NOT text STREQUAL "" AND NOT text MATCHES "\n$")
        math(EXPR lines "${lines} + 1")
    endif()
    if(lines GREATER max_lines)
        list(APPEND too_long "${source}: ${lines} lines")
    endif()
endforeach()

list(LENGTH sources checked)
if(too_long)
    list(LENGTH too_long count)
    # Indented lines are printed as they are; CMake would otherwise wrap them.
    list(JOIN too_long "\n  " listing)
    message(FATAL_ERROR "${count} source file(s) over ${max_lines} lines:\n  ${listing}")
endif()
message(STATUS "file size: ${checked} files checked, none over ${max_lines} lines")
