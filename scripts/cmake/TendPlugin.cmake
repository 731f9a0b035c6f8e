# tend_add_plugin(NAME SOURCES...)
#
# Builds a plugin as a MODULE library the way the loader expects it: no `lib` prefix, hidden
# visibility (only what TEND_PLUGIN exports stays visible: the factory's BOOST_DLL_ALIAS and the
# descriptor) and output in build/plugins.d/.
function(tend_add_plugin name)
    add_library(${name} MODULE ${ARGN})
    set_target_properties(${name} PROPERTIES
        PREFIX ""
        CXX_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON
        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins.d)
    target_link_libraries(${name} PRIVATE tend_build_flags)
endfunction()
