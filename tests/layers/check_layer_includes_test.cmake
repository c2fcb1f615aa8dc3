# The layer_includes test: cmake/check_layer_includes.cmake run on
# tests/layers/fixture must pass the layers that include only downwards (core
# itself, plan onto kernels) and fail the kernel that includes a plan header,
# naming the file, the line and the include.
#
#   cmake -DCHECKER=cmake/check_layer_includes.cmake -P check_layer_includes_test.cmake
set(fixture ${CMAKE_CURRENT_LIST_DIR}/fixture/src)
set(layers core,kernels,device,common,model,quant,tflite,plan,host,cli)

function(run_check layer result_var output_var)
  execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_ROOT=${fixture} -DLAYERS=${layers}
                          -DLAYER=${layer} -P ${CHECKER}
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${result_var} ${result} PARENT_SCOPE)
  set(${output_var} "${out}${err}" PARENT_SCOPE)
endfunction()

foreach(clean core plan)
  run_check(${clean} result output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "layer ${clean} of the fixture includes only downwards, but the check "
                        "failed:\n${output}")
  endif()
endforeach()

run_check(kernels result output)
if(result EQUAL 0)
  message(FATAL_ERROR "the upward include in fixture/src/kernels/upward.cpp was not caught")
endif()
set(expected "src/kernels/upward.cpp:5: #include \"plan/plan.h\"")
string(FIND "${output}" "${expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the check failed without naming '${expected}':\n${output}")
endif()
string(FIND "${output}" "core/fixed.h" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "the check named the downward include core/fixed.h:\n${output}")
endif()
message(STATUS "upward include caught:\n${output}")
