# CPack runs this (CPACK_PRE_BUILD_SCRIPTS) on the staged install trees, one per component, before
# it builds the Debian packages from them. It adds what Debian asks of every package and a plain
# install has no use for: a copyright file and a changelog in /usr/share/doc/<package>, man pages
# compressed with gzip -9n (-n: no name or time stamp, so a rebuild is byte for byte the same),
# man pages for the shortcuts (links to tendctl's), and lintian's overrides for what is meant.

set(stage ${CPACK_TEMPORARY_DIRECTORY})
set(debian ${CPACK_TEND_DEBIAN_DIR})
string(TIMESTAMP date "%a, %d %b %Y %H:%M:%S +0000" UTC)

# SOURCE DESTINATION: a copy, rw-r--r--. Not with file(INSTALL), which would prepend the DESTDIR
# that CPack leaves set.
function(copy_file source destination)
    get_filename_component(dir ${destination} DIRECTORY)
    file(MAKE_DIRECTORY ${dir})
    file(COPY_FILE ${source} ${destination})
    file(CHMOD ${destination} PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

function(gzip_n file)
    execute_process(COMMAND gzip -9nf "${file}" RESULT_VARIABLE failed)
    if(failed)
        message(FATAL_ERROR "gzip -9n ${file} failed")
    endif()
endfunction()

# COMPONENT PACKAGE: the documentation every Debian package carries.
function(add_package_doc component package)
    set(doc ${stage}/${component}/usr/share/doc/${package})
    copy_file(${debian}/copyright ${doc}/copyright)
    file(WRITE ${doc}/changelog.Debian "tend (${CPACK_TEND_DEB_VERSION}) unstable; urgency=medium

  * Built by CPack from the tend sources.

 -- ${CPACK_DEBIAN_PACKAGE_MAINTAINER}  ${date}
")
    gzip_n(${doc}/changelog.Debian)
endfunction()
add_package_doc(Unspecified tend)
add_package_doc(shortcuts tend-upstart-shortcuts)

file(GLOB pages ${stage}/Unspecified/usr/share/man/man*/*.[1-8])
foreach(page IN LISTS pages)
    gzip_n(${page})
endforeach()

# Each shortcut is tendctl under another name, so tendctl's page is its page.
set(man1 ${stage}/shortcuts/usr/share/man/man1)
file(MAKE_DIRECTORY ${man1})
foreach(name start stop restart reload status initctl)
    file(CREATE_LINK tendctl.1.gz ${man1}/${name}.1.gz SYMBOLIC)
endforeach()

# tendctl is a static PIE on purpose (it starts faster than /bin/true; docs/benchmarks.md), which
# lintian warns of unless the package says it is meant.
execute_process(COMMAND file -b ${stage}/Unspecified/usr/bin/tendctl OUTPUT_VARIABLE tendctl_type)
if(tendctl_type MATCHES "static")
    copy_file(${debian}/tend.lintian-overrides
        ${stage}/Unspecified/usr/share/lintian/overrides/tend)
endif()
