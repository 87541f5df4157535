# Sourced by world.sh: the zones of the mailed TLS-RPT report test (tests/e2e/mail_dkim_world.sh).
# reporter.test is the reporting organisation; its DKIM keys are published by that test.
# shellcheck shell=bash
SIGNED_ZONES+=(reporter.test)
