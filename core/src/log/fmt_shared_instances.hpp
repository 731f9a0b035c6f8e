// SPDX-License-Identifier: MIT
// Included before every source of tend's core (a compile option, not an #include), so that no
// translation unit compiles its own fmt::detail::vformat_to<char>: fmt 9 defines that template
// in its header but does not declare it `extern`, so every file that logs through spdlog built
// its own copy of fmt's whole formatter, float formatting (Dragonbox, Dragon4) included, and the
// optimiser's local clones of it were never merged by the linker (24 copies). Without them
// tend's text is 338 KB smaller (of 2.78 MB, Release), and a running tend maps the pages of its
// text it touches and those around them, and is charged for them in its PSS. The shared libfmt
// exports this very instantiation, so the calls go there instead.
#pragma once

#include <fmt/format.h>

#if !defined(FMT_HEADER_ONLY) && FMT_VERSION >= 90000 && FMT_VERSION < 100000
namespace fmt {
inline namespace v9 {
namespace detail {
extern template void vformat_to<char>(buffer<char>& buf, basic_string_view<char> format,
                                      basic_format_args<buffer_context<char>> args,
                                      locale_ref locale);
}  // namespace detail
}  // namespace v9
}  // namespace fmt
#endif
