#pragma once
// The fakes a domain-probe test drives observe_domain() with, by their short names: a resolver
// answering from a table, a policy fetcher, and a scripted SMTP server on loopback. A test says
// `using namespace probe_fakes;` inside its own namespace.

#include "tests/fakes/fake_policy_fetcher.h"
#include "tests/fakes/fake_resolver.h"
#include "tests/fakes/smtp_test_server.h"

namespace mailtls::domain::probe_fakes {

using testing::FakePolicyFetcher;
using testing::FakeResolver;
using testing::SmtpServerMode;
using testing::SmtpServerScript;
using testing::SmtpTestServer;

}  // namespace mailtls::domain::probe_fakes
