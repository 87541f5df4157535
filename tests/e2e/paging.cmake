# The paging path end to end: world F1 (rotate-key) -> mailtls_exporter -> Prometheus (shipped
# rules, for: 0s) -> Alertmanager -> webhook; then a resolver that does not validate (wrong
# trust anchors) must page once, not per domain; and every dashboard expression against that
# Prometheus. Included from tests/e2e/CMakeLists.txt. Needs /usr/bin/prometheus and
# /usr/bin/prometheus-alertmanager; runs about 70-130 s. See docs/paging-test.md.
add_test(NAME e2e_paging
         COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/paging/paging_test.sh $<TARGET_FILE:mailtls_exporter>)
set_tests_properties(e2e_paging PROPERTIES
  LABELS "world;alerts" FIXTURES_REQUIRED world RESOURCE_LOCK world TIMEOUT 420)
# The dashboards against an exporter in the lean metrics profile (docs/metrics.md, "Profiles"):
# the same test up to its dashboard check, with domains that have something wrong (every series
# kept) and healthy ones (only the lean series). About 40 s.
add_test(NAME e2e_dashboards_lean
         COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/paging/paging_test.sh $<TARGET_FILE:mailtls_exporter>
                 --profile lean --dashboards-only)
set_tests_properties(e2e_dashboards_lean PROPERTIES
  LABELS "world;alerts" FIXTURES_REQUIRED world RESOURCE_LOCK world TIMEOUT 300)
