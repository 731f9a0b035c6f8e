// SPDX-License-Identifier: MIT
// The .tend_plugin section as the linker lays it out: TEND_PLUGIN's descriptor and
// TEND_PLUGIN_EMITS's event list, NUL-terminated, in either order and with padding between.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "plugin/descriptor.hpp"

namespace tend::plugin {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::string_literals;

constexpr const char* kDescriptor =
    "tend-plugin\nname=file-bridge\nversion=1.0\napi=2\nrequires=\noptional=\nprovides=\n";

Descriptor parsed(const std::string& section) {
    auto result = parseDescriptor(section);
    if (auto* error = std::get_if<std::string>(&result)) {
        ADD_FAILURE() << *error;
        return {};
    }
    return std::get<Descriptor>(result);
}

TEST(PluginDescriptor, EmitsComesFromItsOwnStringInEitherOrder) {
    const std::string emits = "tend-plugin-emits\nemits=file, dbus-name\n"s;
    for (const std::string& section :
         {kDescriptor + "\0"s + emits + "\0"s, emits + "\0\0\0"s + kDescriptor + "\0"s}) {
        const Descriptor d = parsed(section);
        EXPECT_EQ(d.name, "file-bridge");
        EXPECT_EQ(d.api_version, 2);
        EXPECT_THAT(d.emits, ElementsAre("file", "dbus-name"));
    }
}

TEST(PluginDescriptor, APluginThatDeclaresNoEventsEmitsNone) {
    EXPECT_THAT(parsed(kDescriptor + "\0"s).emits, IsEmpty());
}

TEST(PluginDescriptor, AnEventListAloneIsNoDescriptor) {
    const auto result = parseDescriptor("tend-plugin-emits\nemits=file\n\0"s);
    ASSERT_TRUE(std::holds_alternative<std::string>(result));
    EXPECT_EQ(std::get<std::string>(result),
              "its .tend_plugin section is not a tend plugin descriptor");
}

}  // namespace
}  // namespace tend::plugin
