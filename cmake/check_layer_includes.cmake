# Fails if a source of one layer includes a header of a layer above it
# (docs/design.md, "Layers"): run by the build before each layer's target
# compiles, and by the layer_includes test on a fixture.
#
#   cmake -DSOURCE_ROOT=src -DLAYERS=core,kernels,... -DLAYER=kernels
#         [-DSTAMP=file] -P cmake/check_layer_includes.cmake
#
# LAYERS lists every layer from the bottom up; LAYER may include itself and
# the layers listed before it. An `#include "X/..."` whose X is a later layer
# is an error naming the file, its line and the include. Includes of anything
# that is not a layer (system headers, firmware's own) are not looked at.
foreach(var SOURCE_ROOT LAYERS LAYER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_layer_includes: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "," ";" layers "${LAYERS}")
list(FIND layers "${LAYER}" position)
if(position EQUAL -1)
  message(FATAL_ERROR "check_layer_includes: '${LAYER}' is not one of the layers ${LAYERS}")
endif()
list(SUBLIST layers 0 ${position} below)
list(SUBLIST layers ${position} -1 above_and_self)
list(REMOVE_AT above_and_self 0)
string(REPLACE ";" ", " below_text "${below}")
if(below_text STREQUAL "")
  set(below_text "none")
endif()

file(GLOB sources ${SOURCE_ROOT}/${LAYER}/*.cpp ${SOURCE_ROOT}/${LAYER}/*.h)
set(violations "")
foreach(source ${sources})
  file(STRINGS ${source} lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([a-z_]+)/[^\"]*\"")
      list(FIND above_and_self "${CMAKE_MATCH_1}" upward)
      if(NOT upward EQUAL -1)
        string(STRIP "${line}" include)
        file(RELATIVE_PATH shown ${SOURCE_ROOT}/.. ${source})
        string(APPEND violations
               "\n  ${shown}:${number}: ${include} (layer ${LAYER} may include only itself and "
               "the layers below it: ${below_text})")
      endif()
    endif()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "upward include in layer ${LAYER}:${violations}")
endif()
if(DEFINED STAMP)
  file(TOUCH ${STAMP})
endif()
