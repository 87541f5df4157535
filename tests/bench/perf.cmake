# Programs of the side-by-side benchmark (tests/bench/perf/run_bench.sh, docs/benchmarks.md):
# a many-address STARTTLS SMTP listener and the plain-OpenSSL STARTTLS baseline client.
# Included from tests/bench/CMakeLists.txt after its MAILTLS_BENCH check; built only then.
if(NOT MAILTLS_BENCH)
  return()
endif()

foreach(prog bench_smtp_server starttls_baseline)
  add_executable(${prog} ${CMAKE_CURRENT_LIST_DIR}/perf/${prog}.cc)
  target_include_directories(${prog} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${prog} PRIVATE OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endforeach()
