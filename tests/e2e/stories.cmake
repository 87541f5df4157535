# The sender-cache stories of issue 18 in real time (tests/world/stories.sh mutations):
# rollover done right (with an exporter restart), rollover too fast, an MX the cached MTA-STS
# policy does not cover, the dual-certificate MX, MTA-STS withdrawn; each judged by Prometheus and Alertmanager
# with the shipped rules. Included from tests/e2e/CMakeLists.txt. Needs /usr/bin/prometheus and
# /usr/bin/prometheus-alertmanager; runs about 3 minutes. See docs/stories-test.md.
add_test(NAME e2e_stories
         COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/stories/stories_test.sh $<TARGET_FILE:mailtls_exporter>)
set_tests_properties(e2e_stories PROPERTIES
  LABELS "world;alerts" FIXTURES_REQUIRED world RESOURCE_LOCK world TIMEOUT 420)
