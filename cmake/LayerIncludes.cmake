# mcusplit_check_layer_includes(LAYER TARGET): before TARGET builds, every
# source of src/LAYER is checked for an include of a layer above it
# (cmake/check_layer_includes.cmake); an upward include fails the build,
# naming the file and the include. The check re-runs when a source of the
# layer changes. MCUSPLIT_LAYERS lists the layers from the bottom up.
set(MCUSPLIT_LAYERS core kernels device common model quant tflite plan host cli)

function(mcusplit_check_layer_includes layer target)
  set(root ${PROJECT_SOURCE_DIR}/src)
  file(GLOB sources CONFIGURE_DEPENDS ${root}/${layer}/*.cpp ${root}/${layer}/*.h)
  list(JOIN MCUSPLIT_LAYERS "," layers)
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/layer_includes/${layer}.ok)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DSOURCE_ROOT=${root} -DLAYERS=${layers} -DLAYER=${layer}
            -DSTAMP=${stamp} -P ${PROJECT_SOURCE_DIR}/cmake/check_layer_includes.cmake
    DEPENDS ${sources} ${PROJECT_SOURCE_DIR}/cmake/check_layer_includes.cmake
    COMMENT "Checking that src/${layer} includes only the layers below it"
    VERBATIM)
  add_custom_target(mcusplit_${layer}_includes DEPENDS ${stamp})
  add_dependencies(${target} mcusplit_${layer}_includes)
endfunction()
