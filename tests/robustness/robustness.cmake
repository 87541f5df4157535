# Hostile-peer and fault tests (label "robustness"; "world" where they need tests/world).
# Included from tests/robustness/CMakeLists.txt.
set(robustness_dir ${CMAKE_CURRENT_LIST_DIR})

if(TARGET mailtls_exporter_lib)
  mailtls_add_gtest(mailtls_robustness_state_test LABELS robustness
    SOURCES ${robustness_dir}/state_store_race_test.cc ${robustness_dir}/config_regression_test.cc
            ${robustness_dir}/peer_text_regression_test.cc
    LIBS mailtls_exporter_lib)
endif()

find_package(Python3 COMPONENTS Interpreter QUIET)
if(TARGET mailtls_exporter AND Python3_Interpreter_FOUND)
  # The whole exporter (`check`) against hostile DNS, SMTP and HTTPS peers on loopback.
  # ASan's quarantine (256 MB of freed memory held back) makes RSS meaningless as a leak
  # bound; a sanitizer build only checks that the peak stays under 1.5 GB.
  if(MAILTLS_SANITIZE)
    set(robustness_max_rss_mb 1500)
  else()
    set(robustness_max_rss_mb 400)
  endif()
  add_test(NAME robustness_exporter_hostile_peers
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/exporter_hostile_peers.py
            --exporter $<TARGET_FILE:mailtls_exporter> --max-rss-mb ${robustness_max_rss_mb})
  set_tests_properties(robustness_exporter_hostile_peers PROPERTIES
    LABELS "robustness;integration" TIMEOUT 600)
  # POST /tlsrpt abuse (issue 17): reports that inflate to ~20 MB of tiny arrays, 4 at a time,
  # must keep the peak RSS under 150 MB; forged organizations and policy domains must not grow
  # the series; refused reports must not rewrite the state.
  if(MAILTLS_SANITIZE)
    set(tlsrpt_abuse_max_rss_mb 1500)
  else()
    set(tlsrpt_abuse_max_rss_mb 150)
  endif()
  add_test(NAME robustness_tlsrpt_receiver_abuse
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/tlsrpt_receiver_abuse.py
            --exporter $<TARGET_FILE:mailtls_exporter> --max-rss-mb ${tlsrpt_abuse_max_rss_mb})
  set_tests_properties(robustness_tlsrpt_receiver_abuse PROPERTIES
    LABELS "robustness;integration" TIMEOUT 600)
  # Faults: resolver unreachable, state directory read-only / full, config deleted + SIGHUP,
  # SIGKILL during state writes, listen port in use. Needs root for the mounts (skipped
  # otherwise, exit code 77).
  add_test(NAME robustness_exporter_faults
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/exporter_faults.py
            --exporter $<TARGET_FILE:mailtls_exporter>)
  set_tests_properties(robustness_exporter_faults PROPERTIES
    LABELS "robustness;integration" TIMEOUT 900 SKIP_RETURN_CODE 77)
  # A signed zone (Knot, started by the test on a free loopback port) whose MX targets hold
  # bytes that are not UTF-8 and terminal escapes, with TLSA records: check, serve mode, state
  # file, promtool, storage lock. Then, in serve mode, one more domain of that zone per TXT
  # seed, its TXT records holding the fuzz_sts_txt_record / fuzz_tlsrpt_record seeds, while the
  # SMTP peer and the MTA-STS policy host rotate through the fuzz_smtp_reply / fuzz_sts_policy
  # seeds (issue 17).
  # Skipped (77) without knotd, keymgr, kdig or promtool.
  add_test(NAME robustness_exporter_peer_bytes
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/exporter_peer_bytes.py
            --exporter $<TARGET_FILE:mailtls_exporter>)
  set_tests_properties(robustness_exporter_peer_bytes PROPERTIES
    LABELS "robustness;integration" TIMEOUT 300 SKIP_RETURN_CODE 77)
  # Concurrent POST /-/reload and SIGHUP: the exporter stays up, a later reload works (issue 17, finding 3).
  add_test(NAME robustness_exporter_reload_race
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/exporter_reload_race.py
            --exporter $<TARGET_FILE:mailtls_exporter>)
  set_tests_properties(robustness_exporter_reload_race PROPERTIES
    LABELS "robustness;integration" TIMEOUT 300)
  # 1,000 slowloris clients and 4 header flooders, plain and TLS + basic auth: /metrics and
  # /-/healthy answer within 1 s, peak RSS stays under 300 MB (review findings 6 and 7).
  add_test(NAME robustness_http_slow_clients
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/http_slow_clients.py
            --exporter $<TARGET_FILE:mailtls_exporter> --seconds 15
            --max-rss-mb $<IF:$<BOOL:${MAILTLS_SANITIZE}>,1500,300>)
  set_tests_properties(robustness_http_slow_clients PROPERTIES
    LABELS "robustness;integration" TIMEOUT 180 SKIP_RETURN_CODE 77)
  # --config.check fails on a broken --web.config.file (review finding 9).
  add_test(NAME robustness_config_check_web_config
    COMMAND ${Python3_EXECUTABLE} ${robustness_dir}/config_check_web.py
            --exporter $<TARGET_FILE:mailtls_exporter>)
  set_tests_properties(robustness_config_check_web_config PROPERTIES LABELS "robustness;integration")
endif()

# Load: wrk against GET /metrics and POST /tlsrpt while the exporter probes the world; fails on
# any non-2xx answer, socket error, logged error, corrupt state or memory still growing after
# the load. Skipped (77) without wrk.
if(TARGET mailtls_exporter AND NOT MAILTLS_SANITIZE)
  add_test(NAME robustness_load
    COMMAND ${CMAKE_COMMAND} -E env SETTLE=15
            ${robustness_dir}/load_test.sh $<TARGET_FILE:mailtls_exporter> 10 32)
  set_tests_properties(robustness_load PROPERTIES
    LABELS "robustness;world" FIXTURES_REQUIRED world RESOURCE_LOCK world TIMEOUT 300
    SKIP_RETURN_CODE 77)
endif()
