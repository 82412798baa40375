# cmake/XprKernels.cmake — xpr_add_kernels(): compile xpr scripts ahead of time with xprc at build
# time and link them into a target (docs/aot.md).
#
#   include(XprKernels)   # with this directory on CMAKE_MODULE_PATH
#   xpr_add_kernels(my_app blackscholes.xpr grid.xpr
#                   [TARGET_CPU host|x86-64-v2|x86-64-v3|x86-64-v4|LEVEL,LEVEL...|multi]
#                   [PRECISION accurate|fast])
#
# Each SCRIPT becomes NAME.o and NAME.h (NAME: the script's file stem as a C identifier) under
# ${CMAKE_CURRENT_BINARY_DIR}/xpr_kernels/<target>, which joins the target's include path; the
# objects, libxpr_rt, SLEEF, libm and pthreads are linked into the target. Scripts are recompiled
# when they (or xprc) change.
#
# Where the tools come from: inside the xpr build tree, the `xprc` and `xpr_rt` targets; in
# another project, XPRC_EXECUTABLE and XPR_RT_LIBRARY (cache variables; searched on the PATH and
# the library path when unset).
include_guard(GLOBAL)
find_package(Threads REQUIRED)

function(xpr_add_kernels target)
  cmake_parse_arguments(XK "" "TARGET_CPU;PRECISION" "" ${ARGN})
  set(scripts ${XK_UNPARSED_ARGUMENTS})
  if(NOT scripts)
    message(FATAL_ERROR "xpr_add_kernels(${target}): no scripts given")
  endif()
  if(NOT XK_TARGET_CPU)
    set(XK_TARGET_CPU host)
  endif()
  if(NOT XK_PRECISION)
    set(XK_PRECISION accurate)
  endif()

  if(TARGET xprc)
    set(xprc $<TARGET_FILE:xprc>)
    set(xprc_dep xprc)
  else()
    find_program(XPRC_EXECUTABLE xprc)
    if(NOT XPRC_EXECUTABLE)
      message(FATAL_ERROR "xpr_add_kernels: xprc not found; set XPRC_EXECUTABLE")
    endif()
    set(xprc ${XPRC_EXECUTABLE})
    set(xprc_dep ${XPRC_EXECUTABLE})
  endif()
  if(TARGET xpr_rt)
    set(rt xpr_rt)
  else()
    find_library(XPR_RT_LIBRARY xpr_rt)
    if(NOT XPR_RT_LIBRARY)
      message(FATAL_ERROR "xpr_add_kernels: libxpr_rt not found; set XPR_RT_LIBRARY")
    endif()
    set(rt ${XPR_RT_LIBRARY})
  endif()
  find_library(XPR_SLEEF_LIBRARY sleef)
  if(NOT XPR_SLEEF_LIBRARY)
    message(FATAL_ERROR "xpr_add_kernels: libsleef not found (Debian: libsleef-dev)")
  endif()

  set(dir ${CMAKE_CURRENT_BINARY_DIR}/xpr_kernels/${target})
  file(MAKE_DIRECTORY ${dir})
  foreach(script ${scripts})
    get_filename_component(abs ${script} ABSOLUTE)
    get_filename_component(stem ${script} NAME_WE)
    string(MAKE_C_IDENTIFIER ${stem} name)
    set(obj ${dir}/${name}.o)
    set(hdr ${dir}/${name}.h)
    add_custom_command(
      OUTPUT ${obj} ${hdr}
      COMMAND ${xprc} ${abs} -o ${obj} --header ${hdr} --name ${name} --target ${XK_TARGET_CPU}
              --precision ${XK_PRECISION}
      DEPENDS ${abs} ${xprc_dep}
      COMMENT "xprc ${script} (${XK_TARGET_CPU}, ${XK_PRECISION})"
      VERBATIM)
    set_source_files_properties(${obj} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
    set_source_files_properties(${hdr} PROPERTIES GENERATED TRUE)
    target_sources(${target} PRIVATE ${obj} ${hdr})
  endforeach()
  target_include_directories(${target} PRIVATE ${dir})
  target_link_libraries(${target} PRIVATE ${rt} ${XPR_SLEEF_LIBRARY} m Threads::Threads)
endfunction()
